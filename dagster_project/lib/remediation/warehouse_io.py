"""What the closed loop reads from and writes to the warehouse (DuckDB SQL, small results).

Reads: the breach signals and the complete periods' statuses (for verification).
Writes: `rem_issues`, the copy of the issue store that dbt ranks cities and departments on;
`rem_changes` and `rem_change_scopes`, the change register (the post-evaluation's input).
Reads back: the satisfaction post-evaluation of closed issues that dbt computed from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import duckdb

from ..warehouse import CHANGE_SCOPES_COPY_TABLE, CHANGES_COPY_TABLE, ISSUES_COPY_TABLE
from .changes import ChangeView
from .closure_list import ClosureRow, SatisfactionCells
from .workflow import IssueView, Signal

PROVINCE = ("JS", "江苏省", "Jiangsu province")


def as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = con.execute("select as_of_at from int_as_of").fetchone()
    return row[0] if row else None


def read_signals(con: duckdb.DuckDBPyConnection) -> list[Signal]:
    rows = con.execute("""
        select kpi_code, region_code, rule, severity, period_type, period_start, status,
               value, numerator, denominator, detail
        from fct_kpi_breach_signals
        order by period_start, kpi_code, region_code, rule
    """).fetchall()
    return [Signal(*row) for row in rows]


def read_warnings(con: duckdb.DuckDBPyConnection, kpi_code: str | None = None,
                  region_code: str | None = None) -> list[Signal]:
    """The R4 early warnings (latest complete day of each KPI) a quality manager may promote."""
    return [s for s in read_signals(con) if s.rule == "R4"
            and kpi_code in (None, s.kpi_code) and region_code in (None, s.region_code)]


def read_statuses(con: duckdb.DuckDBPyConnection, pairs: Iterable[tuple[str, str]]
                  ) -> dict[tuple[str, str], list[tuple[date, str]]]:
    """Status of every complete period of the given (KPI, region) pairs: day rows of daily
    KPIs, month rows of month KPIs whose month is over. Which periods are complete (K04's lag
    included) is dbt's int_kpi_complete_through, the one statement of the rule. The status
    is the region's own (scope_status: judged against a city's target override where one is
    in force), as detection's: "at or better than target" means the region's target. Every
    complete period counts, low-volume ones too: closed-loop.md's minimum volume is about
    R1-R3 only (docs/decisions.md)."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    con.execute("create or replace temp table _wanted (kpi_code varchar, region_code varchar)")
    con.executemany("insert into _wanted values (?, ?)", pairs)
    rows = con.execute("""
        select v.kpi_code, v.region_code, v.period_start, v.scope_status
        from fct_kpi_values as v
        inner join _wanted using (kpi_code, region_code)
        inner join int_kpi_complete_through as c using (kpi_code)
        where (c.grain = 'day' and v.period_type = 'day'
               and v.period_start <= c.complete_through)
           or (c.grain = 'month' and v.period_type = 'month'
               and last_day(v.period_start) <= c.complete_through)
        order by 1, 2, 3
    """).fetchall()
    con.execute("drop table _wanted")
    statuses: dict[tuple[str, str], list[tuple[date, str]]] = {}
    for kpi_code, region_code, day, status in rows:
        statuses.setdefault((kpi_code, region_code), []).append((day, status))
    return statuses


