"""The `qloop` command line: exit codes, --home anywhere, --version, shell completion, one
line for bad input, the generate pass-through, stopping `qloop ui`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from .qloop_cli import QLOOP, SAMPLE, clean_env, free_port, qloop, wait_until_answering


def test_generate_defaults_are_the_committed_sample(tmp_path):
    result = qloop("generate", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in SAMPLE.iterdir())
    assert (tmp_path / "cc_call_20261001.csv").read_bytes() == (SAMPLE / "cc_call_20261001.csv").read_bytes()


def test_run_refuses_a_missing_inbox_with_a_clear_message(tmp_path):
    result = qloop("run", "--inbox", str(tmp_path / "nope"), "--home", str(tmp_path / "home"))

    assert result.returncode == 2
    assert "is not a folder" in result.stderr


def test_run_with_reference_files_only_completes_without_as_of_time(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ref_city.csv").write_bytes((SAMPLE / "ref_city.csv").read_bytes())

    result = qloop("run", "--inbox", str(inbox), "--home", str(tmp_path / "home"))

    assert result.returncode == 0, result.stderr
    assert "Files: 1 loaded" in result.stdout
    assert "no daily extract loaded yet" in result.stdout
    assert not list((tmp_path / "home" / "exports").glob("kpi_snapshot_*"))


def _live_members(group: int) -> list[int]:
    """Processes of a process group that still run (zombies, exited and not yet reaped by
    whoever adopted them, do not count)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            pids.append(int(stat.parent.name))
    return pids


