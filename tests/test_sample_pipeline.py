"""`qloop run` on the committed data/sample, checked against an independent computation.

The reference values are computed here in plain Python (csv + Decimal) straight from the
files, applying the spec's acceptance rules and de-duplication for the entities involved,
without any of the product's code: two implementations that must agree.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES, target_overrides_file
from dagster_project.lib.warehouse import connect
from tools.sample_data import generate

from .qloop_cli import SAMPLE

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]{1,4})?")
CHECKED_CITIES = ("NJ", "XZ", "SZ", "YC")


def parse_ts(value: str) -> datetime | None:
    if not TIMESTAMP.fullmatch(value):
        raise ValueError(value)
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def records(prefix: str):
    """(file date, start line, row dict) of every well-formed record of every file."""
    for path in sorted(SAMPLE.glob(f"{prefix}_*.csv")):
        text = path.read_bytes().decode("utf-8-sig")
        if not text:
            continue
        reader = csv.reader(text.splitlines(keepends=True))
        header = next(reader)
        line = reader.line_num
        for fields in reader:
            start, line = line + 1, reader.line_num
            if fields and len(fields) == len(header):
                yield path.stem[-8:], start, dict(zip(header, fields))


def latest_per_key(rows, key: str) -> dict:
    """Section 7 for entities without updated_at: the later file date, then the later line."""
    kept = {}
    for file_date, line, row in rows:
        if row[key] not in kept or (file_date, line) > kept[row[key]][0]:
            kept[row[key]] = ((file_date, line), row)
    return {k: v[1] for k, v in kept.items()}


def ref_codes(name: str, column: str) -> set[str]:
    with open(SAMPLE / f"ref_{name}.csv", encoding="utf-8-sig", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def accepted_speed_tests(cities: set[str]):
    for file_date, line, row in records("net_speed_test"):
        try:
            tested = parse_ts(row["tested_at"])
            numbers = [row[c] for c in ("subscribed_down_mbps", "measured_down_mbps", "measured_up_mbps")]
            if not all(DECIMAL.fullmatch(n) for n in numbers):
                continue
        except ValueError:
            continue
        sub, down, up = map(Decimal, numbers)
        if (row["test_id"] and row["method"] in ("wired_app", "wifi_app", "probe", "technician")
                and row["city_code"] in cities and sub > 0 and down >= 0 and up >= 0):
            yield file_date, line, dict(row, tested=tested, sub=sub, down=down)


def accepted_calls(cities: set[str], agents: set[str]):
    for file_date, line, row in records("cc_call"):
        try:
            stamps = {c: parse_ts(row[c]) if row[c] else None for c in
                      ("arrived_at", "ivr_exit_at", "queue_entered_at", "answered_at", "ended_at")}
        except ValueError:
            continue
        chain = [stamps[c] for c in ("arrived_at", "queue_entered_at", "answered_at", "ended_at") if stamps[c]]
        if (row["call_id"] and row["skill_group"] in ("general", "broadband", "billing", "mobile", "vip")
                and row["city_code"] in cities and (not row["agent_id"] or row["agent_id"] in agents)
                and re.fullmatch(r"-?[0-9]+", row["transferred"] or "0") and chain == sorted(chain)
                and stamps["ended_at"] and (not stamps["answered_at"]
                                             or (stamps["queue_entered_at"] and row["agent_id"]))):
            yield file_date, line, dict(row, **stamps)


def expected_values(as_of: datetime) -> dict:
    cities, agents = ref_codes("city", "city_code"), ref_codes("agent", "agent_id")
    counts: dict = defaultdict(lambda: [0, 0])
    for test in latest_per_key(accepted_speed_tests(cities), "test_id").values():
        if test["method"] != "wifi_app" and test["tested"] < as_of:
            cell = counts[("K15", test["tested"].date(), test["city_code"])]
            cell[0] += test["down"] >= Decimal("0.9") * test["sub"]
            cell[1] += 1
    for call in latest_per_key(accepted_calls(cities, agents), "call_id").values():
        queued, answered = call["queue_entered_at"], call["answered_at"]
        if not queued or queued >= as_of:
            continue
        if not answered and call["ended_at"] - queued < timedelta(seconds=5):
            continue  # short abandon
        for kpi, good in (("K02", answered is not None),
                          ("K03", answered is not None and answered - queued <= timedelta(seconds=20))):
            cell = counts[(kpi, queued.date(), call["city_code"])]
            cell[0] += good
            cell[1] += 1
    return counts


@pytest.fixture(scope="module")
def sample_run(sample_home):
    home, result = sample_home
    snapshot = next((home / "exports").glob("kpi_snapshot_*.csv"))
    with open(snapshot, newline="", encoding="utf-8") as handle:
        rows = {(r["period_type"], r["period_start"], r["kpi_code"], r["region_code"]): r
                for r in csv.DictReader(handle)}
    return snapshot, rows, result.stdout


@pytest.fixture(scope="module")
def warehouse(sample_run):
    snapshot, _, _ = sample_run
    con = connect(snapshot.parents[1] / "warehouse.duckdb", read_only=True)
    yield con
    con.close()


def test_snapshot_is_named_after_the_latest_business_date(sample_run):
    snapshot, _, stdout = sample_run
    assert snapshot.name == "kpi_snapshot_20261108.csv"
    assert "As of T = 2026-11-09 00:00:00" in stdout


def test_the_sample_home_is_judged_by_the_demos_overrides(sample_run):
    """Built like `make demo`: by the demo's set of per-scope targets."""
    _, _, stdout = sample_run
    demo = target_overrides_file(DEMO_TARGET_OVERRIDES)
    demo_rows = len(demo.read_text(encoding="utf-8").splitlines()) - 1
    assert demo_rows > 0
    assert f"Per-scope targets: {demo_rows} override row(s) from {demo}\n" in stdout


