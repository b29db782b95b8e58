"""fct_kpi_drilldown computes the call, queue-ticket and speed-test KPIs again from the
first day a change reached (macros/kpi/kpi_windows.sql).

A hand-made case where only the K04 look-back finds that day: caller TESTREPEAT01's call Y
was answered on 2026-09-29 and ended on 10-01 22:00 (its 72 h window closes on 10-04
22:00, before T = 10-05: it counts in K04 from the first run on). The second run brings the
files of 10-05, whose call file holds a late call X of the same caller, entering the queue
on 10-04 12:00: Y is no longer resolved at first contact. X counts on 10-04 and T moves
from 10-05, so only the look-back reaches back to 09-29. The same run's ticket file holds a
new version of ticket Q2610020000004, called 1000 s after it was taken (was 40 s): K01
from 10-02 on (the day of its earlier version, still staged). The incremental result must
be the full build's, row for row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from .qloop_cli import SAMPLE, dbt, qloop_run

DAYS = ("20261001", "20261002", "20261003", "20261004")
CALLER = "TESTREPEAT01"
Y_DAY = "2026-09-29"


def _call(call_id: str, template: str, times: tuple[str, str, str, str, str]) -> str:
    """A cc_call line with the template's city, skill group and agent."""
    f = template.rstrip("\n").split(",")
    return ",".join([call_id, CALLER, f[2], *times, f[8], f[9], "0"]) + "\n"


TICKET = "Q2610020000004"
TICKET_FILE = "crm_queue_ticket_20261002.csv"
NEXT_CALLS, NEXT_TICKETS = "cc_call_20261005.csv", "crm_queue_ticket_20261005.csv"


