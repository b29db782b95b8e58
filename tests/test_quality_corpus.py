"""The bad-input corpus through the real `qloop run` (tests/bad_inputs/corpus.py).

Run 1 = a clean delivery (two files held back), run 2 = one faulty file per fault of
source-extracts.md section 5 plus a broken extraction, run 3 = the broken extraction
corrected. Then a run killed while it loads, and the run after it.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tools.sample_data import generate
from dagster_project.lib.warehouse import connect

from .bad_inputs.corpus import BY_FAULT, DAYS, FAULTS, START, add_faults, base_inbox
from .qloop_cli import QLOOP, qloop_run

SECTION_5 = ("missing required column", "zero-byte file", "header-only file",
             "file not in its declared encoding", "truncated last line", "unknown enum",
             "unknown city", "clock skew", "duplicates", "re-delivery with corrections",
             "a day missing", "monthly files late")
FAULT_FILES = {f.file for f in FAULTS}
CALL_CENTER_KPIS = ("K02", "K03", "K04")


def run_id_of(home: Path, stdout: str) -> str:
    line = next(x for x in stdout.splitlines() if "file report" in x)
    return Path(line.split()[-1]).name.removesuffix(".ingest.json")


def capture(home: Path, result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    run_id = run_id_of(home, result.stdout)
    snapshot = next((home / "exports").glob("kpi_snapshot_*.csv"))
    with open(snapshot, newline="", encoding="utf-8") as handle:
        snap_rows = list(csv.DictReader(handle))
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        state = {
            "files": {r[0]: r[1:] for r in con.execute(
                "select file_name, sha256, rows_read, rows_landed, rows_unparsed from raw_files").fetchall()},
            "recon": {r[0]: r[1:] for r in con.execute(
                "select file_name, rows_read, rows_accepted, rows_rejected, reconciles "
                "from fct_file_reconciliation").fetchall()},
            "kpi": {r[:4]: r[4:] for r in con.execute(
                "select kpi_code, region_code, period_type, period_start::varchar, numerator, denominator, "
                "value_text from fct_kpi_values").fetchall()},
            "warehouse_snapshot": [dict(zip(("period_type", "period_start", "kpi_code", "region_code",
                                             "numerator", "denominator", "value", "status"), r))
                                   for r in con.execute(
                "select period_type, period_start, kpi_code, region_code, numerator::varchar, "
                "denominator::varchar, value, status from fct_kpi_snapshot order by sort_key").fetchall()],
        }
    finally:
        con.close()
    for row in state["warehouse_snapshot"]:
        for k in ("numerator", "denominator", "value"):
            row[k] = row[k] or ""
    return {"home": home, "stdout": result.stdout, "run_id": run_id, "snapshot": snapshot,
            "snapshot_rows": snap_rows, "snapshot_sha": hashlib.sha256(snapshot.read_bytes()).hexdigest(),
            "quality": json.loads((home / "runs" / f"{run_id}.quality.json").read_text()),
            "rejects_csv": home / "runs" / f"{run_id}.rejects.csv", **state}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    inbox, later, home = root / "inbox", root / "later", root / "home"
    base_inbox(inbox, later)
    originals = root / "originals"
    originals.mkdir()
    shutil.copy(inbox / BY_FAULT["broken extraction (volume drop)"].file, originals)

    run1 = capture(home, qloop_run(inbox, home))
    shutil.copytree(home, root / "home-before-kill")  # the kill test starts from here
    expected = add_faults(inbox, later)
    run2 = capture(home, qloop_run(inbox, home))
    shutil.copy(originals / BY_FAULT["broken extraction (volume drop)"].file, inbox)  # corrected
    run3 = capture(home, qloop_run(inbox, home))
    return {"root": root, "inbox": inbox, "expected": expected, "runs": (run1, run2, run3)}


def test_the_corpus_covers_every_fault_of_section_5():
    assert set(SECTION_5) <= {f.fault for f in FAULTS}
    assert len({f.file for f in FAULTS}) == len(FAULTS)  # one file per fault: no interference


def test_whole_file_rejects_name_the_file_and_keep_the_earlier_delivery(corpus):
    run1, run2, _ = corpus["runs"]
    for fault, reason in (("missing required column", "missing required column(s): updated_at"),
                          ("zero-byte file", "zero-byte file"),
                          ("file not in its declared encoding", "not in its declared encoding GB18030")):
        name = BY_FAULT[fault].file
        assert f"rejected {name}: {reason}" in " ".join(run2["stdout"].split()), fault
        assert run2["files"][name] == run1["files"][name], fault  # the earlier delivery stays
        assert run2["recon"][name] == run1["recon"][name], fault


def test_row_rejects_name_file_line_and_rule_in_the_rejects_csv(corpus):
    _, run2, _ = corpus["runs"]
    exp = corpus["expected"]
    with open(run2["rejects_csv"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["entity", "file_name", "line", "rule", "reason", "raw_values"]
    got = {(r["file_name"], r["line"], r["rule"]) for r in rows}
    assert (BY_FAULT["truncated last line"].file, str(exp["truncated_line"]), "2") in got
    for line in exp["enum_lines"]:
        assert (BY_FAULT["unknown enum"].file, str(line), "3") in got
    assert (BY_FAULT["unknown city"].file, str(exp["city_line"]), "4") in got
    assert (BY_FAULT["clock skew"].file, str(exp["skew_line"]), "5") in got
    for fault in ("missing required column", "zero-byte file", "file not in its declared encoding"):
        assert (BY_FAULT[fault].file, "", "file") in got
    city = next(r for r in rows if r["rule"] == "4")
    assert city["reason"] == "city_code: unknown 'SH'" and json.loads(city["raw_values"])["city_code"] == "SH"
    # only this run's deliveries: nothing from files run 1 loaded and run 2 left alone
    assert {r["file_name"] for r in rows} <= FAULT_FILES


def test_counts_reconcile_for_every_file(corpus):
    for run in corpus["runs"]:
        assert all(r[3] for r in run["recon"].values()), [k for k, r in run["recon"].items() if not r[3]]
        assert all(r[0] == r[1] + r[2] for r in run["recon"].values())
    _, run2, _ = corpus["runs"]
    exp = corpus["expected"]
    assert run2["recon"][BY_FAULT["duplicates"].file][:3] == (exp["duplicate_rows"], exp["duplicate_rows"], 0)
    assert run2["recon"][BY_FAULT["header-only file"].file][:3] == (0, 0, 0)
    assert run2["recon"][BY_FAULT["truncated last line"].file][2] == 1


def test_what_the_bad_input_did_not_touch_is_unchanged(corpus):
    run1, run2, _ = corpus["runs"]
    untouched = set(run1["files"]) - FAULT_FILES
    assert untouched and all(run2["files"][f] == run1["files"][f] for f in untouched)
    assert all(run2["recon"][f] == run1["recon"][f] for f in untouched)
    # same-day KPIs of the sources' untouched days (a fault file may hold a neighbour day's records)
    touched = {"K01": {"2026-09-30"}, "K02": {"2026-09-29", "2026-10-10"}, "K03": {"2026-09-29", "2026-10-10"},
               "K15": {"2026-10-04", "2026-10-06"}}
    from datetime import date, timedelta

    def near(days):
        return {str(date.fromisoformat(d) + timedelta(k)) for d in days for k in (-1, 0, 1)}

    compared = 0
    for key, value in run1["kpi"].items():
        kpi, _, period_type, start = key
        if kpi in touched and period_type == "day" and start not in near(touched[kpi]):
            assert run2["kpi"][key] == value, key
            compared += 1
    assert compared > 500
    # exact duplicates (in the file and across files) change no KPI of their day
    for key, value in run1["kpi"].items():
        if key[0] in ("K02", "K03") and key[2] == "day" and key[3] == "2026-10-03":
            assert run2["kpi"][key] == value, key


def test_a_corrected_redelivery_replaces_without_double_counting(corpus):
    run1, run2, _ = corpus["runs"]
    name, exp = BY_FAULT["re-delivery with corrections"].file, corpus["expected"]
    assert run2["files"][name][1] == run1["files"][name][1] == exp["corrected_rows"]
    assert run2["files"][name][0] != run1["files"][name][0]
    con = connect(run2["home"] / "warehouse.duckdb", read_only=True)
    try:
        assert con.execute("select count(*) from raw_net_speed_test where _file = ?", [name]).fetchone()[0] \
            == exp["corrected_rows"]
        measured = con.execute("select distinct measured_down_mbps::varchar from int_speed_tests "
                               "where list_contains(?, test_id)", [exp["corrected_ids"]]).fetchall()
    finally:
        con.close()
    assert measured == [("0.5000",)]


def test_freshness_names_the_missing_day_and_month_then_the_late_files(corpus):
    run1, run2, _ = corpus["runs"]
    fresh1 = {f["entity"]: f for f in run1["quality"]["freshness"]}
    assert [m["date"] for m in fresh1["net_speed_test"]["missing"]] == ["2026-10-06"]
    assert "net_speed_test_20261006.csv not delivered" in fresh1["net_speed_test"]["missing"][0]["note"]
    assert [m["date"] for m in fresh1["crm_subscriber"]["missing"]] == ["2026-09-01"]
    assert fresh1["billing_bill_run"]["missing_count"] == 0
    assert "WARNING 1 missing: net_speed_test 2026-10-06" in run1["stdout"]
    fresh2 = {f["entity"]: f for f in run2["quality"]["freshness"]}
    assert fresh2["net_speed_test"]["missing_count"] == 0
    assert [x["file_name"] for x in fresh2["net_speed_test"]["late"]] == ["net_speed_test_20261006.csv"]
    assert [x["file_name"] for x in fresh2["crm_subscriber"]["late"]] == ["crm_subscriber_202609.csv"]
    assert "late: crm_subscriber_202609.csv" in run2["stdout"]
    # the zero-byte and wrong-encoding re-deliveries leave nothing missing: the earlier ones stand
    assert fresh2["crm_survey"]["missing_count"] == 0 and fresh2["crm_complaint"]["missing_count"] == 0
    # the month's K06 had no row without its denominator in run 1, and has one once it arrived
    k06 = ("K06", "JS", "month", "2026-09-01")
    assert k06 not in run1["kpi"] and run2["kpi"][k06][1] > 0


def test_a_broken_extraction_withholds_only_its_sources_kpis(corpus):
    run1, run2, _ = corpus["runs"]
    q = run2["quality"]
    assert q["withheld_sources"] == ["call_center"]
    cc = next(s for s in q["suites"] if s["suite"] == "raw_cc_call")
    failed = [e for e in cc["expectations"] if not e["success"] and e["severity"] == "blocking"]
    assert [(e["column"], [u["file_name"] for u in e["unexpected"]]) for e in failed] == [
        ("volume_ratio", [BY_FAULT["broken extraction (volume drop)"].file])]
    assert all(not s["blocking_failed"] for s in q["suites"] if s["suite"] != "raw_cc_call")
    assert "NOT PUBLISHED from this run: KPIs of call_center (K02, K03, K04); the last good values stay" \
        in run2["stdout"]
    # call-center rows = the last good ones (run 1), every other KPI = this run's warehouse
    def rows(run, pick):
        return [r for r in run["snapshot_rows"] if pick(r["kpi_code"])]
    assert rows(run2, lambda k: k in CALL_CENTER_KPIS) == rows(run1, lambda k: k in CALL_CENTER_KPIS)
    assert rows(run2, lambda k: k not in CALL_CENTER_KPIS) == [
        r for r in run2["warehouse_snapshot"] if r["kpi_code"] not in CALL_CENTER_KPIS]
    # ... while the warehouse itself has the new (broken-day) values, for the board to flag
    assert any(r["kpi_code"] in CALL_CENTER_KPIS for r in run2["warehouse_snapshot"]
               if r not in run1["warehouse_snapshot"])


def test_the_check_result_is_an_error_with_the_failing_expectations(corpus):
    _, run2, _ = corpus["runs"]
    os.environ["DAGSTER_HOME"] = str(run2["home"] / "dagster")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        evaluations = {}
        for record in instance.all_logs(run2["run_id"]):
            event = record.dagster_event
            if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION":
                data = event.event_specific_data
                evaluations[(data.asset_key.to_user_string(), data.check_name)] = data
    cc = evaluations[("raw_cc_call", "quality_suite")]
    assert not cc.passed and cc.severity == dg.AssetCheckSeverity.ERROR
    failing = cc.metadata["failing_expectations"].value
    assert any(f["column"] == "volume_ratio" and f["unexpected_count"] == 1 for f in failing)
    assert evaluations[("raw_net_speed_test", "quality_suite")].passed
    late = evaluations[("raw_net_speed_test", "freshness")]
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    assert len([k for k in evaluations if k[1] == "quality_suite"]) == 15


def test_a_blocking_check_alerts_the_data_engineers_once_per_run(corpus):
    run1, run2, run3 = corpus["runs"]
    logged = [json.loads(line) for line in
              (run2["home"] / "runs" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    blocking = [a for a in logged if a["kind"] == "blocking_check"]
    assert [a["run_id"] for a in blocking] == [run2["run_id"]]  # not run 1, not run 3
    assert "KPIs of call_center are not published" in blocking[0]["subject"]
    assert BY_FAULT["broken extraction (volume drop)"].file in blocking[0]["body"]
    assert blocking[0]["mailed"] is False  # no SMTP configured in the test


def test_the_correction_publishes_the_source_again(corpus):
    _, _, run3 = corpus["runs"]
    assert run3["quality"]["withheld_sources"] == []
    assert run3["snapshot_rows"] == run3["warehouse_snapshot"]
    assert "NOT PUBLISHED" not in run3["stdout"]


def test_data_docs_are_built_and_linked_from_the_summary(corpus):
    _, run2, _ = corpus["runs"]
    index = Path(run2["quality"]["data_docs"])
    assert index == run2["home"] / "data-docs" / "index.html" and index.exists()
    assert f"data docs  {index}" in run2["stdout"]
    pages = " ".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    assert "raw_cc_call" in pages and "volume_ratio" in pages and "<style>" in pages


def _children(pid: int) -> list[str]:
    names = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                names.append(stat.split("(", 1)[1].rsplit(")", 1)[0])
    return names


def test_a_run_killed_while_loading_leaves_warehouse_and_snapshot_intact(corpus):
    run1 = corpus["runs"][0]
    root = corpus["root"]
    home, inbox = root / "home-before-kill", root / "bigger-inbox"
    generate(inbox, start=START, days=DAYS, scale=0.02, faults=False)  # every file re-delivered, bigger
    wal = home / "warehouse.duckdb.wal"
    assert not wal.exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_")}
    proc = subprocess.Popen([QLOOP, "run", "--inbox", str(inbox), "--home", str(home)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not wal.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # a few files committed, more to come
        assert proc.poll() is None, "the run ended before it could be killed"
        assert not any("dbt" in name for name in _children(proc.pid)), "killed too late: dbt had started"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    snapshot = home / "exports" / run1["snapshot"].name
    assert hashlib.sha256(snapshot.read_bytes()).hexdigest() == run1["snapshot_sha"]
    assert not list((home / "exports").glob(".*.tmp"))
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        kpi = {r[:4]: r[4:] for r in con.execute(
            "select kpi_code, region_code, period_type, period_start::varchar, numerator, denominator, "
            "value_text from fct_kpi_values").fetchall()}
        files = {r[0]: r[1:] for r in con.execute("select file_name, sha256, rows_landed from raw_files").fetchall()}
        landed = dict(con.execute(
            "select _file, count(*) from (" + " union all ".join(
                f"select _file from {t}" for t in
                [r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_name like 'raw\\_%' escape '\\' and table_name "
                                           "not in ('raw_files', 'raw_deliveries', 'raw_unparsed_records')")
                 .fetchall()]) + ") group by _file").fetchall())
    finally:
        con.close()
    assert kpi == run1["kpi"]  # the models were not touched
    new_sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}
    replaced = [f for f, (sha, _) in files.items() if sha == new_sha.get(f) and sha != run1["files"][f][0]]
    assert 0 < len(replaced) < len(new_sha), "the kill was not during the load"
    for name, (sha, rows_landed) in files.items():  # every file fully old or fully new
        assert sha in (run1["files"][name][0], new_sha.get(name)), name
        assert landed.get(name, 0) == rows_landed, name

    result = qloop_run(inbox, home)
    assert result.returncode == 0, result.stdout + result.stderr
    after = capture(home, result)
    assert all(after["files"][n][0] == new_sha[n] for n in new_sha)
    assert all(r[3] for r in after["recon"].values())
    assert after["quality"]["withheld_sources"] == []