def test_rejected_files_are_named_with_their_reason(sample_run):
    _, _, stdout = sample_run
    assert "rejected crm_survey_20261018.csv: zero-byte file" in stdout
    assert "rejected billing_refund_20261027.csv: missing required column(s): updated_at" in stdout
    assert "rejected crm_complaint_20261029.csv: not in its declared encoding GB18030" in stdout


@pytest.mark.parametrize("kpi", ["K02", "K03", "K15"])
def test_day_and_month_values_match_an_independent_computation(sample_run, kpi):
    _, rows, _ = sample_run
    expected = expected_values(datetime(2026, 11, 9))
    checked = 0
    months: dict = defaultdict(lambda: [0, 0])
    for (code, day, city), (num, den) in expected.items():
        if code != kpi or city not in CHECKED_CITIES:
            continue
        row = rows[("day", day.isoformat(), kpi, city)]
        assert (int(row["numerator"]), int(row["denominator"])) == (num, den), (day, city)
        assert Decimal(row["value"]) == (Decimal(num) / Decimal(den)).quantize(Decimal("1e-12"))
        months[(day.replace(day=1), city)][0] += num
        months[(day.replace(day=1), city)][1] += den
        checked += 1
    assert checked > 100
    for (month, city), (num, den) in months.items():
        row = rows[("month", month.isoformat(), kpi, city)]
        assert (int(row["numerator"]), int(row["denominator"])) == (num, den)


def status(rows, period_type, day, kpi, region):
    return rows[(period_type, day, kpi, region)]["status"]


def test_planted_incidents_are_visible(sample_run):
    _, rows, _ = sample_run
    storm = [f"2026-10-{d}" for d in range(14, 21)]
    assert sum(status(rows, "day", d, "K12", "YC") == "red" for d in storm) >= 5
    assert status(rows, "day", "2026-10-06", "K02", "JS") == "red"
    assert status(rows, "month", "2026-10-01", "K09", "SZ") == "red"
    assert status(rows, "month", "2026-10-01", "K06", "SZ") == "red"
    queue_week = [f"2026-10-{d}" for d in range(12, 19)]
    assert sum(status(rows, "day", d, "K01", "NJ") != "green" for d in queue_week) >= 4
    assert status(rows, "month", "2026-11-01", "K15", "XZ") in ("amber", "red")


def test_drilldown_sums_back_to_the_city_day_values(warehouse):
    drill = """select kpi_code, activity_date, city_code, sum(numerator), sum(denominator)
               from fct_kpi_drilldown join dim_kpi using (kpi_code) where grain = 'day' group by all"""
    days = """select kpi_code, period_start, region_code, numerator, denominator from fct_kpi_values
              where period_type = 'day' and region_code <> 'JS'"""
    mismatches = warehouse.execute(
        f"select count(*) from (({drill} except {days}) union all ({days} except {drill}))").fetchone()[0]
    assert mismatches == 0
    assert warehouse.execute("select count(distinct store_id) from fct_kpi_drilldown "
                             "where kpi_code = 'K01'").fetchone()[0] > 100


def test_rejected_rows_are_exactly_the_planted_row_faults(warehouse, tmp_path):
    planted = generate(tmp_path)["faults"]  # the same arguments as the committed sample
    row_faults = {(f["file"], f["line"]) for f in planted
                  if (f["line"] or 0) > 1 and not re.search("duplicate|older version", f["fault"])}
    rejected = set(warehouse.execute("select file_name, line from fct_rejected_rows").fetchall())
    assert rejected == row_faults
    assert warehouse.execute("select count(*) from fct_file_reconciliation where not reconciles").fetchone() == (0,)
