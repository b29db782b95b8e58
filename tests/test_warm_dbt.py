"""`qloop-dbt` and the warm dbt server (dagster_project/lib/warm_dbt.py): real processes
running the real dbt on a tiny dbt project of their own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.warm_dbt import SOCKET_ENV, WarmDbt, real_dbt, serving
from tests.qloop_cli import clean_env

QLOOP_DBT = str(Path(sys.executable).with_name("qloop-dbt"))
# 10^11 rows to sum: minutes of work, so the invocation is still running when signalled.
SLOW_MACRO = """{% macro slow() %}
{% do run_query("select sum(range) from range(100000000000)") %}
{% endmacro %}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A dbt project with one good model, one that fails, and a slow macro."""
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    (root / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n", encoding="utf-8")
    (root / "profiles.yml").write_text(
        f"tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'tiny.duckdb'}\n      threads: 1\n", encoding="utf-8")
    (root / "models" / "one.sql").write_text("select 1 as a\n", encoding="utf-8")
    (root / "models" / "broken.sql").write_text("select * from no_such_table\n", encoding="utf-8")
    (root / "macros" / "slow.sql").write_text(SLOW_MACRO, encoding="utf-8")
    return root


@pytest.fixture
def server():
    warm = WarmDbt()
    warm.start()
    try:
        yield warm
    finally:
        warm.stop()


def _env(project: Path, socket_path: str | None) -> dict[str, str]:
    env = clean_env({"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                     "DBT_PROFILES_DIR": str(project)})
    if socket_path:
        env[SOCKET_ENV] = socket_path
    return env


def _dbt(executable: str, project: Path, *args: str, socket_path: str | None = None):
    return subprocess.run([executable, *args], cwd=project, env=_env(project, socket_path),
                          capture_output=True, text=True, timeout=300)


def _served_pids(warm: WarmDbt) -> list[int]:
    return [int(p) for p in re.findall(r"dbt invocation in process (\d+)", warm.log())]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_without_a_server_qloop_dbt_is_the_real_dbt(project, tmp_path):
    real = _dbt(real_dbt(), project, "--version")
    for socket_path in (None, str(tmp_path / "nobody-listens")):
        launched = _dbt(QLOOP_DBT, project, "--version", socket_path=socket_path)
        assert launched.returncode == real.returncode == 0
        assert launched.stdout == real.stdout and "installed" in real.stdout


def test_the_server_runs_each_invocation_in_its_own_fork_with_dbts_exit_codes(project, server):
    socket_path = os.environ[SOCKET_ENV]
    built = _dbt(QLOOP_DBT, project, "build", "--select", "one", socket_path=socket_path)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Completed successfully" in built.stdout
    with duckdb.connect(str(project.parent / "tiny.duckdb"), read_only=True) as con:
        assert con.sql("select a from one").fetchall() == [(1,)]
    # A failing model and a usage error: the exit codes of the real dbt (1 and 2).
    for args in (("build", "--select", "broken"), ("build", "--no-such-flag")):
        real = _dbt(real_dbt(), project, *args)
        served = _dbt(QLOOP_DBT, project, *args, socket_path=socket_path)
        assert served.returncode == real.returncode != 0, served.stdout + served.stderr
    assert "no_such_table" in _dbt(QLOOP_DBT, project, "build", "--select", "broken",
                                   socket_path=socket_path).stdout
    pids = _served_pids(server)
    assert len(pids) == 4 and len(set(pids)) == 4, server.log()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_launcher_stops_its_dbt(project, server, signum):
    """SIGTERM (and SIGINT, the same forwarding) reaches the dbt process; a launcher killed
    outright takes it along, so no dbt is left holding the warehouse."""
    launcher = subprocess.Popen(
        [QLOOP_DBT, "run-operation", "slow"], cwd=project,
        env=_env(project, os.environ[SOCKET_ENV]),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait(lambda: _served_pids(server), 60), server.log()
        child = _served_pids(server)[0]
        time.sleep(3)  # dbt has started its query
        assert _alive(child) and launcher.poll() is None
        launcher.send_signal(signum)
        launcher.wait(timeout=30)
        assert _wait(lambda: not _alive(child), 30), f"dbt process {child} outlived its launcher"
        if signum == signal.SIGTERM:
            assert launcher.returncode == 1
            assert "ended without an exit status" in launcher.stderr.read()
    finally:
        if launcher.poll() is None:
            launcher.kill()


def test_a_server_that_cannot_import_dbt_leaves_each_invocation_to_the_real_dbt(
        project, tmp_path, monkeypatch):
    fake = tmp_path / "fake" / "dbt"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no dbt in this server')\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    warm = WarmDbt()
    try:
        assert warm.start()  # it listens before it imports
        assert _wait(lambda: warm.process.poll() is not None, 60)
        assert "no dbt in this server" in warm.log()
        monkeypatch.delenv("PYTHONPATH")
        real = _dbt(real_dbt(), project, "--version")
        launched = _dbt(QLOOP_DBT, project, "--version", socket_path=os.environ[SOCKET_ENV])
        assert launched.returncode == real.returncode == 0
        assert launched.stdout == real.stdout
    finally:
        warm.stop()
    assert SOCKET_ENV not in os.environ and not warm.folder


def test_serving_starts_a_server_for_its_block_unless_one_serves_already(project, server):
    """`qloop run` starts the server before its Dagster imports; the run's dbt resource
    then serves from it instead of starting a second one."""
    outer = os.environ[SOCKET_ENV]
    with serving():
        assert os.environ[SOCKET_ENV] == outer
    assert os.environ[SOCKET_ENV] == outer and server.process.poll() is None
    server.stop()
    with serving():
        inner = os.environ[SOCKET_ENV]
        assert inner != outer and Path(inner).exists()
        served = _dbt(QLOOP_DBT, project, "--version", socket_path=inner)
        assert served.returncode == 0 and "installed" in served.stdout
    assert SOCKET_ENV not in os.environ and not Path(inner).exists()


@pytest.mark.parametrize("whole_group", [False, True])
def test_a_killed_run_leaves_no_server_and_no_socket_folder(whole_group):
    """Killed alone (the OOM killer) or with its process group (a service manager's stop):
    either way the server sees its stdin close, ends and removes its folder."""
    owner = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from dagster_project.lib.warm_dbt import WarmDbt\n"
         "w = WarmDbt(); assert w.start(); print(w.folder, w.process.pid, flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, env=clean_env(), start_new_session=True,
        cwd=Path(__file__).resolve().parents[1])
    try:
        folder, pid = owner.stdout.readline().split()
        assert Path(folder, "socket").exists() and _alive(int(pid))
    finally:
        if whole_group:
            os.killpg(owner.pid, signal.SIGKILL)
        else:
            owner.kill()
        owner.wait()
    assert _wait(lambda: not _alive(int(pid)), 30), "the server outlived its run"
    assert _wait(lambda: not Path(folder).exists(), 30), f"{folder} was left behind"


def test_a_venv_without_qloop_dbt_runs_the_real_dbt(tmp_path, monkeypatch):
    """A checkout installed before `qloop-dbt` existed still runs its builds (cold)."""
    from dagster_project.defs.transform.dbt import dbt_resource

    venv_bin = tmp_path / "bin"
    venv_bin.mkdir()
    (venv_bin / "dbt").touch(mode=0o755)
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    assert dbt_resource().dbt_executable == str(venv_bin / "dbt")
    (venv_bin / "qloop-dbt").touch(mode=0o755)
    assert dbt_resource().dbt_executable == str(venv_bin / "qloop-dbt")
