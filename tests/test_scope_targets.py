"""Per-scope targets through the real pipeline on the hand-made KPI fixture.

`qloop run` twice on the same inbox (tests/kpi_fixture.py): once by the deployment's set of
overrides, empty as the repository ships it (every region judged by the catalog, as
closed-loop.md says), once by the overrides below, a set named by QLOOP_TARGET_OVERRIDES.
The fixture has a few records a day, below every KPI's minimum volume, so both runs build a
copy of the dbt project (QLOOP_DBT_PROJECT) whose catalog judges from one record on
(min_volume 1): the targets, not the volume, decide here.
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
import shutil
import subprocess
from pathlib import Path

import pytest

from dagster_project.lib.remediation.warehouse_io import read_statuses
from dagster_project.lib.settings import OVERRIDES_FILE
from dagster_project.lib.warehouse import connect

from .dbt_project_copy import project_copy
from .kpi_fixture import build_inbox
from .qloop_cli import dbt, qloop, qloop_run
HEADER = "kpi_code,scope_type,scope_value,scope_city,valid_from,target,red_threshold,reason\n"
OVERRIDES = HEADER + (
    "K12,city,NJ,,2026-10-01,0.50,0.40,looser NJ repair target\n"
    "K04,city,NJ,,2026-09-01,0.90,0.85,stricter NJ first-contact resolution\n"
    "K13,city,NJ,,2026-10-02,0.40,0.30,looser NJ punctuality from 10-02\n"
    "K13,area_type,rural,NJ,2026-10-01,0.00,0.00,rural NJ: any punctuality is green\n"
)
SNAPSHOT = "kpi_snapshot_20261003.csv"


def add_overrides(project: Path, name: str, rows: str) -> str:
    """A set of per-scope targets holding these rows in the project (copy): its name, for
    QLOOP_TARGET_OVERRIDES."""
    folder = project / "target_overrides" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OVERRIDES_FILE).write_text(rows, encoding="utf-8")
    return name


def run_pipeline(project: Path, root: Path, overrides: str | None) -> Path:
    """The pipeline on the fixture inbox in a fresh home under `root`, by this set of
    overrides (None: the deployment's, header only)."""
    inbox, home = root / "inbox", root / "home"
    build_inbox(inbox)
    result = qloop_run(inbox, home, project, overrides)
    assert result.returncode == 0, result.stdout + result.stderr
    (home / "summary.txt").write_text(result.stdout, encoding="utf-8")
    return home


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The project with every KPI's min_volume 1 and the set `fixture` of the overrides
    below (the deployment's set as the repository ships it)."""
    project = project_copy(tmp_path_factory.mktemp("targets-dbt") / "dbt", min_volume=1)
    add_overrides(project, "fixture", OVERRIDES)
    return project


@pytest.fixture(scope="module")
def overrides(project) -> str:
    return "fixture"


@pytest.fixture(scope="module")
def homes(project, overrides, tmp_path_factory):
    plain = run_pipeline(project, tmp_path_factory.mktemp("targets-plain"), None)
    overridden = run_pipeline(project, tmp_path_factory.mktemp("targets-override"), overrides)
    return plain, overridden


def query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def issue_pairs(home: Path) -> set[tuple[str, str]]:
    result = qloop("issues", "list", "--json", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return {(i["kpi_code"], i["region_code"]) for i in json.loads(result.stdout)}


def signals(home: Path, kpi: str, region: str) -> set[tuple[str, str]]:
    return {(rule, str(day)) for rule, day in query(
        home, "select rule, period_start from fct_kpi_breach_signals "
              "where kpi_code = ? and region_code = ?", [kpi, region])}


def test_the_run_summary_says_which_overrides_judged(homes, project, overrides):
    plain, overridden = homes
    assert (f"Per-scope targets: 0 override row(s) from "
            f"{project / 'target_overrides' / 'deployment' / OVERRIDES_FILE} "
            "(none: every region is judged by the catalog)"
            in (plain / "summary.txt").read_text(encoding="utf-8"))
    assert (f"Per-scope targets: 4 override row(s) from "
            f"{project / 'target_overrides' / overrides / OVERRIDES_FILE}\n"
            in (overridden / "summary.txt").read_text(encoding="utf-8"))


def _run_id(result: subprocess.CompletedProcess) -> str:
    return Path(result.stdout.strip().splitlines()[-1].split()[-1]).name.removesuffix(".log")


def test_other_overrides_on_a_built_home_rebuild_what_they_judge(homes, project, overrides,
                                                                 tmp_path):
    """The plain home run again by the overrides: dbt sees the seed's new contents (its
    state comparison), so the run rebuilds the seed and everything below it in full; the
    KPI marts then equal those of the home built by the overrides from the start (the
    drill-down is incremental: without the rebuild its days would keep the catalog's
    targets). A run by the same overrides again rebuilds nothing in full."""
    plain, overridden = homes
    home = tmp_path / "home"
    shutil.copytree(plain, home, ignore=shutil.ignore_patterns("*.wal", "*.migrate.lock"))
    result = qloop_run(plain.parent / "inbox", home, project, overrides)
    assert result.returncode == 0, result.stdout + result.stderr
    rebuilt = json.loads((home / "runs" / f"{_run_id(result)}.qualityloop_dbt_models.changed"
                                           ".run_results.json").read_text())
    assert rebuilt["args"]["full_refresh"] is True
    assert {"seed.qualityloop.kpi_target_overrides", "model.qualityloop.int_kpi_scope_targets",
            "model.qualityloop.fct_kpi_drilldown", "model.qualityloop.fct_kpi_values"} <= {
        r["unique_id"] for r in rebuilt["results"]}
    for table, columns in (("fct_kpi_values", "*"),
                           ("fct_kpi_drilldown", "* exclude (_loaded_through, _as_of_at)")):
        every_row = f"select {columns} from {table} order by all"
        assert query(home, every_row) == query(overridden, every_row), table
    again = qloop_run(plain.parent / "inbox", home, project, overrides)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not (home / "runs" / f"{_run_id(again)}.qualityloop_dbt_models.changed"
                                 ".run_results.json").exists()


@pytest.mark.parametrize("name", ["no_such_set", "../seeds"])
def test_a_set_the_project_does_not_hold_is_refused_before_the_run(tmp_path, name):
    (tmp_path / "inbox").mkdir()
    result = qloop_run(tmp_path / "inbox", tmp_path / "home", overrides=name)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"qloop run: no set of per-scope targets named '{name}' (QLOOP_TARGET_OVERRIDES; "
        "the project has: demo, deployment)")
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()


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
    project = project_copy(tmp_path / "dbt")
    bad = add_overrides(project, "bad", HEADER + (
        "K05,store_level,flagship,,2026-10-01,0.97,0.95,not a scope of K05\n"
        "K08,city,NJ,,2026-10-01,0.06,0.04,down KPI with red below target\n"
        "K12,city,WX,,2026-10-01,0.90,0.85,\n"  # allowed, but without its reason
    ))
    where = {"warehouse": tmp_path / "w.duckdb", "target": tmp_path / "target",
             "project": project, "overrides": bad, "timeout": 300}
    seeded = dbt("seed", **where)
    assert seeded.returncode == 0, seeded.stdout
    tested = dbt("test", "--select", "kpi_target_overrides", "--store-failures", **where)
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
