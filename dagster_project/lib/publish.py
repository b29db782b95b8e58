"""The board's published copy of the marts: a separate DuckDB file, replaced atomically.

The board never opens the warehouse: a pipeline run holds its write lock and rebuilds its
tables. After a run, the marts the board reads are copied into a new file that then
replaces `<home>/board/board.duckdb` with os.replace: a reader that has the old file open
keeps its snapshot, the next one sees the new file, nobody sees half-built numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

from .warehouse import connect

# What the board reads: marts only, never raw facts.
BOARD_TABLES = (
    "fct_kpi_values", "fct_kpi_drilldown", "fct_kpi_control_chart", "fct_kpi_breach_signals",
    "fct_horizontal_assessment", "fct_file_reconciliation", "fct_rejected_rows", "int_as_of",
    # which periods detection judges (K04's lag): the KPI page says why a red value of a
    # period not yet complete opened no issue
    "int_kpi_complete_through",
    "int_cities", "int_stores", "int_teams", "int_districts", "int_agents", "kpi_catalog",
    "kpi_target_overrides",
    "departments", "raw_files", "raw_deliveries", "qa_suite_results", "qa_expectation_results",
    "qa_freshness",
    # post-evaluation of launched changes (issue 7): the verdicts and the issues they opened
    "fct_change_post_evaluation", "rem_post_evaluations",
    # issue 7 item 4: the satisfaction post-evaluation of each closed issue
    "fct_issue_satisfaction_evaluation",
    # complaint and contact hotspots: volumes, every series' expected level, the hotspots,
    # the complaints behind them and the launched changes they may come from
    "fct_contact_volumes", "fct_contact_baselines", "fct_hotspots", "fct_hotspot_complaints",
    "fct_hotspot_changes",
)

# The board reads these by KPI and a date range: stored in that order, DuckDB skips the row
# groups whose min/max cannot match (a 90-day province drill-down is ~4 M rows; a K02 day
# then reads two row groups of ~35, ~2.5 ms instead of ~9 ms per query, several per page).
BOARD_ORDER = {"fct_kpi_drilldown": "kpi_code, activity_date"}


def board_path(home: Path) -> Path:
    return home / "board" / "board.duckdb"


def publish_board_copy(warehouse: Path, target: Path) -> dict[str, int]:
    """Copy BOARD_TABLES from the warehouse (attached read-only) into a new file, then swap
    it in. Nothing else may hold the warehouse open for writing meanwhile."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = connect(tmp)
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        existing = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'wh'"
        ).fetchall()}
        for table in BOARD_TABLES:
            if table in existing:
                order = f" order by {BOARD_ORDER[table]}" if table in BOARD_ORDER else ""
                con.execute(f"create table {table} as select * from wh.main.{table}{order}")
                counts[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
        con.execute("detach wh")
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(tmp, target)
    return counts