def write_issue_copy(con: duckdb.DuckDBPyConnection, views: Iterable[IssueView],
                     snapshot_at: datetime) -> int:
    """Replace `rem_issues` with the store's issues as of `snapshot_at` (one transaction)."""
    rows = [(v.id, v.kpi_code, v.region_code, v.owner_department, v.severity, v.state,
             v.opened_at, v.closed_at, v.cancelled_at, v.reopen_count, v.met_all_deadlines,
             v.lateness.overdue, snapshot_at) for v in views]
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {ISSUES_COPY_TABLE}")
        if rows:
            con.executemany(f"insert into {ISSUES_COPY_TABLE} values "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return len(rows)


def write_change_copy(con: duckdb.DuckDBPyConnection, views: Iterable[ChangeView],
                      snapshot_at: datetime) -> tuple[int, int]:
    """Replace `rem_changes` and `rem_change_scopes` with the register as of `snapshot_at`
    (one transaction: the two tables always agree). Returns (changes, scope rows)."""
    views = list(views)
    change_rows = [(v.id, v.title, v.change_type, v.owner_department, v.planned_launch_date,
                    v.launched_on, v.state, snapshot_at) for v in views]
    scope_rows = [(v.id, kpi, region) for v in views for kpi, region in v.scopes]
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {CHANGE_SCOPES_COPY_TABLE}")
        con.execute(f"delete from {CHANGES_COPY_TABLE}")
        if change_rows:
            con.executemany(f"insert into {CHANGES_COPY_TABLE} values "
                            "(?, ?, ?, ?, ?, ?, ?, ?)", change_rows)
        if scope_rows:
            con.executemany(f"insert into {CHANGE_SCOPES_COPY_TABLE} values (?, ?, ?)",
                            scope_rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return len(change_rows), len(scope_rows)


def region_names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """Region code -> (Chinese, English) name: the cities of the reference data, and JS."""
    names = {code: (zh, en) for code, zh, en in con.execute(
        "select city_code, city_name_zh, city_name_en from int_cities").fetchall()}
    names[PROVINCE[0]] = PROVINCE[1:]
    return names


def read_satisfaction(con: duckdb.DuckDBPyConnection
                      ) -> dict[tuple[int, datetime], SatisfactionCells]:
    """(issue id, closed_at) -> the satisfaction post-evaluation dbt computed for that closure
    (fct_issue_satisfaction_evaluation: closed issues of the last issue copy). Keyed by the
    closure too, so an issue reopened or closed again since that copy gets no stale cells."""
    rows = con.execute("""
        select issue_id, closed_at, before_rate, after_rate, rate_change, evaluation_status,
               after_days_observed
        from fct_issue_satisfaction_evaluation
    """).fetchall()
    return {(issue_id, closed_at): SatisfactionCells(
        before_rate=before, after_rate=after, rate_change=change, status=status,
        after_days_observed=days)
        for issue_id, closed_at, before, after, change, status, days in rows}


def closure_row(view: IssueView, names: dict[str, tuple[str, str]],
                satisfaction: dict[tuple[int, datetime], SatisfactionCells] | None = None
                ) -> ClosureRow:
    from .hotspots import issue_subject
    from .reference import kpi_catalog

    region_zh, region_en = names.get(view.region_code, (view.region_code, view.region_code))
    kpi = kpi_catalog().get(view.kpi_code)
    kpi_zh, kpi_en = (kpi.name_zh, kpi.name_en) if kpi else issue_subject(view.kpi_code)
    if view.change_id is not None:  # a veto issue: about a change, not a KPI breach
        kpi_zh = f"{kpi_zh}（变更#{view.change_id} 前置体验否决）"
        kpi_en = f"{kpi_en} (change #{view.change_id} vetoed before launch)"
    return ClosureRow(
        issue_id=view.id, kpi_code=view.kpi_code, kpi_name_zh=kpi_zh,
        kpi_name_en=kpi_en, region_code=view.region_code, region_name_zh=region_zh,
        region_name_en=region_en, severity=view.severity, state=view.state,
        opened_at=view.opened_at, current_deadline=view.lateness.deadline,
        days_open=view.days_open, days_overdue=view.lateness.days_overdue,
        escalation_level=view.lateness.escalation_level, responsible=view.responsible,
        root_cause_category=view.root_cause_category,
        corrective_actions=view.corrective_actions, target_date=view.target_date,
        fix_date=view.fix_date,
        verification_days=view.verification_days if view.state == "verifying" else None,
        verification_required=view.verification_required, closed_at=view.closed_at,
        reopen_count=view.reopen_count, last_update=view.updated_at,
        overdue=view.lateness.overdue,
        satisfaction=(satisfaction or {}).get((view.id, view.closed_at))
        if view.state == "closed" else None,
    )
