"""fct_kpi_drilldown recomputes the call KPIs from the first day a change reached (issue 6).

A hand-made case where only the K04 look-back finds that day: caller TESTREPEAT01's call Y
was answered on 2026-09-29 and ended on 10-01 22:00 (its 72 h window closes on 10-04
22:00, before T = 10-05: it counts in K04 from the first run on). The second run re-delivers
cc_call_20261004.csv with one more call X of the same caller, entering the queue on
10-04 12:00: Y is no longer resolved at first contact. The re-delivered file's own calls
are of 10-03 and 10-04 and T does not move, so only the look-back reaches back to 09-29.
The incremental result must be the full build's, row for row.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from .qloop_cli import SAMPLE, qloop_run

DAYS = ("20261001", "20261002", "20261003", "20261004")
CALLER = "TESTREPEAT01"
Y_DAY = "2026-09-29"


def _call(call_id: str, template: str, times: tuple[str, str, str, str, str]) -> str:
    """A cc_call line with the template's city, skill group and agent."""
    f = template.rstrip("\n").split(",")
    return ",".join([call_id, CALLER, f[2], *times, f[8], f[9], "0"]) + "\n"


def _inbox(root: Path, with_repeat: bool) -> Path:
    inbox = root / "inbox"
    inbox.mkdir(exist_ok=True)
    for path in SAMPLE.glob("ref_*.csv"):
        shutil.copy(path, inbox / path.name)
    for day in DAYS:
        shutil.copy(SAMPLE / f"cc_call_{day}.csv", inbox / f"cc_call_{day}.csv")
    first = (SAMPLE / "cc_call_20261001.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    # Y: answered 09-29 10:00, ended 10-01 22:00 (delivered on the day it ended)
    y = _call("CTESTY0000001", first[1], ("2026-09-29 09:58:00", "2026-09-29 09:59:00",
                                          "2026-09-29 09:59:30", "2026-09-29 10:00:00",
                                          "2026-10-01 22:00:00"))
    (inbox / "cc_call_20261001.csv").write_text("".join(first) + y, encoding="utf-8")
    if with_repeat:
        path = inbox / "cc_call_20261004.csv"
        x = _call("CTESTX0000001", first[1], ("2026-10-04 11:58:00", "2026-10-04 11:59:00",
                                              "2026-10-04 12:00:00", "2026-10-04 12:00:10",
                                              "2026-10-04 12:05:00"))
        path.write_text(path.read_text(encoding="utf-8") + x, encoding="utf-8")
        stat = path.stat()  # a re-delivery: new bytes and a later modification time
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    return inbox


def _rows(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


Y_K04 = (f"select numerator, denominator from fct_kpi_drilldown "
         f"where kpi_code = 'K04' and activity_date = date '{Y_DAY}'")


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    root = tmp_path_factory.mktemp("call_days")
    home = root / "incremental"
    inbox = _inbox(root, with_repeat=False)
    first = qloop_run(inbox, home)
    assert first.returncode == 0, first.stdout + first.stderr
    y_before = _rows(home, Y_K04)
    _inbox(root, with_repeat=True)
    second = qloop_run(inbox, home)
    assert second.returncode == 0, second.stdout + second.stderr
    full = root / "full"
    rebuilt = qloop_run(inbox, full)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    return {"incremental": home, "full": full, "y_before": y_before, "second": second}


def test_the_case_changes_y_k04(homes):
    assert homes["y_before"] == [(1, 1)]  # Y alone on its day, resolved at first contact
    assert _rows(homes["full"], Y_K04) == [(0, 1)]  # X is its repeat within 72 h


def test_the_second_run_recomputed_the_call_kpis_from_y_day(homes):
    # a day recorded: the build was incremental (a full build records NULL, every day)
    state = _rows(homes["incremental"], "select cast(recomputed_from as varchar) "
                                        "from qloop_model_as_of where model = 'fct_kpi_drilldown'")
    assert state == [(Y_DAY,)]
    assert _rows(homes["incremental"], Y_K04) == [(0, 1)]


def test_the_incremental_drilldown_is_the_full_one(homes):
    order = "order by all"
    columns = ("kpi_code, activity_date, city_code, store_id, district_code, team_id, site_id, "
               "agent_id, skill_group, numerator, denominator, counts_as_row, record_count, "
               "scope_type, scope_value, scope_target, scope_red_threshold, scope_status")
    incremental = _rows(homes["incremental"], f"select {columns} from fct_kpi_drilldown {order}")
    full = _rows(homes["full"], f"select {columns} from fct_kpi_drilldown {order}")
    assert len(full) > 100 and incremental == full
    snapshot = sorted((homes["full"] / "exports").glob("kpi_snapshot_*.csv"))[-1]
    assert (homes["incremental"] / "exports" / snapshot.name).read_bytes() == snapshot.read_bytes()
