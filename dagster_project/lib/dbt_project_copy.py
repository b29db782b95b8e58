"""A copy of the dbt project with other per-scope target overrides (issue 7, item 1).

The repository's seed `kpi_target_overrides.csv` is the deployment's table and ships empty:
until the quality department decides an override, every region is judged by the catalog,
exactly as closed-loop.md says. The demo shows overrides without touching that table: it
builds a copy of the project whose seed holds `data/demo/kpi_target_overrides.csv`, and the
pipeline builds the copy when `QLOOP_DBT_PROJECT` names it (lib/settings.py).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .settings import PROJECT_ROOT

REPOSITORY_PROJECT = PROJECT_ROOT / "dbt"
DEMO_OVERRIDES = PROJECT_ROOT / "data" / "demo" / "kpi_target_overrides.csv"
OVERRIDES_SEED = Path("seeds") / "kpi_target_overrides.csv"
CATALOG_SEED = Path("seeds") / "kpi_catalog.csv"
# dbt's own output and local state: never copied (a copy parses into its own target/).
NOT_COPIED = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")


class ProjectCopyError(RuntimeError):
    pass


def demo_project_path(home: Path) -> Path:
    return home / "dbt-demo"


def project_with_overrides(destination: Path, overrides_csv: str,
                           source: Path = REPOSITORY_PROJECT,
                           min_volume: int | None = None) -> Path:
    """Replace `destination` by a copy of `source` whose override seed is `overrides_csv`
    (the CSV text, header included), then `dbt parse` it: Dagster reads its manifest.
    `min_volume`, when given, replaces every KPI's minimum volume in the copy's catalog:
    a hand-made inbox of a few records is then judged on its values, not its volume."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(source, destination, ignore=NOT_COPIED)
    (destination / OVERRIDES_SEED).write_text(overrides_csv, encoding="utf-8")
    if min_volume is not None:
        _set_min_volume(destination / CATALOG_SEED, min_volume)
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run([str(dbt), "parse", "--profiles-dir", ".", "--quiet"],
                            cwd=destination, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, DO_NOT_TRACK="1"))
    if result.returncode != 0:
        raise ProjectCopyError(f"dbt parse of {destination} failed:\n"
                               f"{result.stdout}{result.stderr}")
    return destination


def _set_min_volume(catalog: Path, min_volume: int) -> None:
    rows = list(csv.DictReader(io.StringIO(catalog.read_text(encoding="utf-8"))))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "min_volume": str(min_volume)} for row in rows)
    catalog.write_text(out.getvalue(), encoding="utf-8")


def demo_project(home: Path) -> Path:
    """The home's demo copy of the project, built afresh (a parse, ~10 s): it then always
    matches the repository's models and the demo's overrides."""
    return project_with_overrides(demo_project_path(home),
                                  DEMO_OVERRIDES.read_text(encoding="utf-8"))