def test_ui_started_with_sigint_ignored_stops_whole_on_sigterm(tmp_path):
    # `nohup qloop ui &`, or a script's background job: SIGINT is ignored, and dagster dev
    # gives SIGTERM SIGINT's handler. SIGTERM must still stop dagster dev, its webserver,
    # its daemon and its code servers.
    port = free_port()
    process = subprocess.Popen(
        [QLOOP, "ui", "--home", str(tmp_path / "home"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_env(), start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/server_info", process, 120)
        assert len(_live_members(process.pid)) >= 4  # dev, webserver, daemon, code server

        process.send_signal(signal.SIGTERM)

        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _live_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _live_members(process.pid) == []
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


def test_a_failed_run_says_which_step_and_why_in_one_line_and_keeps_the_last_good_run(
        sample_home, tmp_path):
    """A run that fails (here: a model of the dbt project that cannot build, as a bug would)
    prints one line (the step, dbt's error, the log) and no traceback, exits 1, and leaves
    the board's copy, the exports and the issue store as the last good run left them."""
    import hashlib
    import shutil

    from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES

    from .dbt_project_copy import project_copy
    from .qloop_cli import qloop_run

    source, _ = sample_home
    home = tmp_path / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.wal", "*.migrate.lock"))
    project = project_copy(tmp_path / "dbt")
    (project / "models" / "marts" / "kpi" / "fct_kpi_values.sql").write_text(
        "select * from a_table_nobody_made", encoding="utf-8")
    kept = ["board/board.duckdb", "issues.sqlite", *(
        str(p.relative_to(home)) for p in (home / "exports").rglob("*") if p.is_file())]

    def digests():
        return {name: hashlib.sha256((home / name).read_bytes()).hexdigest() for name in kept}

    before = digests()

    result = qloop_run(SAMPLE, home, project, overrides=DEMO_TARGET_OVERRIDES)

    assert result.returncode == 1
    # the progress lines of the run as it went (hh:mm:ss ...), then one line: the failure
    *progress, last = result.stderr.strip().splitlines()
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in progress), result.stderr
    lines = [last]
    assert "qualityloop_dbt_models" in lines[0] and "fct_kpi_values" in lines[0], lines[0]
    assert "Log: " in lines[0] and Path(lines[0].rsplit("Log: ", 1)[1]).is_file()
    assert "Traceback" not in result.stdout + result.stderr
    assert digests() == before


def test_commands_answer_bad_input_in_one_line_without_a_traceback(tmp_path):
    home = ["--home", str(tmp_path / "home")]
    cases = [
        (("issue", "99999999999999999999", "show"), "issue 99999999999999999999 does not exist"),
        (("change", "99999999999999999999", "show"), "change 99999999999999999999 does not exist"),
        (("issue", "0", "show"), "issue 0 does not exist"),
        (("issues", "list", "--state", "no_such_state"), "'open', 'acknowledged'"),
        (("issue", "abc", "show"), "'abc' is not a valid integer"),
    ]
    for args, message in cases:
        result = qloop(*args, *home)
        assert result.returncode != 0, args
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout, args


def test_usage_errors_are_one_line_and_exit_2(tmp_path):
    home = ["--home", str(tmp_path / "home")]
    cases = [
        (("issues", "list", "--severity", "P9"), "qloop issues: Invalid value for '--severity'"),
        (("issue", "1", "plan", "--user", "u", "--root-cause-category", "process",
          "--root-cause", "r", "--actions", "a", "--target-date", "2026-13-01"),
         "qloop issue: --target-date must be a date YYYY-MM-DD (got '2026-13-01')"),
        (("issue", "1", "cancel", "--user", "u", "--reason", "bored", "--note", "n"),
         "qloop issue: Invalid value for '--reason': 'bored' is not one of 'false_alarm'"),
        (("change", "1", "test", "--user", "qm"), "qloop change: give one of --pass or --veto"),
        (("change", "1", "test", "--user", "qm", "--pass", "--veto"),
         "qloop change: give one of --pass or --veto"),
        (("change", "register", "--user", "qm", "--title", "t", "--type", "nope"),
         "qloop change: Invalid value for '--type'"),
        (("users", "add", "someone"), "qloop users: Missing option '--role'"),
        (("users",), "qloop users: Missing command"),
        (("no-such-command",), "qloop: No such command 'no-such-command'"),
    ]
    for args, message in cases:
        result = qloop(*args, *home)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith(message), (args, result.stderr)
        assert result.stderr.count("\n") == 1, (args, result.stderr)
        assert result.stdout == "", args
    # nothing was made of any of them: not even the home folder
    assert not (tmp_path / "home").exists()


def test_home_is_accepted_before_and_after_the_command(tmp_path):
    import json

    first, second = tmp_path / "first", tmp_path / "second"
    added = qloop("--home", str(first), "users", "add", "early", "--role", "viewer",
                  "--password-stdin", input_text="early-pass-2026\n")
    assert added.returncode == 0, added.stderr
    added = qloop("users", "add", "late", "--role", "viewer", "--password-stdin",
                  "--home", str(second), input_text="late-pass-2026\n")
    assert added.returncode == 0, added.stderr

    def names(*args: str, env_extra: dict[str, str] | None = None) -> list[str]:
        result = qloop(*args, env_extra=env_extra)
        assert result.returncode == 0, (args, result.stderr)
        return [u["name"] for u in json.loads(result.stdout)]

    assert names("--home", str(first), "users", "list", "--json") == ["early"]
    assert names("users", "list", "--json", "--home", str(first)) == ["early"]
    assert names("users", "--home", str(second), "list", "--json") == ["late"]
    # QLOOP_HOME is the default of --home; a --home given anywhere wins, the last one most
    assert names("users", "list", "--json", env_extra={"QLOOP_HOME": str(second)}) == ["late"]
    assert names("users", "list", "--json", "--home", str(first),
                 env_extra={"QLOOP_HOME": str(second)}) == ["early"]
    assert names("--home", str(second), "users", "list", "--json", "--home", str(first)) == [
        "early"]


def test_version_is_the_installed_packages():
    from importlib.metadata import version

    result = qloop("--version")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"qloop, version {version('qualityloop')}\n"


def test_bash_completion_script_and_completions():
    script = qloop(env_extra={"_QLOOP_COMPLETE": "bash_source"})
    assert script.returncode == 0, script.stderr
    assert "complete -o nosort -F _qloop_completion qloop" in script.stdout

    def completions(words: str) -> list[str]:
        result = qloop(env_extra={"_QLOOP_COMPLETE": "bash_complete", "COMP_WORDS": words,
                                  "COMP_CWORD": str(len(words.split(" ")) - 1)})
        assert result.returncode == 0, result.stderr
        return [line.split(",", 1)[1] for line in result.stdout.splitlines()]

    assert completions("qloop iss") == ["issue", "issues"]
    assert completions("qloop issues list --state ") == [
        "open", "acknowledged", "in_progress", "verifying", "verified", "reopened", "closed",
        "cancelled"]
    assert completions("qloop hotspots promote --source ") == ["complaint", "call"]
