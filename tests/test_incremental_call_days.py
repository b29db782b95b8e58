"""fct_kpi_drilldown recomputes the call, queue-ticket and speed-test KPIs from the first
day a change reached (issue 6, macros/incremental/kpi_record_days.sql).

A hand-made case where only the K04 look-back finds that day: caller TESTREPEAT01's call Y
was answered on 2026-09-29 and ended on 10-01 22:00 (its 72 h window closes on 10-04
22:00, before T = 10-05: it counts in K04 from the first run on). The second run re-delivers
cc_call_20261004.csv with one more call X of the same caller, entering the queue on
10-04 12:00: Y is no longer resolved at first contact. The re-delivered file's own calls
are of 10-03 and 10-04 and T does not move, so only the look-back reaches back to 09-29.
The same run re-delivers crm_queue_ticket_20261002.csv with ticket Q2610020000004 called
1000 s after it was taken (was 40 s): K01 from 10-02 on. The incremental result must be the
full build's, row for row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from .qloop_cli import SAMPLE, dbt, qloop_run, redelivered

DAYS = ("20261001", "20261002", "20261003", "20261004")
CALLER = "TESTREPEAT01"
Y_DAY = "2026-09-29"


def _call(call_id: str, template: str, times: tuple[str, str, str, str, str]) -> str:
    """A cc_call line with the template's city, skill group and agent."""
    f = template.rstrip("\n").split(",")
    return ",".join([call_id, CALLER, f[2], *times, f[8], f[9], "0"]) + "\n"


TICKET = "Q2610020000004"
TICKET_FILE = "crm_queue_ticket_20261002.csv"


def _redeliver(path: Path, text: str, encoding: str) -> None:
    path.write_bytes(text.encode(encoding))
    redelivered(path)


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
        path = inbox / "cc_call_20261004.csv"
        x = _call("CTESTX0000001", first[1], ("2026-10-04 11:58:00", "2026-10-04 11:59:00",
                                              "2026-10-04 12:00:00", "2026-10-04 12:00:10",
                                              "2026-10-04 12:05:00"))
        _redeliver(path, path.read_text(encoding="utf-8") + x, "utf-8")
        path = inbox / TICKET_FILE
        text = path.read_bytes().decode("gb18030")
        old = next(line for line in text.splitlines() if line.startswith(TICKET + ","))
        f = old.split(",")  # taken 09:07:24, called 09:08:04 -> 09:24:04 (1000 s)
        assert f[3] == "2026-10-02 09:07:24" and f[7] == "served", old
        f[4], f[5], f[8] = "2026-10-02 09:24:04", "2026-10-02 09:30:00", "2026-10-02 09:30:00"
        _redeliver(path, text.replace(old, ",".join(f)), "gb18030")
    return inbox


def _rows(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _drilldown(home: Path) -> list[tuple]:
    """Every row of fct_kpi_drilldown but the text naming where its target came from."""
    return _rows(home, "select * exclude (scope_target_source) from fct_kpi_drilldown order by all")


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
    # a day recorded: the build was incremental (a full build records NULL, every day)
    state = _rows(homes["incremental"], "select record_group, cast(recomputed_from as varchar) "
                                        "from qloop_kpi_windows order by record_group")
    # no speed-test file: that group recomputes the earlier T's day only
    assert state == [("calls", Y_DAY), ("queue_tickets", "2026-10-02"), ("speed_tests", "2026-10-05")]
    assert _rows(homes["incremental"], Y_K04) == [(0, 1)]


def test_the_incremental_drilldown_is_the_full_one(homes):
    full = _drilldown(homes["full"])
    assert len(full) > 100 and _drilldown(homes["incremental"]) == full
    snapshot = sorted((homes["full"] / "exports").glob("kpi_snapshot_*.csv"))[-1]
    assert (homes["incremental"] / "exports" / snapshot.name).read_bytes() == snapshot.read_bytes()


def test_the_drilldown_built_alone_recomputes_every_row(homes, tmp_path):
    """Subsets materialized alone (from the Dagster UI): a delivery's calls chosen again by
    int_calls alone, then int_calls again (it keeps no key now), then the drilldown alone.
    The kept keys are no longer all the changes since the drilldown's last build, so it
    takes no window for the calls: every call row, still the full build's."""
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
    assert _rows(home, "select count(*) from int_calls__touched_keys")[0][0] > 100
    build("int_calls")
    assert _rows(home, "select count(*) from int_calls__touched_keys") == [(0,)]
    build("fct_kpi_drilldown")
    state = dict(_rows(home, "select record_group, recomputed_from from qloop_kpi_windows"))
    assert state["calls"] is None and state["queue_tickets"] is not None
    assert _drilldown(home) == _drilldown(homes["full"])
