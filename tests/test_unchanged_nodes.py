"""Which dbt nodes a build leaves out (dagster_project/lib/unchanged_nodes.py), on a
hand-made manifest: two reference tables, a daily table, a seed, and the tests over them.
The whole pipeline's behaviour is in test_incremental.py."""

from __future__ import annotations

import json

import duckdb
import pytest

from dagster_project.lib.settings import Settings
from dagster_project.lib.unchanged_nodes import (
    LastTestResult, last_results_of_left_out_tests, leave_out_args, left_out_tests, read_record,
    record_path, source_versions, unchanged_nodes, write_record)

P = "qualityloop"


def _manifest() -> dict:
    """raw_ref_city -> stg_cities -> int_cities <- int_stores <- stg_stores <- raw_ref_store;
    raw_cc_call + raw_files -> int_calls (daily); seed catalog -> dim_kpi; a model after
    detection; tests on one node, across two unchanged ones, across a daily one."""
    models = {
        "stg_cities": ["source.q.raw.raw_ref_city"],
        "int_cities": [f"model.{P}.stg_cities"],
        "stg_stores": ["source.q.raw.raw_ref_store"],
        "int_stores": [f"model.{P}.stg_stores", f"model.{P}.int_cities"],
        "int_calls": ["source.q.raw.raw_cc_call", "source.q.raw.raw_files", f"model.{P}.int_cities"],
        "dim_kpi": [f"seed.{P}.catalog"],
        "fct_assessment": ["source.q.rem.rem_issues", f"model.{P}.dim_kpi"],
    }
    tests = {
        "unique_int_cities": [f"model.{P}.int_cities"],
        "rel_int_stores_int_cities": [f"model.{P}.int_stores", f"model.{P}.int_cities"],
        "rel_int_calls_int_cities": [f"model.{P}.int_calls", f"model.{P}.int_cities"],
        "unique_fct_assessment": [f"model.{P}.fct_assessment"],
    }
    nodes = {f"model.{P}.{name}": {"name": name, "resource_type": "model", "tags": [],
                                   "depends_on": {"nodes": parents}}
             for name, parents in models.items()}
    nodes[f"model.{P}.fct_assessment"]["tags"] = ["after_detection"]
    nodes[f"seed.{P}.catalog"] = {"name": "catalog", "resource_type": "seed", "tags": [],
                                  "depends_on": {"nodes": []}}
    nodes.update({f"test.{P}.{name}.0": {"name": name, "resource_type": "test", "tags": [],
                                         "depends_on": {"nodes": parents}}
                  for name, parents in tests.items()})
    sources = {f"source.q.raw.{t}": {"identifier": t}
               for t in ("raw_ref_city", "raw_ref_store", "raw_cc_call", "raw_files")}
    sources["source.q.rem.rem_issues"] = {"identifier": "rem_issues"}
    return {"nodes": nodes, "sources": sources,
            "parent_map": {u: n["depends_on"]["nodes"] for u, n in nodes.items()}}


def _versions(**changed: str) -> dict[str, str]:
    versions = {"raw_ref_city": "c1", "raw_ref_store": "s1", "raw_cc_call": "k1"}
    return {**versions, **changed}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", inbox=tmp_path)


def _built_everything(settings: Settings, manifest: dict, versions: dict, project: str = "p1",
                      run_id: str = "run-1", test_status: dict | None = None):
    """A build that ran every node; its tests passed unless `test_status` says otherwise
    ({name: (status, failures)})."""
    test_status = test_status or {}
    results = settings.home / "run_results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"results": [
        {"unique_id": u, "status": test_status.get(n["name"], ("pass", 0))[0],
         "failures": test_status.get(n["name"], ("pass", 0))[1]}
        if n["resource_type"] == "test" else {"unique_id": u, "status": "success"}
        for u, n in manifest["nodes"].items()]}))
    write_record(settings, manifest, versions, project, results, run_id)


def _names(manifest: dict, unique_ids) -> set[str]:
    return {manifest["nodes"][u]["name"] for u in unique_ids}


def test_nothing_is_left_out_before_a_build_recorded_it(settings):
    manifest = _manifest()
    assert unchanged_nodes(manifest, read_record(settings), _versions(), "p1") == []
    assert leave_out_args(manifest, [], "after_detection") == []


def test_models_of_unchanged_files_and_seeds_are_left_out_the_daily_ones_never(settings):
    manifest = _manifest()
    _built_everything(settings, manifest, _versions())
    unchanged = unchanged_nodes(manifest, read_record(settings), _versions(raw_cc_call="k2"), "p1")
    # parents first: the order Dagster wants the outputs in
    order = [manifest["nodes"][u]["name"] for u in unchanged]
    assert order.index("stg_stores") < order.index("int_stores")
    assert order.index("int_cities") < order.index("int_stores")
    assert order.index("catalog") < order.index("dim_kpi")
    # int_calls reads raw_files, fct_assessment the issue store: never left out
    assert _names(manifest, unchanged) == {"stg_cities", "int_cities", "stg_stores", "int_stores",
                                           "dim_kpi", "catalog"}
    # the test across int_calls and int_cities runs; the after-detection one is not the
    # main build's
    assert _names(manifest, left_out_tests(manifest, unchanged)) == {
        "unique_int_cities", "rel_int_stores_int_cities"}
    args = leave_out_args(manifest, unchanged, "after_detection")
    assert args[:3] == ["--indirect-selection", "cautious", "--exclude"]
    assert set(args[3].split()) == {"stg_cities", "int_cities", "stg_stores", "int_stores",
                                    "dim_kpi", "catalog", "unique_int_cities",
                                    "rel_int_stores_int_cities", "unique_fct_assessment"}


