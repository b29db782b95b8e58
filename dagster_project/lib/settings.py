"""Where things live. Configuration comes from the environment; the CLI sets it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The dbt project the pipeline builds: the repository's, unless QLOOP_DBT_PROJECT names
# another (a deployment's fork of it). Read once at import: a process builds one project.
DBT_PROJECT_ENV = "QLOOP_DBT_PROJECT"
DBT_PROJECT_DIR = Path(os.environ.get(DBT_PROJECT_ENV) or PROJECT_ROOT / "dbt").resolve()
# The set of per-scope targets a run judges by: a folder of the dbt project's
# target_overrides/ holding kpi_target_overrides.csv, `deployment` (shipped empty) unless
# QLOOP_TARGET_OVERRIDES names another; dbt reads the same variable (seed-paths).
TARGET_OVERRIDES_ENV = "QLOOP_TARGET_OVERRIDES"
DEFAULT_TARGET_OVERRIDES, DEMO_TARGET_OVERRIDES = "deployment", "demo"
OVERRIDES_FILE = "kpi_target_overrides.csv"
DEFAULT_INBOX = PROJECT_ROOT / "data" / "sample"
DEFAULT_HOME = PROJECT_ROOT / ".qloop"

HOME_ENV, INBOX_ENV, ISSUES_URL_ENV = "QLOOP_HOME", "QLOOP_INBOX", "QLOOP_ISSUES_URL"
# Where people open the board (`qloop board` serves it on 127.0.0.1:8050 by default): the
# Dagster UI links the GX Data Docs the board serves under /data-docs/.
BOARD_URL_ENV, DEFAULT_BOARD_URL = "QLOOP_BOARD_URL", "http://127.0.0.1:8050"


@dataclass(frozen=True)
class Settings:
    home: Path
    inbox: Path

    @classmethod
    def from_env(cls) -> "Settings":
        home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).resolve()
        inbox = Path(os.environ.get(INBOX_ENV) or DEFAULT_INBOX).resolve()
        return cls(home=home, inbox=inbox)

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def exports(self) -> Path:
        return self.home / "exports"

    @property
    def runs(self) -> Path:
        """Per-run reports (what happened to each file), read by the CLI summary."""
        return self.home / "runs"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def issues_url(self) -> str:
        """The issue store: `QLOOP_ISSUES_URL` (any SQLAlchemy URL), else SQLite in the home."""
        return os.environ.get(ISSUES_URL_ENV) or f"sqlite:///{self.home / 'issues.sqlite'}"

    @property
    def board_url(self) -> str:
        return (os.environ.get(BOARD_URL_ENV) or DEFAULT_BOARD_URL).rstrip("/")

    @property
    def data_docs_url(self) -> str:
        """The GX Data Docs as the board serves them (behind its login)."""
        return f"{self.board_url}/data-docs/"

    @property
    def closure_lists(self) -> Path:
        return self.exports / "closure_lists"

    @property
    def dbt_target(self) -> Path:
        """dbt artifacts of pipeline runs (reused, so dbt parses only what changed)."""
        return self.home / "dbt-target"

    @property
    def dbt_state(self) -> Path:
        """The manifest of the last completed main dbt build (dbt's `--state`)."""
        return self.home / "dbt-state"


DAGSTER_YAML = """\
# Written by QualityLoop (docs/deployment.md): Dagster's own SQLite storage in this folder;
# one run at a time (the warehouse admits one writer); the runs' progress lines (Python
# logger qualityloop.progress) kept with their events; telemetry off.
storage:
  sqlite:
    base_dir:
      env: DAGSTER_HOME
concurrency:
  runs:
    max_concurrent_runs: 1
python_logs:
  managed_python_loggers:
    - qualityloop.progress
telemetry:
  enabled: false
"""
# What earlier versions wrote: a home still holding one of them exactly gets the current one.
# A file someone edited (e.g. PostgreSQL storage, docs/deployment.md) is theirs: kept.
# The custom storage of an earlier version kept Dagster's SQLite layout (history/,
# schedules/ under DAGSTER_HOME), which `storage: sqlite:` reads as it is: no run is lost.
EARLIER_DAGSTER_YAMLS = (
    "# Written by QualityLoop: run storage lives here (SQLite), telemetry is off.\n"
    "telemetry:\n  enabled: false\n",
    "# Written by QualityLoop: run storage lives here (SQLite), telemetry is off.\n"
    "# Dagster's SQLite layout (history/, schedules/), with event writes that reuse their\n"
    "# engine and skip the fsync (dagster_project/defs/storage.py).\n"
    "storage:\n  custom:\n    module: dagster_project.defs.storage\n"
    "    class: QualityLoopSqliteStorage\n    config:\n      base_dir:\n"
    "        env: DAGSTER_HOME\ntelemetry:\n  enabled: false\n",
)


def prepare_home(settings: Settings) -> None:
    """Create the home folder and a Dagster instance config with telemetry off."""
    for folder in (settings.home, settings.exports, settings.runs, settings.dagster_home):
        folder.mkdir(parents=True, exist_ok=True)
    dagster_yaml = settings.dagster_home / "dagster.yaml"
    current = dagster_yaml.read_text() if dagster_yaml.exists() else None
    if current is None or current in EARLIER_DAGSTER_YAMLS:
        dagster_yaml.write_text(DAGSTER_YAML)


def target_overrides_set() -> str:
    return os.environ.get(TARGET_OVERRIDES_ENV) or DEFAULT_TARGET_OVERRIDES


def target_overrides_file(name: str | None = None) -> Path:
    """The kpi_target_overrides.csv of set `name` (default: the one this process runs by)."""
    return DBT_PROJECT_DIR / "target_overrides" / (name or target_overrides_set()) / OVERRIDES_FILE


def target_overrides_sets() -> list[str]:
    """The sets the project holds."""
    return sorted(p.parent.name for p in (DBT_PROJECT_DIR / "target_overrides").glob(
        f"*/{OVERRIDES_FILE}"))
