"""What a run is doing, as it goes: one named Python logger.

`qloop run` prints this logger's lines on the terminal while the run works (its other
output goes to the run's log file); Dagster records them with the run's events
(`python_logs: managed_python_loggers` in the generated dagster.yaml), so the UI shows
them too.
"""

from __future__ import annotations

import logging

PROGRESS = logging.getLogger("qualityloop.progress")
PROGRESS.setLevel(logging.INFO)

# How often a count is told: at every tenth of the total, and at its end.
STEPS = 10


class Count:
    """`<what> n of N`, told at each tenth of N and at N."""

    def __init__(self, what: str, total: int = 0):
        self.what, self.total, self.done = what, total, 0

    def advance(self) -> None:
        self.update(self.done + 1)

    def update(self, done: int, total: int | None = None) -> None:
        """`done` of `total` (the total known so far unless given)."""
        if total is not None:
            self.total = total
        before, self.done = self.done, min(done, self.total)
        if self.total and self.done * STEPS // self.total > before * STEPS // self.total:
            PROGRESS.info(f"{self.what} {self.done} of {self.total}")
