"""Published-copy reads for the post-evaluation page (后评估): the verdicts of
fct_change_post_evaluation, with the issue each worse verdict opened (from the issue store:
the evidence of rule PE on the verdict's KPI, region and after window's last day)."""

from __future__ import annotations

import pandas as pd

from dagster_project.lib.remediation.post_evaluation import worse_verdict_issues

from ..context import board
from . import frame, table_names

VERDICTS = ("worse", "improved", "no_change", "no_data", "pending")


def evaluations(department: str | None = None, verdict: str | None = None,
                change_id: int | None = None) -> pd.DataFrame:
    """One row per change x KPI x region, newest launch first; empty when the published copy
    predates the post-evaluation (no mart) or no change was launched."""
    if "fct_change_post_evaluation" not in table_names():
        return pd.DataFrame()
    found = frame("""
        select m.change_id, m.title, m.change_type, m.owner_department, m.launched_on,
               m.kpi_code, m.region_code, m.unit, m.direction, m.window_days,
               m.before_start, m.before_end, m.before_numerator, m.before_denominator,
               m.before_value, m.after_start, m.after_end, m.after_numerator,
               m.after_denominator, m.after_value, m.difference, m.rate_ratio,
               m.test_method, m.z_statistic, m.p_value, m.significance_level, m.verdict
        from fct_change_post_evaluation as m
        where ($department is null or m.owner_department = $department)
          and ($verdict is null or m.verdict = $verdict)
          and ($change_id is null or m.change_id = $change_id)
        order by m.launched_on desc, m.change_id, m.kpi_code, m.region_code = 'JS' desc,
                 m.region_code
    """, {"department": department, "verdict": verdict, "change_id": change_id})
    issues = worse_verdict_issues(board().workflow) if (found["verdict"] == "worse").any() else {}
    found["issue_id"] = [
        issues.get((k, r, pd.Timestamp(d).date())) if v == "worse" and d is not None else None
        for k, r, d, v in zip(found["kpi_code"], found["region_code"], found["after_end"],
                              found["verdict"])]
    # nulls as None whatever dtype pandas picked (nullable ints give pd.NA)
    return found.astype(object).where(found.notna(), None)
