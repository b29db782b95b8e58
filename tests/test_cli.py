"""The `qloop` command line: exit codes, the generate pass-through, stopping `qloop ui`."""

from __future__ import annotations

import os
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
