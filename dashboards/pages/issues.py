"""The issue list (问题清单): every issue, filtered by KPI, state, severity, department,
region and overdue, in a grid (sorting, column filters, pages of 100, column choice, CSV).
The filters are the page's query parameters, so a filtered view is a link:
/issues?kpi=K02&state=open&severity=P1&department=FIELD&region=NJ&overdue=1. Changing a
control writes them back into the address (without reloading the page); a value the page
does not offer is ignored. Counts by state and severity stand above the grid. Issues come
from the Workflow service, with the same filters as `qloop issues list`."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import Input, Output, callback, dcc, html

from dagster_project.lib.remediation.reference import departments, kpi_catalog

from dashboards.components.grid import grid_id
from dashboards.components.issues import (SEVERITIES, STATES, filter_options, issue_counts,
                                          issue_rows, issues_grid)
from dashboards.context import board
from dashboards.data import NoBoardData
from dashboards.data import issues as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/issues", name="issues", title="QualityLoop · Issues")

TRUE_VALUES = ("1", "true", "yes", "on")
FILTERS = ("kpi", "state", "severity", "department", "region")


def _regions() -> dict[str, tuple[str, str]]:
    try:
        return data.region_names()
    except NoBoardData:
        return {}


def _kpis(views: list) -> list[str]:
    """The catalog's KPIs and any other subject an issue has (a promoted hotspot's
    category)."""
    return sorted(set(kpi_catalog()) | {v.kpi_code for v in views})


def _text(value) -> str | None:
    """A filter value as the controls send it: text, or nothing. Anything else was not sent
    by the page."""
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, str):
        raise ValueError("a filter value must be text")
    return value


def _clean(filters: dict, known: dict[str, set]) -> dict:
    """Filters from the URL: a value the page does not offer is ignored."""
    found = {name: filters.get(name) if filters.get(name) in known[name] else None
             for name in FILTERS}
    found["overdue"] = True if str(filters.get("overdue") or "").lower() in TRUE_VALUES else None
    return found


def search_of(filters: dict) -> str:
    """The query string of a filtered view (empty for the whole list)."""
    pairs = [(name, filters[name]) for name in FILTERS if filters.get(name)]
    if filters.get("overdue"):
        pairs.append(("overdue", "1"))
    return "?" + urlencode(pairs) if pairs else ""


def _listed(filters: dict, regions: dict[str, tuple[str, str]], lang: str) -> list[dict]:
    return issue_rows(board().workflow.issues(**filters), regions, lang)


def layout(**query):
    lang = language()
    regions = _regions()
    everything = board().workflow.issues()
    kpis = _kpis(everything)
    known = {"kpi": set(kpis), "state": set(STATES), "severity": set(SEVERITIES),
             "department": set(departments()), "region": set(regions)}
    filters = _clean({k: v for k, v in query.items() if isinstance(v, str)}, known)
    options = filter_options(lang, regions, list(departments()), kpis)
    rows = (issue_rows(everything, regions, lang) if not any(filters.values())
            else _listed(filters, regions, lang))

    def dropdown(name: str) -> html.Label:
        label = t("region") if name == "region" else t(f"col_{name}")
        return html.Label([label, dcc.Dropdown(
            id=f"issues-filter-{name}", options=options[name], value=filters[name],
            placeholder=t("all"), clearable=True)])

    return html.Div([
        dcc.Location(id="issues-url", refresh=False),
        html.H2(t("nav_issues")),
        html.Div([
            *(dropdown(name) for name in FILTERS),
            dcc.Checklist(id="issues-filter-overdue",
                          options=[{"label": t("overdue_only"), "value": "overdue"}],
                          value=["overdue"] if filters["overdue"] else [],
                          className="overdue-filter"),
        ], className="controls"),
        html.Div(issue_counts(rows, lang), id="issues-counts"),
        issues_grid(rows, lang),
    ])


@callback(Output("issues-counts", "children"), Output(grid_id("issues-table"), "rowData"),
          Output("issues-url", "search"),
          Input("issues-filter-kpi", "value"), Input("issues-filter-state", "value"),
          Input("issues-filter-severity", "value"), Input("issues-filter-department", "value"),
          Input("issues-filter-region", "value"), Input("issues-filter-overdue", "value"),
          prevent_initial_call=True)
def _filter_issues(kpi, state, severity, department, region, overdue):
    if not isinstance(overdue, (list, type(None))):
        raise ValueError("overdue: not what the page sends")
    filters = {"kpi": _text(kpi), "state": _text(state), "severity": _text(severity),
               "department": _text(department), "region": _text(region),
               "overdue": True if overdue else None}
    lang = language()
    rows = _listed(filters, _regions(), lang)
    return issue_counts(rows, lang), rows, search_of(filters)
