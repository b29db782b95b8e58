"""Run the installed `qloop` command as a user would: a real process, no QLOOP_* leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

QLOOP = str(Path(sys.executable).with_name("qloop"))
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def qloop(*args: str, timeout: int = 900, input_text: str | None = None,
          env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_")}
    env.update(env_extra or {})
    return subprocess.run([QLOOP, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=input_text)


def qloop_run(inbox: Path, home: Path, project: Path | None = None
              ) -> subprocess.CompletedProcess:
    """`qloop run`; with project, on that copy of the dbt project (QLOOP_DBT_PROJECT). A home
    with the demo's copy (`qloop demo-project`, the sample home) is run on it, as `make demo`
    runs it."""
    if project is None and (home / "dbt-demo").is_dir():
        project = home / "dbt-demo"
    env_extra = {"QLOOP_DBT_PROJECT": str(project)} if project else None
    return qloop("run", "--inbox", str(inbox), "--home", str(home), env_extra=env_extra)


def redelivered(path: Path) -> None:
    """Make an inbox file a re-delivery: a later modification time (with its new bytes)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def dbt(*args: str, warehouse: Path, target: Path, project: Path,
        timeout: int = 600) -> subprocess.CompletedProcess:
    """`dbt <args>` of `project` over one warehouse file, with its own target folder."""
    env = dict(os.environ, DO_NOT_TRACK="1", QLOOP_WAREHOUSE=str(warehouse),
               DBT_TARGET_PATH=str(target))
    return subprocess.run([str(Path(sys.executable).with_name("dbt")), *args, "--profiles-dir", "."],
                          cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
