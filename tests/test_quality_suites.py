"""The expectation suites (expectations/*.json), their metric frames, the asset checks in
the definitions, and the snapshot's "last good values" rule, without a pipeline run
(except the frames, which use the session's sample home)."""

from __future__ import annotations

import csv
import json
import re

import dagster as dg
import duckdb
import pytest

from dagster_project.definitions import PIPELINE_JOB, defs
from dagster_project.lib.extracts import ENTITIES
from dagster_project.lib.quality.metrics import metric_frame
from dagster_project.lib.quality.suites import BLOCKING, SUITES_DIR, SuiteError, load_suites, parse_suite
from dagster_project.lib.snapshot import PUBLISHED_TABLE, export_snapshot
from dagster_project.lib.warehouse import connect

SUITES = load_suites()


def test_one_hand_written_suite_per_raw_entity_without_generated_state():
    assert sorted(s.name for s in SUITES) == sorted(e.table for e in ENTITIES)
    for path in SUITES_DIR.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", text), path  # no UUIDs
        assert '"id"' not in text, path
    assert sorted(p.name for p in SUITES_DIR.iterdir()) == sorted(f"{s.name}.json" for s in SUITES)


def test_every_expectation_has_a_severity_and_a_reason():
    for suite in SUITES:
        assert suite.expectations, suite.name
        for exp in suite.expectations:
            assert exp["meta"]["severity"] in ("blocking", "warning", "count") and exp["meta"]["why"], (suite.name, exp)
    # what the suites must check somewhere (docs/quality.md)
    columns = {e["kwargs"].get("column") for s in SUITES for e in s.expectations}
    assert {"volume_ratio", "reconciles", "dup_keys", "share_rule_4", "wifi_share",
            "wait_p90_min"} <= columns
    assert any(c.startswith("null_share_") for c in columns)
    # a 50 % volume drop and a broken reconciliation block their source
    daily = [s for s in SUITES if s.entity.kind == "daily"]
    for suite in daily:
        sev = {(e["kwargs"].get("column"), e["kwargs"].get("min_value")): e["meta"]["severity"]
               for e in suite.expectations}
        assert sev[("volume_ratio", 0.5)] == BLOCKING, suite.name


def test_a_suite_without_severity_or_with_a_generated_id_is_refused():
    good = json.loads((SUITES_DIR / "raw_cc_call.json").read_text())
    bad = json.loads(json.dumps(good))
    del bad["expectations"][0]["meta"]["severity"]
    with pytest.raises(SuiteError, match="severity"):
        parse_suite(bad)
    bad = json.loads(json.dumps(good))
    bad["expectations"][0]["id"] = "1b2c"
    with pytest.raises(SuiteError, match="generated id"):
        parse_suite(bad)
    bad = json.loads(json.dumps(good))
    bad["meta"]["kpi_sources"] = ["hotline"]
    with pytest.raises(SuiteError, match="kpi_sources"):
        parse_suite(bad)


def test_every_suite_counts_the_rejects_of_every_rule(sample_home):
    """The sums the Data Docs show are the records each rule rejected (section 6), and the
    records that could not be split into fields, over the files in force."""
    home, _ = sample_home
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        latest = con.execute("select run_id from qa_suite_results order by checked_at desc "
                             "limit 1").fetchone()[0]
        observed = {(entity, column): float(value) for entity, column, value in con.execute(
            "select entity, column_name, observed_value from qa_expectation_results "
            "where run_id = ? and severity = 'count'", [latest]).fetchall()}
        assert {column for _, column in observed} == {
            *(f"rejected_rule_{n}" for n in range(1, 8)), "rows_unparsed"}
        for suite in SUITES:
            by_rule = dict(con.execute("select rule, count(*) from fct_rejected_rows "
                                       "where entity = ? and not unparsed group by 1",
                                       [suite.entity.prefix]).fetchall())
            for n in range(1, 8):
                assert observed[(suite.entity.prefix, f"rejected_rule_{n}")] == by_rule.get(n, 0)
            unparsed = con.execute("select count(*) from raw_unparsed_records where entity = ?",
                                   [suite.entity.prefix]).fetchone()[0]
            assert observed[(suite.entity.prefix, "rows_unparsed")] == unparsed
        # the sample's planted faults are counted, not only zeros
        assert sum(observed.values()) == con.execute(
            "select count(*) from fct_rejected_rows").fetchone()[0] > 0
    finally:
        con.close()


