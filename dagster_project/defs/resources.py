"""The one resource every QualityLoop asset uses: where the inbox and the home folder are."""

from pathlib import Path

import dagster as dg

from ..lib.settings import Settings


class QualityLoopPaths(dg.ConfigurableResource):
    """Inbox and home folder; defaults come from QLOOP_INBOX / QLOOP_HOME."""

    home: str
    inbox: str

    @classmethod
    def from_env(cls) -> "QualityLoopPaths":
        settings = Settings.from_env()
        return cls(home=str(settings.home), inbox=str(settings.inbox))

    @property
    def settings(self) -> Settings:
        return Settings(home=Path(self.home), inbox=Path(self.inbox))
