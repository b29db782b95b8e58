"""A copy of the dbt project with other per-scope target overrides (issue 7, item 1).

The repository's seed `kpi_target_overrides.csv` is the deployment's table and ships empty:
until the quality department decides an override, every region is judged by the catalog,
exactly as closed-loop.md says. The demo shows overrides without touching that table: it
builds a copy of the project whose seed holds `data/demo/kpi_target_overrides.csv`, and the
pipeline builds the copy when `QLOOP_DBT_PROJECT` names it (lib/settings.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .settings import PROJECT_ROOT

REPOSITORY_PROJECT = PROJECT_ROOT / "dbt"
DEMO_OVERRIDES = PROJECT_ROOT / "data" / "demo" / "kpi_target_overrides.csv"
OVERRIDES_SEED = Path("seeds") / "kpi_target_overrides.csv"
# dbt's own output and local state: never copied (a copy parses into its own target/).
NOT_COPIED = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")


class ProjectCopyError(RuntimeError):
    pass


def demo_project_path(home: Path) -> Path:
    return home / "dbt-demo"


def project_with_overrides(destination: Path, overrides_csv: str,
                           source: Path = REPOSITORY_PROJECT) -> Path:
    """Replace `destination` by a copy of `source` whose override seed is `overrides_csv`
    (the CSV text, header included), then `dbt parse` it: Dagster reads its manifest."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(source, destination, ignore=NOT_COPIED)
    (destination / OVERRIDES_SEED).write_text(overrides_csv, encoding="utf-8")
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run([str(dbt), "parse", "--profiles-dir", ".", "--quiet"],
                            cwd=destination, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, DO_NOT_TRACK="1"))
    if result.returncode != 0:
        raise ProjectCopyError(f"dbt parse of {destination} failed:\n"
                               f"{result.stdout}{result.stderr}")
    return destination


def demo_project(home: Path) -> Path:
    """The home's demo copy of the project, built afresh (a parse, ~10 s): it then always
    matches the repository's models and the demo's overrides."""
    return project_with_overrides(demo_project_path(home),
                                  DEMO_OVERRIDES.read_text(encoding="utf-8"))
