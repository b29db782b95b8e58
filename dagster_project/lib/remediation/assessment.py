"""The horizontal assessment (横向考核) export: one CSV per month of fct_horizontal_assessment."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ..csv_cells import neutralised_sql

ASSESSMENT_COLUMNS = (
    "month", "scope_type", "scope_code", "rank", "score", "attainment", "kpi_values",
    "green_values", "issues", "on_time_issues", "on_time_share", "overdue_issues",
    "reopened_issues", "reopen_rate",
    # beside the score, not in it (the spec's formula stays as it is): satisfaction around
    # the month's closures
    "satisfaction_issues", "satisfaction_pending_issues", "satisfaction_before",
    "satisfaction_after", "satisfaction_change",
)

TEXT_COLUMNS = ("scope_type", "scope_code")


def _csv_cell(column: str) -> str:
    quoted = f'"{column}"'
    return f"{neutralised_sql(quoted)} as {quoted}" if column in TEXT_COLUMNS else quoted


def assessment_path(exports: Path, month) -> Path:
    return exports / f"horizontal_assessment_{month:%Y%m}.csv"


def export_assessment(con: duckdb.DuckDBPyConnection, exports: Path) -> list[Path]:
    """Write (atomically) the ranking of every month the warehouse has, cities first."""
    exports.mkdir(parents=True, exist_ok=True)
    written = []
    cols = ", ".join(_csv_cell(c) for c in ASSESSMENT_COLUMNS)
    for (month,) in con.execute(
            "select distinct month from fct_horizontal_assessment order by 1").fetchall():
        final = assessment_path(exports, month)
        tmp = final.with_name(f".{final.name}.tmp")
        con.execute(
            f"copy (select {cols} from fct_horizontal_assessment where month = $month "
            "order by scope_type, rank nulls last, scope_code) "
            f"to '{tmp}' (format csv, header true, nullstr '')", {"month": month})
        os.replace(tmp, final)
        written.append(final)
    return written
