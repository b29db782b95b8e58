"""Per-scope targets (issue 7, item 1) through the real pipeline on the hand-made KPI fixture.

`qloop run` twice on the same inbox (tests/kpi_fixture.py), each on a copy of the dbt project
(QLOOP_DBT_PROJECT): once with the override seed empty, as the repository ships it (every
region judged by the catalog, as closed-loop.md says), once with the overrides below. The
fixture has a few records a day, below every KPI's minimum volume, so both copies judge from
one record on (min_volume 1): the targets, not the volume, decide here.
T = 2026-10-04 (latest daily file 2026-10-03).
Values from the fixture (worked out there):
- K12 NJ 2026-10-01: 2/4 = 0.50, red by the catalog (0.90 / 0.85). The NJ override
  0.50 / 0.40 from 10-01 makes it green: detection opens no K12 NJ issue.
- K04 NJ 2026-09-30: 4/5 = 0.80, amber by the catalog (0.85 / 0.80; one amber day opens
  nothing). The NJ override 0.90 / 0.85 makes it red: a K04 NJ issue (R1, P2).
- K13 NJ: 10-01 1/3 red, 10-02 1/2 = 0.50 red by the catalog (0.95 / 0.90). The NJ override
  0.40 / 0.30 from exactly 10-02: 10-01 (the day before) keeps the catalog and stays red
  (R1 on 10-01), 10-02 is green (no signal on 10-02).
- K13 rural districts of NJ from 10-01 (0.00 / 0.00): the drill-down row of rural NJ02 on
  10-01 (O7, O8: 0/2) is green against it, the urban NJ01 row (O6: 1/1) keeps the city's
  target; the city row of K13 NJ is not affected by a finer scope.
The group snapshot must be byte-identical in both runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.lib.dbt_project_copy import project_with_overrides
from dagster_project.lib.remediation.warehouse_io import read_statuses
from dagster_project.lib.settings import DBT_PROJECT_DIR, DBT_PROJECT_ENV
from dagster_project.lib.warehouse import connect

from .kpi_fixture import build_inbox
from .qloop_cli import QLOOP

DBT = str(Path(sys.executable).with_name("dbt"))
HEADER = "kpi_code,scope_type,scope_value,scope_city,valid_from,target,red_threshold,reason\n"
OVERRIDES = HEADER + (
    "K12,city,NJ,,2026-10-01,0.50,0.40,looser NJ repair target\n"
    "K04,city,NJ,,2026-09-01,0.90,0.85,stricter NJ first-contact resolution\n"
    "K13,city,NJ,,2026-10-02,0.40,0.30,looser NJ punctuality from 10-02\n"
    "K13,area_type,rural,NJ,2026-10-01,0.00,0.00,rural NJ: any punctuality is green\n"
)
SNAPSHOT = "kpi_snapshot_20261003.csv"


def qloop_with(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_")}
    env[DBT_PROJECT_ENV] = str(project)
    return subprocess.run([QLOOP, *args], capture_output=True, text=True, env=env, timeout=900)


def run_pipeline(root: Path, overrides: str) -> Path:
    """The pipeline on the fixture inbox, on a copy of the project whose override seed holds
    these rows (HEADER alone: none) and whose catalog judges every value."""
    inbox, home = root / "inbox", root / "home"
    build_inbox(inbox)
    project = project_with_overrides(root / "dbt", overrides, min_volume=1)
    result = qloop_with(project, "run", "--inbox", str(inbox), "--home", str(home))
    assert result.returncode == 0, result.stdout + result.stderr
    (home / "summary.txt").write_text(result.stdout, encoding="utf-8")
    return home


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    plain = run_pipeline(tmp_path_factory.mktemp("targets-plain"), HEADER)
    overridden = run_pipeline(tmp_path_factory.mktemp("targets-override"), OVERRIDES)
    return plain, overridden


def query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def issue_pairs(home: Path) -> set[tuple[str, str]]:
    result = qloop_with(DBT_PROJECT_DIR, "issues", "list", "--json", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return {(i["kpi_code"], i["region_code"]) for i in json.loads(result.stdout)}


def signals(home: Path, kpi: str, region: str) -> set[tuple[str, str]]:
    return {(rule, str(day)) for rule, day in query(
        home, "select rule, period_start from fct_kpi_breach_signals "
              "where kpi_code = ? and region_code = ?", [kpi, region])}


def test_the_run_summary_says_which_overrides_judged(homes):
    plain, overridden = homes
    assert (f"Per-scope targets: 0 override row(s) from {plain.parent}/dbt/seeds/"
            "kpi_target_overrides.csv (none: every region is judged by the catalog)"
            in (plain / "summary.txt").read_text(encoding="utf-8"))
    assert (f"Per-scope targets: 4 override row(s) from {overridden.parent}/dbt/seeds/"
            "kpi_target_overrides.csv\n" in (overridden / "summary.txt").read_text(encoding="utf-8"))


def test_a_day_red_by_the_catalog_but_not_by_the_override_opens_no_issue(homes):
    plain, overridden = homes
    assert ("K12", "NJ") in issue_pairs(plain)
    assert ("K12", "NJ") not in issue_pairs(overridden)
    assert query(overridden, """
        select status, scope_status, scope_target, scope_target_source from fct_kpi_values
        where period_type = 'day' and period_start = '2026-10-01'
          and kpi_code = 'K12' and region_code = 'NJ'
    """) == [("red", "green", pytest.approx(0.5), "city")]


def test_a_day_red_only_by_the_override_opens_an_issue(homes):
    plain, overridden = homes
    assert ("K04", "NJ") not in issue_pairs(plain)
    assert ("K04", "NJ") in issue_pairs(overridden)
    assert signals(overridden, "K04", "NJ") == {("R1", "2026-09-30")}


def test_the_override_starts_on_its_valid_from_day(homes):
    plain, overridden = homes
    assert {("R1", "2026-10-01"), ("R1", "2026-10-02")} <= signals(plain, "K13", "NJ")
    found = signals(overridden, "K13", "NJ")
    assert ("R1", "2026-10-01") in found  # the day before valid_from: the catalog, red
    assert not {s for s in found if s[1] == "2026-10-02"}  # valid_from itself: green
    assert ("K13", "NJ") in issue_pairs(overridden)


def test_verification_reads_the_regions_own_status(homes):
    # what the verification step sees for the complete periods (K12: up to T - 1, K04: T - 4)
    def statuses(home: Path) -> dict:
        con = connect(home / "warehouse.duckdb")
        try:
            return {pair: [(str(d), s) for d, s in found] for pair, found in
                    read_statuses(con, [("K12", "NJ"), ("K04", "NJ")]).items()}
        finally:
            con.close()

    plain, overridden = homes
    # K12 NJ 2026-09-01: O12 and O14, both on time (2/2), before the override's valid_from
    assert statuses(plain) == {("K04", "NJ"): [("2026-09-30", "amber")],
                               ("K12", "NJ"): [("2026-09-01", "green"), ("2026-10-01", "red")]}
    assert statuses(overridden) == {
        ("K04", "NJ"): [("2026-09-30", "red")],
        ("K12", "NJ"): [("2026-09-01", "green"), ("2026-10-01", "green")]}


def test_the_province_keeps_the_catalog_target(homes):
    _, overridden = homes
    rows = query(overridden, """
        select distinct scope_target_source, scope_status = status from fct_kpi_values
        where region_code = 'JS'
    """)
    assert rows == [("catalog", True)]


def test_drilldown_rows_carry_their_own_scope(homes):
    _, overridden = homes
    rows = query(overridden, """
        select district_code, numerator, denominator, scope_type, scope_value, scope_target,
               scope_status, scope_target_source
        from fct_kpi_drilldown
        where kpi_code = 'K13' and activity_date = '2026-10-01' and city_code = 'NJ'
        order by district_code
    """)
    assert [r[:5] + (float(r[5]),) + r[6:] for r in rows] == [
        ("NJ01", 1, 1, "area_type", "urban", 0.95, "green", "catalog"),
        ("NJ02", 0, 2, "area_type", "rural", 0.0, "green", "scope_in_city"),
    ]
    # the city row of the same day still uses the city's target (catalog on 10-01): red
    assert query(overridden, """
        select scope_status from fct_kpi_values where period_type = 'day'
          and period_start = '2026-10-01' and kpi_code = 'K13' and region_code = 'NJ'
    """) == [("red",)]


def test_the_group_snapshot_is_byte_identical_with_or_without_overrides(homes):
    plain, overridden = homes
    published = (overridden / "exports" / SNAPSHOT).read_bytes()
    assert published == (plain / "exports" / SNAPSHOT).read_bytes()
    assert len(published.splitlines()) > 10
    every_row = "select * from fct_kpi_snapshot order by sort_key"
    assert query(overridden, every_row) == query(plain, every_row)


def test_a_bad_override_fails_the_build_with_its_reason(tmp_path):
    bad = HEADER + (
        "K05,store_level,flagship,,2026-10-01,0.97,0.95,not a scope of K05\n"
        "K08,city,NJ,,2026-10-01,0.06,0.04,down KPI with red below target\n"
        "K12,city,WX,,2026-10-01,0.90,0.85,\n"  # allowed, but without its reason
    )
    project = project_with_overrides(tmp_path / "dbt", bad)
    env = dict(os.environ, DO_NOT_TRACK="1", QLOOP_WAREHOUSE=str(tmp_path / "w.duckdb"),
               DBT_TARGET_PATH=str(tmp_path / "target"))
    seeded = subprocess.run([DBT, "seed", "--profiles-dir", "."], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stdout
    tested = subprocess.run([DBT, "test", "--profiles-dir", ".", "--select",
                             "kpi_target_overrides", "--store-failures"],
                            cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert tested.returncode != 0
    assert "Failure in test kpi_target_overrides_scope_is_allowed" in tested.stdout
    assert "Failure in test kpi_target_overrides_keep_direction" in tested.stdout
    assert "Failure in test not_null_columns_kpi_target_overrides_" in tested.stdout
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        problems = {r[0] for r in con.execute(
            "select problem from main_dbt_test__audit.kpi_target_overrides_scope_is_allowed "
            "union all select problem from main_dbt_test__audit.kpi_target_overrides_keep_direction"
        ).fetchall()}
    finally:
        con.close()
    assert problems == {
        "scope_type store_level is not allowed for K05 "
        "(store_level: K01; area_type: K12, K13; skill_group: K02, K03)",
        "down KPI: red_threshold 0.0400 must be >= target 0.0600",
    }
