"""Incremental runs give exactly what a full rebuild gives (docs/incremental.md).

The committed sample arrives in three runs on one home, with the awkward cases on the
way: the last two days late, a cc_call file first delivered wrong (an extra record, a
missing one) and corrected in run 2, and ref_agent first delivered without an agent
(its calls rejected by rule 4) and corrected in run 3. The result is compared with the
session's full run of the same sample: the snapshot byte for byte, and every staging,
entity and KPI table row for row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from dagster_project.defs.transform.dbt import qualityloop_dbt_models
from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES

from .qloop_cli import DEMO_TARGETS, SAMPLE, dbt, qloop, qloop_run, redelivered

LATE_DAYS = ("20261107", "20261108")
CORRECTED = "cc_call_20261020.csv"
MARKED = "cc_call_20261012.csv"  # a file no later run touches: its rows are never re-parsed
MARK = "marker: row not re-parsed"
INCREMENTAL = ["stg_crm__queue_tickets", "stg_crm__surveys", "stg_crm__complaints",
               "stg_billing__disputes", "stg_billing__refunds", "stg_cc__calls",
               "stg_fo__work_orders", "stg_net__speed_tests", "int_queue_tickets",
               "int_surveys", "int_complaints", "int_disputes", "int_refunds", "int_calls",
               "int_work_orders", "int_speed_tests"]
COMPARED = INCREMENTAL + ["int_agents", "int_stores", "int_kpi_scope_targets", "fct_kpi_values", "fct_kpi_drilldown", "fct_kpi_snapshot",
                          "fct_rejected_rows", "fct_file_reconciliation", "fct_kpi_breach_signals"]
# When and by which run a file was landed, and so which delivery and T a row was built
# through, differ between the two homes, by design.
BUILT_THROUGH = "exclude (_loaded_through)"
NOT_COMPARED = {**{table: BUILT_THROUGH for table in INCREMENTAL},
                "fct_kpi_drilldown": "exclude (_loaded_through, _as_of_at)",
                "fct_rejected_rows": BUILT_THROUGH,
                "fct_file_reconciliation": "exclude (loaded_at, run_id, _loaded_through)"}


def _wrong_first_deliveries(inbox: Path) -> tuple[str, str]:
    """cc_call: line 3 left out, an extra record added. ref_agent: one agent left out.
    Returns (the extra call's id, the agent left out)."""
    lines = (SAMPLE / CORRECTED).read_text(encoding="utf-8").splitlines(keepends=True)
    extra = lines[1].replace("C2610200000001", "C26102099EXTRA", 1)
    (inbox / CORRECTED).write_text("".join([lines[0], lines[1], *lines[3:], extra]), encoding="utf-8")
    agent = next(a for a in (line.split(",")[9] for line in lines[4:]) if a and a != extra.split(",")[9])
    agents = (SAMPLE / "ref_agent.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (inbox / "ref_agent.csv").write_text("".join(a for a in agents if not a.startswith(agent + ",")),
                                         encoding="utf-8")
    return "C26102099EXTRA", agent


def _query(home: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


AGENT_REJECTS = "select count(*) from fct_rejected_rows where rule = 4 and reason = ?"
# the keys int_calls' latest build wrote
LATEST_BUILD_KEYS = ("select call_id from int_calls "
                     "where _loaded_through = (select max(_loaded_through) from int_calls)")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    inbox, home = root / "inbox", root / "home"
    shutil.copytree(SAMPLE, inbox)
    held = root / "held"
    held.mkdir()
    for day in LATE_DAYS:
        for path in inbox.glob(f"*_{day}.csv"):
            shutil.move(path, held / path.name)
    extra_call, agent = _wrong_first_deliveries(inbox)
    # by the demo's targets, as the sample home it is compared with
    first = qloop_run(inbox, home, overrides=DEMO_TARGET_OVERRIDES)
    assert first.returncode == 0, first.stdout + first.stderr
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    unmarked = con.execute("select reject_reason from stg_cc__calls where _file = ? and _line = 2",
                           [MARKED]).fetchone()[0]
    con.execute("update stg_cc__calls set reject_reason = ? where _file = ? and _line = 2",
                [MARK, MARKED])
    con.close()
    before = {"extra": _query(home, "select count(*) from int_calls where call_id = ?", [extra_call])[0][0],
              "agent_rejects": _query(home, AGENT_REJECTS, [f"agent_id: unknown '{agent}'"])[0][0]}

    # run 2: the first late day, and the corrected cc_call file
    for path in held.glob(f"*_{LATE_DAYS[0]}.csv"):
        shutil.move(path, inbox / path.name)
    shutil.copy(SAMPLE / CORRECTED, inbox / CORRECTED)
    redelivered(inbox / CORRECTED)
    second = qloop_run(inbox, home, overrides=DEMO_TARGET_OVERRIDES)
    assert second.returncode == 0, second.stdout + second.stderr
    marked_after_second = _query(home, "select count(*) from stg_cc__calls where reject_reason = ?", [MARK])[0][0]
    written_by_second = {r[0] for r in _query(home, LATEST_BUILD_KEYS)}
    calls_of = {name: {r[0] for r in _query(home, "select call_id from int_calls where _file = ?", [name])}
                for name in (f"cc_call_{LATE_DAYS[0]}.csv", CORRECTED, MARKED)}

    # run 3: the last day, and the corrected reference file (every row judged again)
    for path in held.glob(f"*_{LATE_DAYS[1]}.csv"):
        shutil.move(path, inbox / path.name)
    shutil.copy(SAMPLE / "ref_agent.csv", inbox / "ref_agent.csv")
    redelivered(inbox / "ref_agent.csv")
    third = qloop_run(inbox, home, overrides=DEMO_TARGET_OVERRIDES)
    assert third.returncode == 0, third.stdout + third.stderr
    marked_after_third = _query(home, "select count(*) from stg_cc__calls where reject_reason = ?", [MARK])[0][0]
    # the mark is the test's, not the pipeline's: gone before the tables are compared
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("update stg_cc__calls set reject_reason = ? where _file = ? and _line = 2",
                [unmarked, MARKED])
    con.close()
    return {"home": home, "inbox": inbox, "extra_call": extra_call, "agent": agent, "before": before,
            "marked_after_second": marked_after_second, "written_by_second": written_by_second,
            "marked_after_third": marked_after_third,
            "calls_of": calls_of, "outputs": (first, second, third)}


def test_the_wrong_first_deliveries_were_in_force_after_run_1(runs):
    assert runs["before"]["extra"] == 1
    assert runs["before"]["agent_rejects"] > 0


def test_run_2_re_parsed_only_what_arrived(runs):
    # the marked row of an untouched file survived run 2: its file was not parsed again
    assert runs["marked_after_second"] == 1
    files_line = runs["outputs"][1].stdout.splitlines()[0]
    assert files_line.startswith("Files: 8 loaded, 1 replaced,"), files_line


def test_a_reference_change_judges_every_row_again_without_parsing_it_again(runs):
    """Run 3's corrected ref_agent: rule 4 judged every call again (the agent's calls are no
    longer rejected, and are chosen), while staging, which rule 4 is not part of, parsed
    only the new day (the marked row of an untouched file is still there)."""
    home = runs["home"]
    assert _query(home, AGENT_REJECTS, [f"agent_id: unknown '{runs['agent']}'"])[0][0] == 0
    assert _query(home, "select count(*) from int_calls where agent_id = ?", [runs["agent"]])[0][0] \
        >= runs["before"]["agent_rejects"]
    assert runs["marked_after_third"] == 1


def test_a_corrected_redelivery_drops_the_record_it_no_longer_has(runs):
    assert _query(runs["home"], "select count(*) from int_calls where call_id = ?",
                  [runs["extra_call"]])[0][0] == 0


def test_every_run_ran_every_step(runs):
    """The quality suites, detection and the after-detection build ran in each of the
    three runs."""
    reports = runs["home"] / "runs"
    assert len(list(reports.glob("*.quality.json"))) == 3
    assert len(list(reports.glob("*.remediation.json"))) == 3
    assert len(list(reports.glob("*.qualityloop_dbt_after_detection.run_results.json"))) == 3


def test_the_snapshot_is_byte_for_byte_the_full_rebuilds(runs, sample_home):
    full_home, _ = sample_home
    name = "kpi_snapshot_20261108.csv"
    assert (runs["home"] / "exports" / name).read_bytes() == (full_home / "exports" / name).read_bytes()
    chk = name.replace(".csv", ".chk")
    assert (runs["home"] / "exports" / chk).read_bytes() == (full_home / "exports" / chk).read_bytes()


@pytest.mark.parametrize("table", COMPARED)
def test_every_table_equals_the_full_rebuilds(runs, sample_home, table):
    full_home, _ = sample_home
    cols = NOT_COMPARED.get(table, "")
    con = duckdb.connect()
    try:
        con.execute(f"attach '{full_home / 'warehouse.duckdb'}' as full_build (read_only)")
        con.execute(f"attach '{runs['home'] / 'warehouse.duckdb'}' as incremental (read_only)")
        only_full, only_incremental = (con.execute(
            f"select count(*) from (select * {cols} from {a}.main.{table} "
            f"except all select * {cols} from {b}.main.{table})"
        ).fetchone()[0] for a, b in (("full_build", "incremental"), ("incremental", "full_build")))
        rows = con.execute(f"select count(*) from incremental.main.{table}").fetchone()[0]
    finally:
        con.close()
    assert rows > 0 and (only_full, only_incremental) == (0, 0)


def test_full_refresh_from_the_command_line_rebuilds_every_row(runs, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(runs["home"], home)
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("update stg_cc__calls set reject_reason = ? where _file = ? and _line = 2", [MARK, MARKED])
    con.close()
    result = qloop("run", "--inbox", str(SAMPLE), "--home", str(home), "--full-refresh",
                   env_extra=DEMO_TARGETS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _query(home, "select count(*) from stg_cc__calls where reject_reason = ?", [MARK])[0][0] == 0


def test_a_backfill_lands_its_dates_again_and_changes_no_number(runs, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(runs["home"], home)
    before = (home / "exports" / "kpi_snapshot_20261108.csv").read_bytes()
    last_load = _query(home, "select max(loaded_at) from raw_files")[0][0]

    result = qloop("backfill", "--from", "2026-10-31", "--to", "2026-11-01",
                   "--inbox", str(runs["inbox"]), "--home", str(home), env_extra=DEMO_TARGETS)

    assert result.returncode == 0, result.stdout + result.stderr
    # 8 daily files of each of the two days, and the two monthly files of October
    assert result.stdout.splitlines()[0].startswith("Files: 0 loaded, 18 replaced, 371 unchanged, 3 rejected"), \
        result.stdout.splitlines()[0]
    relanded = {r[0] for r in _query(home, "select file_name from raw_files where loaded_at > ?", [last_load])}
    assert len(relanded) == 18 and {"crm_subscriber_202610.csv", "billing_bill_run_202610.csv",
                                    "cc_call_20261031.csv", "cc_call_20261101.csv"} <= relanded
    assert (home / "exports" / "kpi_snapshot_20261108.csv").read_bytes() == before


def test_a_backfill_range_must_be_dates_in_order(tmp_path):
    result = qloop("backfill", "--from", "2026-11-02", "--to", "2026-11-01",
                   "--inbox", str(SAMPLE), "--home", str(tmp_path / "home"))
    assert result.returncode == 2
    assert "qloop backfill: backfill from 2026-11-02 to 2026-11-01: the range is empty" in result.stderr
    result = qloop("backfill", "--from", "2026-11-31", "--to", "2026-12-01",
                   "--inbox", str(SAMPLE), "--home", str(tmp_path / "home"))
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr


def test_a_backfill_covers_daily_files_by_date_and_monthly_files_by_overlap():
    from datetime import date

    from dagster_project.lib.extracts import match_file_name
    from dagster_project.lib.ingest import Backfill

    first_of_november = Backfill(date(2026, 11, 1), date(2026, 11, 2))
    assert first_of_november.covers(match_file_name("cc_call_20261102.csv"))
    assert not first_of_november.covers(match_file_name("cc_call_20261031.csv"))
    assert not first_of_november.covers(match_file_name("crm_subscriber_202610.csv"))
    assert Backfill(date(2026, 10, 31), date(2026, 10, 31)).covers(match_file_name("crm_subscriber_202610.csv"))
    assert not first_of_november.covers(match_file_name("ref_agent.csv"))


def test_the_quality_frames_from_the_per_delivery_cache_equal_a_full_scan(runs):
    # After three runs (a re-delivery, late days, a reference change), each suite's frame as
    # the run computes it (per-file aggregates from the cache) equals a scan of every row.
    import pandas.testing

    from dagster_project.lib.quality.metrics import metric_frame
    from dagster_project.lib.quality.suites import load_suites

    con = duckdb.connect(str(runs["home"] / "warehouse.duckdb"), read_only=True)
    try:
        for suite in load_suites():
            pandas.testing.assert_frame_equal(metric_frame(con, suite, cached=True),
                                              metric_frame(con, suite), obj=suite.name)
    finally:
        con.close()


def test_the_quality_cache_computes_only_new_deliveries(runs, tmp_path):
    from dagster_project.lib.dbt_state import project_fingerprint
    from dagster_project.lib.quality.metrics import file_metrics_table, refresh_file_metrics
    from dagster_project.lib.quality.suites import load_suites

    home = tmp_path / "home"
    shutil.copytree(runs["home"], home)
    suite = next(s for s in load_suites() if s.entity.prefix == "cc_call")
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        fingerprint = project_fingerprint()  # the project that built it
        files = con.execute("select count(*) from raw_files where entity = 'cc_call'").fetchone()[0]
        assert refresh_file_metrics(con, suite, fingerprint) == 0  # the last run left it current
        con.execute("update raw_files set loaded_at = loaded_at + interval 1 second "
                    "where file_name = ?", [CORRECTED])  # as a re-delivery would
        assert refresh_file_metrics(con, suite, fingerprint) == 1
        assert con.execute(f"select count(*) from {file_metrics_table(suite)}").fetchone()[0] == files
        # another dbt project (staging may parse differently): every delivery again
        assert refresh_file_metrics(con, suite, "another project") == files
    finally:
        con.close()


class _HomeCopy:
    """A copy of the runs' home, its warehouse edited by SQL and tested by `dbt test`."""

    def __init__(self, runs, tmp_path: Path):
        self.home = tmp_path / "home"
        shutil.copytree(runs["home"], self.home)
        self.warehouse = self.home / "warehouse.duckdb"
        self.target = tmp_path / "target"

    def test_passes(self, test_name: str) -> bool:
        done = dbt("test", "--select", test_name, warehouse=self.warehouse, target=self.target,
                   overrides=DEMO_TARGET_OVERRIDES, timeout=300)
        assert test_name in done.stdout, done.stdout
        return done.returncode == 0

    def sql(self, statement: str, params=()) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse))
        try:
            return con.execute(statement, list(params)).fetchall()
        finally:
            con.close()


def test_the_staging_line_test_checks_the_files_its_latest_build_parsed(runs, tmp_path):
    """unique_lines_in_latest_build: a repeated (_file, _line) is found in a file the
    latest build parsed (run 3's day), not in one it left alone (which the build that
    parsed it tested); after a full build, whose rows all carry its delivery, everywhere."""
    copy = _HomeCopy(runs, tmp_path)
    sql = copy.sql
    day_file = f"cc_call_{LATE_DAYS[1]}.csv"

    def line_test_passes() -> bool:
        return copy.test_passes("unique_lines_in_latest_build_stg_cc__calls_")

    latest = {r[0] for r in sql("select distinct _file from stg_cc__calls where _loaded_through = "
                                "(select max(_loaded_through) from stg_cc__calls)")}
    assert latest == {day_file}
    assert line_test_passes()

    plant = "insert into stg_cc__calls select * from stg_cc__calls where _file = ? and _line = 2"
    sql(plant, [MARKED])
    assert line_test_passes()  # a file the latest build did not parse
    sql(plant, [day_file])
    assert not line_test_passes()  # a file it parsed
    sql("delete from stg_cc__calls where rowid = (select max(rowid) from stg_cc__calls "
        "where _file = ? and _line = 2)", [day_file])
    assert line_test_passes()
    sql("update stg_cc__calls set _loaded_through = (select max(_loaded_through) from stg_cc__calls)")
    assert not line_test_passes()  # as after a full build: MARKED's repeat is found


def test_run_2_wrote_the_keys_of_what_arrived(runs):
    """The keys run 2's merge wrote: those chosen from the late day's file and from the
    corrected file, none chosen from a file no run touched."""
    written = runs["written_by_second"]
    assert runs["calls_of"][f"cc_call_{LATE_DAYS[0]}.csv"] <= written
    assert runs["calls_of"][CORRECTED] <= written
    assert not runs["calls_of"][MARKED] & written


def test_the_entity_key_test_checks_the_keys_its_latest_build_wrote(runs, tmp_path):
    """unique_in_latest_build: a call left twice in int_calls is found when the latest build
    wrote its key, not when an earlier one did. The failing key is stored where the quality
    suites read it."""
    copy = _HomeCopy(runs, tmp_path)
    sql = copy.sql
    day_file = f"cc_call_{LATE_DAYS[1]}.csv"

    def key_test_passes() -> bool:
        return copy.test_passes("unique_in_latest_build_int_calls_call_id")

    # as if the latest build had been a daily one for run 3's day (no reference file)
    sql("update int_calls set _loaded_through = _loaded_through - interval 1 day where _file <> ?",
        [day_file])
    assert key_test_passes()

    plant = ("insert into int_calls select * from int_calls where call_id = "
             "(select min(call_id) from int_calls where _file = ?)")
    sql(plant, [MARKED])
    assert key_test_passes()  # a key an earlier build wrote: that build tested it
    sql(plant, [day_file])
    assert not key_test_passes()  # a key the latest build wrote
    stored = sql("select unique_field, n_records from main_dbt_test__audit.qa_duplicate_keys__cc_call")
    assert stored == sql("select call_id, 2 from int_calls where _file = ? "
                         "group by call_id having count(*) > 1", [day_file])


def test_the_assets_carry_their_row_counts(runs, monkeypatch):
    """Dagster's standard row count on the landing, dbt and issue-copy assets: what the last
    run left in each table."""
    home = runs["home"]
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    with dg.DagsterInstance.get() as instance:
        for table in ("raw_cc_call", "stg_cc__calls", "int_calls", "fct_kpi_values",
                      "fct_kpi_drilldown", "kpi_catalog", "rem_issues"):
            event = instance.get_latest_materialization_event(dg.AssetKey(table))
            rows = _query(home, f"select count(*) from {table}")[0][0]
            assert rows > 0, table
            assert event.asset_materialization.metadata["dagster/row_count"].value == rows, table
        last_run = event.run_id
        assert instance.get_run_by_id(last_run).is_success
        checks = [e for e in instance.all_logs(last_run)
                  if e.dagster_event and e.dagster_event.event_type
                  == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
        # every dbt test of the main build reported in that run (after the outputs it tests)
        assert len(checks) >= len(list(qualityloop_dbt_models.check_specs))