def test_the_frames_have_every_column_the_expectations_judge(sample_home):
    home, _ = sample_home
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        for suite in SUITES:
            frame = metric_frame(con, suite)
            assert len(frame) == con.execute("select count(*) from raw_files where entity = ?",
                                             [suite.entity.prefix]).fetchone()[0]
            for exp in suite.expectations:
                column = exp["kwargs"].get("column")
                assert column is None or column in frame.columns, (suite.name, column)
    finally:
        con.close()


def test_the_sample_passes_every_blocking_expectation_and_reports_its_faults(sample_home):
    home, result = sample_home
    run_line = next(x for x in result.stdout.splitlines() if "file report" in x)
    run_id = run_line.split("/")[-1].removesuffix(".ingest.json")
    q = json.loads((home / "runs" / f"{run_id}.quality.json").read_text())
    assert q["suite_count"] == 15 and q["withheld_sources"] == []
    assert q["blocking_failed"] == 0 and q["warnings_failed"] > 0
    assert "Quality: 15 suites" in result.stdout and "NOT PUBLISHED" not in result.stdout
    # the planted missing day and the whole-file rejects leave days missing, named
    assert "net_speed_test 2026-10-12 (not delivered)" in result.stdout
    with open(home / "runs" / f"{run_id}.rejects.csv", encoding="utf-8-sig", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert ("cc_call_20261012.csv", "12", "3") in {(r["file_name"], r["line"], r["rule"]) for r in rejects}
    assert ("crm_survey_20261018.csv", "", "file") in {(r["file_name"], r["line"], r["rule"]) for r in rejects}
    assert (home / "data-docs" / "index.html").exists()


def test_each_suite_and_freshness_is_an_asset_check_of_the_pipeline_job():
    job = defs.resolve_job_def(PIPELINE_JOB)
    checks = job.asset_layer.asset_graph.asset_check_keys
    suites = {k.asset_key.to_user_string() for k in checks if k.name == "quality_suite"}
    fresh = {k.asset_key.to_user_string() for k in checks if k.name == "freshness"}
    assert suites == {e.table for e in ENTITIES}
    assert fresh == {e.table for e in ENTITIES if e.kind in ("daily", "monthly")}
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("kpi_snapshot_export")).parent_keys}
    assert "qa_suite_results" in parents  # the export waits for the verdicts
    assert graph.get(dg.AssetKey("qa_suite_results")).group_name == "quality"


def _tiny_warehouse(con: duckdb.DuckDBPyConnection, k01: str, k02: str) -> None:
    con.execute("create or replace table int_as_of as select date '2026-10-01' as report_date")
    con.execute("create or replace table kpi_catalog (kpi_code varchar, source_system varchar)")
    con.execute("insert into kpi_catalog values ('K01', 'crm'), ('K02', 'call_center')")
    con.execute("create or replace table fct_kpi_snapshot (period_type varchar, period_start varchar, "
                "kpi_code varchar, region_code varchar, numerator bigint, denominator bigint, "
                "value varchar, status varchar, sort_key bigint)")
    con.execute("insert into fct_kpi_snapshot values ('day', '2026-10-01', 'K01', 'JS', 1, 2, ?, 'red', 1), "
                "('day', '2026-10-01', 'K02', 'JS', 1, 2, ?, 'red', 2)", [k01, k02])


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {r["kpi_code"]: r["value"] for r in csv.DictReader(handle)}