def test_a_changed_file_rebuilds_its_models_and_everything_built_from_them(settings):
    manifest = _manifest()
    _built_everything(settings, manifest, _versions())
    record = read_record(settings)
    # raw_ref_city changed: stg_cities, int_cities, and int_stores (built from int_cities)
    unchanged = unchanged_nodes(manifest, record, _versions(raw_ref_city="c2"), "p1")
    assert _names(manifest, unchanged) == {"stg_stores", "dim_kpi", "catalog"}
    # raw_ref_store changed: only the store models
    unchanged = unchanged_nodes(manifest, record, _versions(raw_ref_store="s2"), "p1")
    assert _names(manifest, unchanged) == {"stg_cities", "int_cities", "dim_kpi", "catalog"}
    # another dbt project: everything
    assert unchanged_nodes(manifest, record, _versions(), "p2") == []


def test_a_node_that_failed_or_did_not_run_is_built_again(settings):
    manifest = _manifest()
    _built_everything(settings, manifest, _versions())
    results = settings.home / "run_results.json"
    results.write_text(json.dumps({"results": [
        {"unique_id": f"model.{P}.stg_stores", "status": "error"}]}))
    write_record(settings, manifest, _versions(), "p1", results, "run-2")
    unchanged = unchanged_nodes(manifest, read_record(settings), _versions(), "p1")
    assert _names(manifest, unchanged) == {"stg_cities", "int_cities", "dim_kpi", "catalog"}


def test_a_landing_table_is_versioned_by_its_deliveries_in_force(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    assert set(source_versions(warehouse).values()) == {""}  # no warehouse yet
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table raw_files (file_name varchar, entity varchar, sha256 varchar, "
                    "loaded_at timestamp)")
        con.execute("insert into raw_files values "
                    "('ref_city.csv', 'ref_city', 'aa', '2026-12-01 06:00:00'), "
                    "('cc_call_20261130.csv', 'cc_call', 'bb', '2026-12-01 06:00:01')")
    first = source_versions(warehouse)
    assert first["raw_ref_city"] and first["raw_cc_call"] and first["raw_ref_store"] == ""
    with duckdb.connect(str(warehouse)) as con:  # a new day: only cc_call's version moves
        con.execute("insert into raw_files values "
                    "('cc_call_20261201.csv', 'cc_call', 'cc', '2026-12-02 06:00:00')")
    second = source_versions(warehouse)
    assert second["raw_ref_city"] == first["raw_ref_city"]
    assert second["raw_cc_call"] != first["raw_cc_call"]
    with duckdb.connect(str(warehouse)) as con:  # the same bytes landed again: a new version
        con.execute("update raw_files set loaded_at = '2026-12-02 06:00:00' "
                    "where file_name = 'ref_city.csv'")
    assert source_versions(warehouse)["raw_ref_city"] != second["raw_ref_city"]


def test_a_left_out_test_carries_the_result_of_the_build_that_last_ran_it(settings):
    manifest = _manifest()
    _built_everything(settings, manifest, _versions(), run_id="run-7",
                      test_status={"rel_int_stores_int_cities": ("warn", 3)})
    record = read_record(settings)
    unchanged = unchanged_nodes(manifest, record, _versions(raw_cc_call="k2"), "p1")
    assert last_results_of_left_out_tests(manifest, unchanged, record) == [
        LastTestResult("rel_int_stores_int_cities", "warn", 3, "run-7"),
        LastTestResult("unique_int_cities", "pass", 0, "run-7")]
    # a changed city file: both tests run again, nothing is carried over
    unchanged = unchanged_nodes(manifest, record, _versions(raw_ref_city="c2"), "p1")
    assert last_results_of_left_out_tests(manifest, unchanged, record) == []


def test_a_record_of_the_earlier_format_counts_as_none(settings):
    """Before the tests' results were recorded, the file held the models alone: the first
    build after the upgrade leaves nothing out, so every test's result gets recorded."""
    manifest = _manifest()
    _built_everything(settings, manifest, _versions())
    nodes = read_record(settings)
    assert nodes
    record_path(settings).write_text(json.dumps(
        {u: v for u, v in nodes.items() if not u.startswith("test.")}))
    assert read_record(settings) == {}
    assert unchanged_nodes(manifest, read_record(settings), _versions(), "p1") == []
