"""Satisfaction post-evaluation of closed issues (issue 7 item 4), for the closure-list
download: the same cells as the weekly list, from the board's published copy."""

from __future__ import annotations

from datetime import datetime

import duckdb

from dagster_project.lib.remediation.closure_list import SatisfactionCells

from . import rows


def closure_satisfaction() -> dict[tuple[int, datetime], SatisfactionCells]:
    """(issue id, closed_at) -> its evaluation; empty when the published copy predates the
    mart (the download then leaves the cells empty, like the weekly list)."""
    try:
        found = rows("""
            select issue_id, closed_at, before_rate, after_rate, rate_change,
                   evaluation_status, after_days_observed
            from fct_issue_satisfaction_evaluation
        """)
    except duckdb.CatalogException:
        return {}
    return {(issue_id, closed_at): SatisfactionCells(
        before_rate=before, after_rate=after, rate_change=change, status=status,
        after_days_observed=days)
        for issue_id, closed_at, before, after, change, status, days in found}