def test_a_withheld_source_keeps_its_last_good_values(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    exports = tmp_path / "exports"
    # first run withheld: no good values yet, so the source is left out
    _tiny_warehouse(con, "0.1", "0.2")
    files = export_snapshot(con, exports, ["call_center"], run_id="r1")
    assert _rows(files.data) == {"K01": "0.1"} and files.rows == 1
    assert files.withheld == {"call_center": {"kpis": ["K02"], "kept_rows": 0, "kept_from_run": None}}
    # good run: everything published and remembered
    _tiny_warehouse(con, "0.3", "0.4")
    files = export_snapshot(con, exports, [], run_id="r2")
    assert _rows(files.data) == {"K01": "0.3", "K02": "0.4"}
    # call_center fails again: its last good value (r2) stays, crm moves on
    _tiny_warehouse(con, "0.5", "0.6")
    files = export_snapshot(con, exports, ["call_center"], run_id="r3")
    assert _rows(files.data) == {"K01": "0.5", "K02": "0.4"}
    assert files.withheld["call_center"] == {"kpis": ["K02"], "kept_rows": 1, "kept_from_run": "r2"}
    assert dict(con.execute(f"select kpi_code, run_id from {PUBLISHED_TABLE}").fetchall()) == {
        "K01": "r3", "K02": "r2"}
    control = files.control.read_text().strip().split(",")
    assert control[1] == "2" and int(control[2]) == files.size_bytes


def test_blocking_share_bounds_judge_only_files_with_enough_records(sample_home):
    # The sample's own cc_call frame, with two files made 40 % rejected: one of 40 records (a
    # hand-made delivery: warning only) and one of 400 (a broken extraction: blocking).
    from dagster_project.lib.quality.validate import gx_context, validate_frame

    home, _ = sample_home
    suite = next(s for s in SUITES if s.entity.prefix == "cc_call")
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        frame = metric_frame(con, suite)
    finally:
        con.close()
    small, big = frame.index[0], frame.index[1]
    frame.loc[small, ["rows_read", "share_rejected"]] = [40.0, 0.4]
    frame.loc[big, ["rows_read", "share_rejected"]] = [400.0, 0.4]
    context = gx_context()
    outcomes = validate_frame(context, context.data_sources.add_pandas("t"), suite, frame)
    share = {e.severity: e for e in outcomes if e.column == "share_rejected"}
    assert [u["file_name"] for u in share[BLOCKING].unexpected] == [frame.loc[big, "file_name"]]
    assert "where rows_read>=200" in share[BLOCKING].kwargs
    assert {u["file_name"] for u in share["warning"].unexpected} >= {
        frame.loc[small, "file_name"], frame.loc[big, "file_name"]}


def test_a_key_left_twice_is_found_by_dbt_and_judged_per_file(sample_home, tmp_path):
    # A copy of the sample's warehouse with one call duplicated in int_calls: dbt's key test
    # (every key, the sample's home was built in full) stores the key, and the cc_call frame
    # counts both rows against their file.
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from dagster_project.lib.settings import DBT_PROJECT_DIR

    home, _ = sample_home
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(home / "warehouse.duckdb", warehouse)
    con = duckdb.connect(str(warehouse))
    call_id, file_name = con.execute(
        "select call_id, _file from int_calls order by call_id limit 1").fetchone()
    con.execute("insert into int_calls select * from int_calls where call_id = ?", [call_id])
    con.close()
    dbt = str(Path(sys.executable).with_name("dbt"))
    env = dict(os.environ, QLOOP_WAREHOUSE=str(warehouse), DBT_TARGET_PATH=str(tmp_path / "target"),
               DO_NOT_TRACK="1")
    result = subprocess.run([dbt, "test", "--profiles-dir", ".", "--select", "int_calls,test_name:unique_in_latest_build"],
                            cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1 and "unique_in_latest_build_int_calls_call_id" in result.stdout, result.stdout

    suite = next(s for s in SUITES if s.entity.prefix == "cc_call")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        frame = metric_frame(con, suite).set_index("file_name")
    finally:
        con.close()
    assert frame.loc[file_name, "dup_keys"] == 2
    assert frame.drop(index=file_name)["dup_keys"].sum() == 0
