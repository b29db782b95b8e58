"""Run the installed `qloop` command as a user would: a real process, no QLOOP_* leaking in."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_project.lib.settings import (
    DBT_PROJECT_DIR, DEMO_TARGET_OVERRIDES, TARGET_OVERRIDES_ENV,
)

QLOOP = str(Path(sys.executable).with_name("qloop"))
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its QLOOP_* settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_")}
    env.update(extra or {})
    return env


def qloop(*args: str, timeout: int = 900, input_text: str | None = None,
          env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([QLOOP, *args], capture_output=True, text=True, env=clean_env(env_extra),
                          timeout=timeout, input=input_text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float,
                         output: Path | None = None) -> None:
    """Wait until `url` answers; fail with the server's output (its pipe, or the file
    `output`) when it exits first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                output = (output.read_text(errors="replace") if output else
                          process.stdout.read().decode() if process.stdout else "")
                raise RuntimeError(f"the server exited before {url} answered\n{output}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {seconds:.0f} s") from None
            time.sleep(0.3)


BOARD_SECRET = "test-secret-not-for-production"


@contextmanager
def served_board(home: Path, env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """`qloop board` over `home` on a free port (waitress): its URL while the block runs,
    then the server is stopped. `env_extra`: more settings of its environment."""
    port = free_port()
    # The server's output goes to a file: a pipe nobody reads would fill up with its log
    # and stop the server mid-request.
    output = Path(tempfile.mkdtemp(prefix="qloop-board-")) / "board.log"
    with open(output, "wb") as log:
        process = subprocess.Popen(
            [QLOOP, "board", "--home", str(home), "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=clean_env({"QLOOP_BOARD_SECRET": BOARD_SECRET, **(env_extra or {})}))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{url}/healthz", process, 60, output)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        shutil.rmtree(output.parent, ignore_errors=True)


def overrides_env(overrides: str | None) -> dict[str, str]:
    """The environment that makes `qloop` judge by the set of per-scope targets `overrides`
    (a folder of the dbt project's target_overrides/; None: the deployment's, empty)."""
    return {TARGET_OVERRIDES_ENV: overrides} if overrides else {}


# The sample home and its copies are built as `make demo` builds them: by the demo's targets.
DEMO_TARGETS = overrides_env(DEMO_TARGET_OVERRIDES)


def qloop_run(inbox: Path, home: Path, project: Path | None = None,
              overrides: str | None = None) -> subprocess.CompletedProcess:
    """`qloop run`; on another copy of the dbt project (QLOOP_DBT_PROJECT) and by another
    set of per-scope targets (QLOOP_TARGET_OVERRIDES) when given."""
    env_extra = {"QLOOP_DBT_PROJECT": str(project)} if project else {}
    return qloop("run", "--inbox", str(inbox), "--home", str(home),
                 env_extra={**env_extra, **overrides_env(overrides)})


def redelivered(path: Path) -> None:
    """Make an inbox file a re-delivery: a later modification time (with its new bytes)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def dbt(*args: str, warehouse: Path, target: Path, project: Path = DBT_PROJECT_DIR,
        timeout: int = 600, overrides: str | None = None) -> subprocess.CompletedProcess:
    """`dbt <args>` of `project` over one warehouse file, with its own target folder (by
    the set of per-scope targets `overrides`, when given)."""
    env = dict(clean_env(overrides_env(overrides)), DO_NOT_TRACK="1",
               QLOOP_WAREHOUSE=str(warehouse), DBT_TARGET_PATH=str(target))
    return subprocess.run([str(Path(sys.executable).with_name("dbt")), *args, "--profiles-dir", "."],
                          cwd=project, env=env, capture_output=True, text=True, timeout=timeout)


def kpi_values(home: Path) -> list[tuple]:
    """Every row of a home's fct_kpi_values, in one order."""
    import duckdb

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select * from fct_kpi_values order by all").fetchall()
    finally:
        con.close()
