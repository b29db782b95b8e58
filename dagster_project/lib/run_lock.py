"""One run at a time on a home: the warehouse admits one writer.

DuckDB lets one process hold a database file read-write, and every other process then
fails to open it at all. So every run of a home (`qloop run`, and runs the Dagster daemon
or UI launch) first takes an exclusive lock on `<home>/run.lock`; a second run waits for
it, saying whose run it waits for. The lock is the operating system's (flock): it goes
with the process that held it, also when that process is killed.

A process that holds the lock may take it again (`qloop run` holds it around its Dagster
run, whose resources take it too).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_FILE = "run.lock"
_held: set[Path] = set()  # the homes whose lock this process holds


def lock_path(home: Path) -> Path:
    return home / LOCK_FILE


@contextmanager
def one_run_at_a_time(home: Path, waiting: Callable[[str], object]) -> Iterator[None]:
    """Hold the home's run lock while the block runs. When another process holds it,
    `waiting` is told once whose run this one waits for, and the wait lasts until that run
    has ended."""
    home = home.resolve()
    if home in _held:
        yield
        return
    home.mkdir(parents=True, exist_ok=True)
    with open(lock_path(home), "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "its process is starting"
            waiting(f"waiting for the run in progress on this home ({holder})")
            fcntl.flock(handle, fcntl.LOCK_EX)
            waiting("the run in progress on this home has ended: this run goes on")
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}, since {datetime.now():%H:%M}\n")
        handle.flush()
        _held.add(home)
        try:
            yield
        finally:
            _held.discard(home)
            handle.truncate(0)
            handle.flush()
