"""The dbt project: unit tests (every KPI formula at its boundaries) and data tests pass.

Runs `dbt build` (unit tests included) on an empty warehouse: the unit tests need only the
models' columns; the data tests then run on empty tables.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.lib.settings import DBT_PROJECT_DIR
from dagster_project.lib.warehouse import connect, ensure_schema

DBT = str(Path(sys.executable).with_name("dbt"))


@pytest.fixture(scope="module")
def dbt_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("dbt")
    con = connect(root / "warehouse.duckdb")
    ensure_schema(con)
    con.close()
    env = dict(os.environ, QLOOP_WAREHOUSE=str(root / "warehouse.duckdb"),
               DBT_TARGET_PATH=str(root / "target"), DO_NOT_TRACK="1")
    result = subprocess.run([DBT, "build", "--profiles-dir", "."], cwd=DBT_PROJECT_DIR, env=env,
                            capture_output=True, text=True, timeout=900)
    return result, root / "target"


def test_dbt_build_with_unit_tests_passes(dbt_build):
    result, _ = dbt_build
    assert result.returncode == 0, result.stdout[-5000:]
    assert "ERROR=0" in result.stdout


def test_every_kpi_of_the_catalog_has_a_unit_test(dbt_build):
    _, target = dbt_build
    manifest = json.loads((target / "manifest.json").read_text())
    unit_tests = [t for t in manifest["unit_tests"].values() if t["model"] == "int_kpi_records"]
    tested = " ".join(t["name"].lower() + " " + (t.get("description") or "").lower() for t in unit_tests)
    with open(DBT_PROJECT_DIR / "seeds" / "kpi_catalog.csv", encoding="utf-8") as handle:
        codes = [row["kpi_code"] for row in csv.DictReader(handle)]
    assert len(codes) == 15
    assert [c for c in codes if c.lower() not in tested] == []


def test_the_seed_is_the_spec_catalog():
    spec = Path(__file__).resolve().parents[2] / "shared" / "spec" / "kpi_catalog.csv"
    if not spec.exists():  # the spec sits beside the clone on CI and developer machines
        pytest.fail(f"spec catalog not found at {spec}")
    assert (DBT_PROJECT_DIR / "seeds" / "kpi_catalog.csv").read_bytes() == spec.read_bytes()
