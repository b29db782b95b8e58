"""The issue list (问题清单): every issue, filtered by state, severity, department, region
and overdue. The filters are controls and also query parameters
(/issues?state=open&department=FIELD&overdue=1). Issues come from the Workflow service."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dagster_project.lib.remediation.reference import departments

from dashboards.components.common import empty_state
from dashboards.components.issues import STATES, filter_options, issues_count, issues_table
from dashboards.context import board
from dashboards.data import NoBoardData
from dashboards.data import issues as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/issues", name="issues", title="QualityLoop · Issues")

TRUE_VALUES = ("1", "true", "yes", "on")


def _regions() -> dict[str, tuple[str, str]]:
    try:
        return data.region_names()
    except NoBoardData:
        return {}


def _clean(state, severity, department, region, overdue) -> dict:
    """Filters from the URL or the controls; unknown values are ignored."""
    return {
        "state": state if state in STATES else None,
        "severity": severity if severity in ("P1", "P2", "P3") else None,
        "department": department if department in departments() else None,
        "region": region or None,
        "overdue": True if overdue else None,
    }


def issue_list(filters: dict, regions: dict[str, tuple[str, str]]) -> html.Div:
    lang = language()
    views = board().workflow.issues(**filters)
    return html.Div([
        issues_count(len(views), lang),
        issues_table(views, regions, lang) if views else empty_state(t("no_issues")),
    ])


def layout(state: str | None = None, severity: str | None = None,
           department: str | None = None, region: str | None = None,
           overdue: str | None = None, **_):
    lang = language()
    regions = _regions()
    filters = _clean(state, severity, department, region if region in regions else None,
                     (overdue or "").lower() in TRUE_VALUES)
    options = filter_options(lang, regions, list(departments()))

    def dropdown(name: str) -> html.Label:
        return html.Label([t(f"col_{name}" if name != "region" else "region"), dcc.Dropdown(
            id=f"issues-filter-{name}", options=options[name], value=filters[name],
            placeholder=t("all"), clearable=True)])

    return html.Div([
        html.H2(t("nav_issues")),
        html.Div([
            dropdown("state"), dropdown("severity"), dropdown("department"), dropdown("region"),
            dcc.Checklist(id="issues-filter-overdue",
                          options=[{"label": t("overdue_only"), "value": "overdue"}],
                          value=["overdue"] if filters["overdue"] else [],
                          className="overdue-filter"),
        ], className="controls"),
        html.Div(issue_list(filters, regions), id="issues-content"),
    ])


@callback(Output("issues-content", "children"),
          Input("issues-filter-state", "value"), Input("issues-filter-severity", "value"),
          Input("issues-filter-department", "value"), Input("issues-filter-region", "value"),
          Input("issues-filter-overdue", "value"), prevent_initial_call=True)
def _filter_issues(state, severity, department, region, overdue):
    return issue_list(_clean(state, severity, department, region, bool(overdue)), _regions())
