"""Horizontal assessment (横向考核): the monthly ranking of cities and departments."""

from __future__ import annotations

from datetime import date

import pandas as pd

from . import frame, rows


def months() -> list[tuple[date, bool]]:
    """(month, complete) newest first; a month is complete once T has reached its end."""
    return [(m, bool(complete)) for m, complete in rows("""
        select distinct h.month,
               (h.month + interval 1 month)::date <= (select as_of_date from dim_as_of)
        from fct_horizontal_assessment as h
        order by 1 desc
    """)]


def default_month(found: list[tuple[date, bool]]) -> date | None:
    """The latest complete month, else the latest month."""
    for month, complete in found:
        if complete:
            return month
    return found[0][0] if found else None


def assessment(month: date, scope_type: str) -> pd.DataFrame:
    names = ("left join dim_cities as n on n.city_code = h.scope_code",
             "n.city_name_zh as name_zh, n.city_name_en as name_en") if scope_type == "city" else (
        "left join dim_departments as n on n.department_code = h.scope_code",
        "n.department_name_zh as name_zh, n.department_name_en as name_en")
    return frame(f"""
        select h.scope_code, {names[1]}, h.rank, h.score, h.attainment, h.kpi_values,
               h.green_values, h.issues, h.on_time_issues, h.on_time_share,
               h.overdue_issues, h.reopened_issues, h.reopen_rate,
               h.satisfaction_issues, h.satisfaction_pending_issues, h.satisfaction_before,
               h.satisfaction_after, h.satisfaction_change
        from fct_horizontal_assessment as h {names[0]}
        where h.month = $m and h.scope_type = $st
        order by h.rank nulls last, h.scope_code
    """, {"m": month, "st": scope_type})
