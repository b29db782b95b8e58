"""The dbt project: unit tests (every KPI formula at its boundaries) and data tests pass.

Runs `dbt build` (unit tests included) on an empty warehouse: the unit tests need only the
models' columns; the data tests then run on empty tables.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
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


def _key_columns(combination: list[str]) -> list[tuple[str, bool]] | None:
    """(column, NULL read as '') for each part of a uniqueness key; None when a part is an
    expression other than `coalesce(column, '')`."""
    parts = []
    for part in combination:
        found = re.fullmatch(r"coalesce\((\w+),\s*''\)", part.strip())
        if found:
            parts.append((found.group(1), True))
        elif re.fullmatch(r"\w+", part.strip()):
            parts.append((part.strip(), False))
        else:
            return None
    return parts


def _expected_rows(unit_test: dict) -> list[dict] | None:
    expect = unit_test["expect"]
    if expect["format"] == "dict":
        return expect["rows"]
    if expect["format"] == "csv" and isinstance(expect["rows"], str):
        return list(csv.DictReader(io.StringIO(expect["rows"])))
    return None


def test_the_rows_a_models_unit_tests_expect_pass_its_uniqueness_tests(dbt_build):
    """A model's unit tests show rows it must produce (a red ISO week and its red Monday, say);
    its uniqueness data test must accept them, or real data like that fails the whole run."""
    _, target = dbt_build
    manifest = json.loads((target / "manifest.json").read_text())
    keys: dict[str, list[list[tuple[str, bool]]]] = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if meta.get("name") == "unique_combination_of_columns" and node.get("attached_node"):
            key = _key_columns(meta["kwargs"]["combination_of_columns"])
            if key:
                keys.setdefault(node["attached_node"].split(".")[-1], []).append(key)
    judged = 0
    for unit_test in manifest["unit_tests"].values():
        rows = _expected_rows(unit_test)
        for key in keys.get(unit_test["model"], []) if rows else []:
            if not all(column in row for row in rows for column, _ in key):
                continue  # the unit test leaves a key column out: nothing to judge
            values = [tuple((row[c] if row[c] is not None else "") if blank else row[c]
                            for c, blank in key) for row in rows]
            duplicates = {v for v in values if values.count(v) > 1}
            assert not duplicates, (unit_test["name"], [c for c, _ in key], duplicates)
            judged += 1
    assert judged >= 10