def _inbox(root: Path, second_delivery: bool) -> Path:
    inbox = root / "inbox"
    inbox.mkdir(exist_ok=True)
    for path in SAMPLE.glob("ref_*.csv"):
        shutil.copy(path, inbox / path.name)
    for day in DAYS:
        for name in (f"cc_call_{day}.csv", f"crm_queue_ticket_{day}.csv"):
            shutil.copy(SAMPLE / name, inbox / name)
    first = (SAMPLE / "cc_call_20261001.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # Y: answered 09-29 10:00, ended 10-01 22:00 (delivered on the day it ended)
    y = _call("CTESTY0000001", first[1], ("2026-09-29 09:58:00", "2026-09-29 09:59:00",
                                          "2026-09-29 09:59:30", "2026-09-29 10:00:00",
                                          "2026-10-01 22:00:00"))
    (inbox / "cc_call_20261001.csv").write_text("".join(first) + y, encoding="utf-8")
    if second_delivery:
        x = _call("CTESTX0000001", first[1], ("2026-10-04 11:58:00", "2026-10-04 11:59:00",
                                              "2026-10-04 12:00:00", "2026-10-04 12:00:10",
                                              "2026-10-04 12:05:00"))
        (inbox / NEXT_CALLS).write_text(first[0] + x, encoding="utf-8")
        text = (SAMPLE / TICKET_FILE).read_bytes().decode("gb18030")
        header, old = text.splitlines()[0], next(
            line for line in text.splitlines() if line.startswith(TICKET + ","))
        f = old.split(",")  # taken 09:07:24, called 09:08:04 -> 09:24:04 (1000 s)
        assert f[3] == "2026-10-02 09:07:24" and f[7] == "served", old
        f[4], f[5], f[8] = "2026-10-02 09:24:04", "2026-10-02 09:30:00", "2026-10-05 08:00:00"
        (inbox / NEXT_TICKETS).write_bytes(f"{header}\n{','.join(f)}\n".encode("gb18030"))
    return inbox


def _rows(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _drilldown(home: Path) -> list[tuple]:
    """Every row of fct_kpi_drilldown but the text naming where its target came from and
    what it was built from (the two homes differ there by design)."""
    return _rows(home, "select * exclude (scope_target_source, _loaded_through, _as_of_at) "
                       "from fct_kpi_drilldown order by all")


Y_K04 = (f"select numerator, denominator from fct_kpi_drilldown "
         f"where kpi_code = 'K04' and activity_date = date '{Y_DAY}'")
TICKET_K01 = ("select sum(numerator), sum(denominator) from fct_kpi_drilldown "
              "where kpi_code = 'K01' and activity_date = date '2026-10-02' and store_id = 'CZS02'")


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    root = tmp_path_factory.mktemp("call_days")
    home = root / "incremental"
    inbox = _inbox(root, second_delivery=False)
    first = qloop_run(inbox, home)
    assert first.returncode == 0, first.stdout + first.stderr
    y_before, ticket_before = _rows(home, Y_K04), _rows(home, TICKET_K01)
    _inbox(root, second_delivery=True)
    second = qloop_run(inbox, home)
    assert second.returncode == 0, second.stdout + second.stderr
    full = root / "full"
    rebuilt = qloop_run(inbox, full)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    return {"incremental": home, "full": full, "y_before": y_before,
            "ticket_before": ticket_before, "second": second}


def test_the_case_changes_y_k04_and_the_ticket_k01(homes):
    assert homes["y_before"] == [(1, 1)]  # Y alone on its day, resolved at first contact
    assert _rows(homes["full"], Y_K04) == [(0, 1)]  # X is its repeat within 72 h
    (numerator, denominator), = homes["ticket_before"]
    assert _rows(homes["full"], TICKET_K01) == [(numerator - 1, denominator)]


def test_the_second_run_recomputed_the_call_kpis_from_y_day(homes):
    """The rows the second build wrote are those of its newest delivery: of each windowed
    KPI, the days from its window on (no speed-test file at all: no K15 row)."""
    written = _rows(homes["incremental"], """
        select kpi_code, cast(min(activity_date) as varchar) from fct_kpi_drilldown
        where _loaded_through = (select max(_loaded_through) from fct_kpi_drilldown)
          and kpi_code in ('K01', 'K02', 'K03', 'K04', 'K15')
        group by kpi_code order by kpi_code""")
    assert written == [("K01", "2026-10-02"), ("K02", Y_DAY), ("K03", Y_DAY), ("K04", Y_DAY)]
    kept = _rows(homes["incremental"], """
        select count(*) from fct_kpi_drilldown
        where _loaded_through < (select max(_loaded_through) from fct_kpi_drilldown)""")
    assert kept[0][0] > 0  # the days before the windows were kept, not computed again
    assert _rows(homes["incremental"], Y_K04) == [(0, 1)]


def test_the_incremental_drilldown_is_the_full_one(homes):
    full = _drilldown(homes["full"])
    assert len(full) > 100 and _drilldown(homes["incremental"]) == full
    snapshot = sorted((homes["full"] / "exports").glob("kpi_snapshot_*.csv"))[-1]
    assert (homes["incremental"] / "exports" / snapshot.name).read_bytes() == snapshot.read_bytes()


def test_models_built_alone_still_give_the_full_build(homes, tmp_path):
    """Subsets materialized alone (from the Dagster UI): a call file delivered again is
    parsed and its calls chosen again by int_calls alone, then int_calls again, then the
    drilldown alone. The drilldown reads the deliveries since its own last build, whatever
    the models before it did meanwhile: still the full build's rows."""
    from dagster_project.lib.settings import DBT_PROJECT_DIR

    home = tmp_path / "home"
    shutil.copytree(homes["incremental"], home)

    def build(*select: str) -> None:
        done = dbt("build", "--exclude-resource-type", "unit_test", "--select", *select,
                   warehouse=home / "warehouse.duckdb", target=tmp_path / "target",
                   project=DBT_PROJECT_DIR)
        assert done.returncode == 0, done.stdout[-3000:]

    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("update raw_files set loaded_at = (select max(loaded_at) from raw_files) "
                "+ interval 1 minute where file_name = 'cc_call_20261003.csv'")  # as if landed again
    con.close()
    build("stg_cc__calls", "int_calls")
    build("int_calls")
    build("fct_kpi_drilldown")
    assert _drilldown(home) == _drilldown(homes["full"])
