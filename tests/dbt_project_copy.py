"""A copy of the dbt project, for the tests that need a project the product cannot be told
to build: another catalog (every KPI's min_volume) or an edited model. Other per-scope
targets need no copy: `QLOOP_TARGET_OVERRIDES` names their folder (qloop_cli.qloop_run's
overrides)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_project.lib.settings import PROJECT_ROOT

CATALOG_SEED = Path("seeds") / "kpi_catalog.csv"
# dbt's output and local state: never copied (a copy parses into its own target/).
NOT_COPIED = shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")


def project_copy(destination: Path, min_volume: int | None = None) -> Path:
    """Replace `destination` by a copy of the repository's dbt project, then `dbt parse` it
    (Dagster reads its manifest; run the pipeline on it with QLOOP_DBT_PROJECT).
    `min_volume`, when given, replaces every KPI's minimum volume in the copy's catalog: a
    hand-made inbox of a few records is then judged on its values, not its volume."""
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(PROJECT_ROOT / "dbt", destination, ignore=NOT_COPIED)
    if min_volume is not None:
        catalog = destination / CATALOG_SEED
        rows = list(csv.DictReader(io.StringIO(catalog.read_text(encoding="utf-8"))))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "min_volume": str(min_volume)} for row in rows)
        catalog.write_text(out.getvalue(), encoding="utf-8")
    parsed = subprocess.run([str(Path(sys.executable).with_name("dbt")), "parse", "--profiles-dir",
                             ".", "--quiet"], cwd=destination, capture_output=True, text=True,
                            timeout=600, env=dict(os.environ, DO_NOT_TRACK="1"))
    assert parsed.returncode == 0, f"dbt parse of {destination}:\n{parsed.stdout}{parsed.stderr}"
    return destination
