"""Run the installed `qloop` command as a user would: a real process, no QLOOP_* leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

QLOOP = str(Path(sys.executable).with_name("qloop"))
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def qloop(*args: str, timeout: int = 900, input_text: str | None = None
          ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_")}
    return subprocess.run([QLOOP, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=input_text)


def qloop_run(inbox: Path, home: Path) -> subprocess.CompletedProcess:
    return qloop("run", "--inbox", str(inbox), "--home", str(home))
