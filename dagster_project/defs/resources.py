"""The one resource every QualityLoop asset uses: where the inbox and the home folder are."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from ..lib.progress import PROGRESS
from ..lib.run_lock import one_run_at_a_time
from ..lib.settings import Settings


class QualityLoopPaths(dg.ConfigurableResource):
    """Inbox and home folder; defaults come from QLOOP_INBOX / QLOOP_HOME.

    A run holds the home's run lock while it executes (lib/run_lock.py): every run passes
    here, whoever launched it (`qloop run`, the daemon's schedules and sensor, the UI), and
    a second run of the same home waits for the first instead of failing on the
    warehouse's lock. A sensor's evaluation (no run) takes no lock."""

    home: str
    inbox: str

    @classmethod
    def from_env(cls) -> "QualityLoopPaths":
        settings = Settings.from_env()
        return cls(home=str(settings.home), inbox=str(settings.inbox))

    @property
    def settings(self) -> Settings:
        return Settings(home=Path(self.home), inbox=Path(self.inbox))

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["QualityLoopPaths"]:
        if context.run is None:
            yield self
            return
        with one_run_at_a_time(self.settings.home, PROGRESS.info):
            yield self
