"""The whole pipeline (`qloop run`: Dagster job, landing, dbt, export) on a hand-made inbox.

Expected values are in tests/kpi_fixture.py, worked out by hand at each KPI's boundaries,
and read from the published snapshot file (the group upload). The fixture is a small
spec-valid delivery with a few bad rows and deliberately incomplete monthly files (WX has
no subscriber row: a boundary of K06): the data-quality gate warns about them and
publishes every KPI (docs/quality.md, "blocking needs evidence").
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from dagster_project.lib.warehouse import connect

from .kpi_fixture import ABSENT, EXPECTED, SPEED_1001, build_inbox, write_file
from .qloop_cli import qloop_run

SNAPSHOT = "kpi_snapshot_20261003.csv"


def _key_and_values(r) -> tuple:
    return ((r["period_type"], r["period_start"], r["kpi_code"], r["region_code"]),
            (int(r["numerator"]), int(r["denominator"]), r["value"] or "", r["status"]))


def computed_rows(home: Path) -> dict:
    """The snapshot rows the KPI models computed (before publication)."""
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        cursor = con.execute("select * from fct_kpi_snapshot")
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()
    return dict(_key_and_values(r) for r in found)


def read_snapshot(home: Path) -> dict:
    with open(home / "exports" / SNAPSHOT, newline="", encoding="utf-8") as handle:
        return dict(_key_and_values(r) for r in csv.DictReader(handle))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    inbox, home = root / "inbox", root / "home"
    build_inbox(inbox)
    result = qloop_run(inbox, home)
    assert result.returncode == 0, result.stdout + result.stderr
    return inbox, home, result


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: "-".join(k))
def test_snapshot_value_at_the_boundaries(first_run, key):
    _, home, _ = first_run
    assert read_snapshot(home).get(key) == EXPECTED[key]


@pytest.mark.parametrize("key", ABSENT, ids=lambda k: "-".join(k))
def test_rows_that_must_not_exist(first_run, key):
    _, home, _ = first_run
    assert key not in read_snapshot(home)


def test_a_small_delivery_with_incomplete_monthly_files_is_published_with_warnings(first_run):
    # crm_subscriber_202610 and billing_bill_run_202610 lack cities, ref_store has stores in
    # one city, 1 of 5 speed tests is rejected: warnings, not blocking (the spec says what a
    # missing city means, and 5 records are no evidence of a broken extraction).
    _, home, result = first_run
    assert read_snapshot(home) == computed_rows(home)
    assert "NOT PUBLISHED" not in result.stdout
    assert "every one of the 13 cities has subscribers in the month's file" in result.stdout


def test_snapshot_file_format_and_control_file(first_run):
    _, home, _ = first_run
    data = (home / "exports" / SNAPSHOT).read_bytes()
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "period_type,period_start,kpi_code,region_code,numerator,denominator,value,status"
    assert lines[-1] == "" and b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")
    keys = [line.split(",")[:4] for line in lines[1:-1]]
    assert keys == sorted(keys, key=lambda k: ",".join(k).encode()) and len(keys) == len(set(map(tuple, keys)))
    assert {k[0] for k in keys} == {"day", "month"}
    assert not any(k[2] in ("K06", "K09") and k[0] == "day" for k in keys)
    control = (home / "exports" / SNAPSHOT).with_suffix(".chk").read_text(encoding="utf-8")
    assert control == f"{SNAPSHOT},{len(keys)},{len(data)},{hashlib.sha256(data).hexdigest()}\n"
    assert not list((home / "exports").glob(".*"))  # no temporary files left behind


def test_rejected_rows_are_kept_with_file_line_and_rule(first_run):
    _, home, _ = first_run
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        rejected = con.execute(
            "select file_name, line, rule from fct_rejected_rows order by file_name, line").fetchall()
    finally:
        con.close()
    assert rejected == [
        ("billing_dispute_20261001.csv", 5, 2),   # amount with 5 decimals
        ("crm_queue_ticket_20261001.csv", 7, 3),  # business_type 'Payment'
        ("crm_survey_20261001.csv", 6, 7),        # score 6
        ("net_speed_test_20261001.csv", 6, 7),    # subscribed_down_mbps 0
    ]


def test_summary_names_files_rows_and_outputs(first_run):
    _, home, result = first_run
    assert "Files: 17 loaded, 0 replaced, 0 unchanged, 0 rejected, 0 failed, 0 ignored" in result.stdout
    assert "As of T = 2026-10-04 00:00:00" in result.stdout
    assert str(home / "exports" / SNAPSHOT) in result.stdout


def test_second_run_on_the_same_inbox_changes_nothing(first_run):
    inbox, home, _ = first_run
    before = (home / "exports" / SNAPSHOT).read_bytes()

    again = qloop_run(inbox, home)

    assert again.returncode == 0, again.stderr
    assert "0 loaded, 0 replaced, 17 unchanged" in again.stdout
    assert (home / "exports" / SNAPSHOT).read_bytes() == before


def test_corrected_redelivery_replaces_the_earlier_file(first_run, tmp_path):
    inbox, home, _ = first_run
    corrected = [dict(row) for row in SPEED_1001]
    corrected[1]["measured_down_mbps"] = "95"  # S2 now passes
    write_file(inbox, "net_speed_test_20261001.csv", "net_speed_test", corrected)

    result = qloop_run(inbox, home)

    assert result.returncode == 0, result.stderr
    assert "1 replaced" in result.stdout
    assert read_snapshot(home)[("day", "2026-10-01", "K15", "NJ")] == (3, 3, "1.000000000000", "green")
