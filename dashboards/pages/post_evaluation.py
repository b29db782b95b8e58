"""Post-evaluation of launched changes (变更后评估): per change x KPI x region the N days before
the launch against the N days after, the difference, the p-value and a coloured verdict;
filters by owner department and verdict (also query parameters:
/post-evaluation?department=HOTLINE&verdict=worse); a worse verdict links to its issue."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html

from dagster_project.lib.remediation.reference import departments

from dashboards.bad_input import record_id
from dashboards.components.common import empty_state, format_change, format_value, is_missing
from dashboards.components.issues import department_label, kpi_label
from dashboards.data import NoBoardData
from dashboards.data import post_evaluation as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/post-evaluation", name="post_evaluation",
                   title="QualityLoop · Post-evaluation")

COLUMNS = ("pe_change", "col_owner_department", "pe_launched_on", "kpi", "region",
           "pe_before", "pe_after", "pe_difference", "pe_p_value", "pe_verdict", "pe_issue")
DASH = "—"


def verdict_badge(verdict: str, lang: str) -> html.Span:
    return html.Span(t(f"verdict_{verdict}", lang), className=f"verdict verdict-{verdict}",
                     **{"data-verdict": verdict})


def _counts(numerator, denominator, unit: str) -> str:
    if unit == "ratio":
        return f"{int(numerator)}/{int(denominator)}"
    return f"{int(numerator)} / {float(denominator):.1f}"  # events / exposure


def _window(start, end, value, numerator, denominator, unit: str) -> html.Div:
    return html.Div([
        html.Span(format_value(value, unit), className="pe-value"),
        html.Span(f" ({_counts(numerator, denominator, unit)})", className="muted"),
        html.Div(f"{start:%Y-%m-%d} – {end:%Y-%m-%d}", className="pe-dates"),
    ])


def _p_value(p) -> str:
    if is_missing(p):
        return DASH
    return "<0.0001" if p < 0.0001 else f"{p:.4f}"


def _difference(row) -> str:
    text = format_change(row.after_value, row.before_value, row.unit)
    if row.unit == "per_10k" and not is_missing(row.rate_ratio):
        text += f" (×{row.rate_ratio:.2f})"
    return text


def evaluation_table(found, lang: str) -> html.Table:
    header = html.Thead(html.Tr([html.Th(t(c, lang)) for c in COLUMNS]))
    body = [html.Tr([
        html.Td([html.Span(f"#{r.change_id} "), html.Span(r.title)]),
        html.Td(department_label(r.owner_department, lang)),
        html.Td(f"{r.launched_on:%Y-%m-%d}"),
        html.Td(kpi_label(r.kpi_code, lang)),
        html.Td(r.region_code),
        html.Td(_window(r.before_start, r.before_end, r.before_value, r.before_numerator,
                        r.before_denominator, r.unit)),
        html.Td(_window(r.after_start, r.after_end, r.after_value, r.after_numerator,
                        r.after_denominator, r.unit)),
        html.Td(_difference(r), className="num"),
        html.Td(_p_value(r.p_value), className="num"),
        html.Td(verdict_badge(r.verdict, lang)),
        html.Td(dcc.Link(f"#{int(r.issue_id)}", href=f"/issues/{int(r.issue_id)}",
                         className="issue-link") if not is_missing(r.issue_id) else DASH),
    ], className="pe-row", **{"data-change": str(r.change_id), "data-kpi": r.kpi_code,
                              "data-region": r.region_code, "data-verdict": r.verdict})
        for r in found.itertuples(index=False)]
    return html.Table([header, html.Tbody(body)], className="data post-evaluation",
                      id="post-evaluation-table")


def evaluation_content(department: str | None, verdict: str | None,
                       change_id: int | None = None) -> html.Div:
    lang = language()
    try:
        found = data.evaluations(department, verdict, change_id)
    except NoBoardData:
        return empty_state(t("no_board_data"))
    if found.empty:
        return empty_state(t("pe_none"))
    return html.Div([
        html.Span(t("pe_count", lang).format(n=len(found)), id="post-evaluation-count",
                  **{"data-count": str(len(found))}),
        evaluation_table(found, lang),
    ])


def _clean(department: str | None, verdict: str | None) -> tuple[str | None, str | None]:
    """Filters from the URL or the controls; unknown values are ignored."""
    return (department if department in departments() else None,
            verdict if verdict in data.VERDICTS else None)


def layout(department: str | None = None, verdict: str | None = None, change=None, **_):
    lang = language()
    department, verdict = _clean(department, verdict)
    change_id = record_id(change)
    return html.Div([
        html.H2(t("nav_post_evaluation")),
        html.P(t("pe_note"), className="muted", id="post-evaluation-note"),
        html.Div([
            html.Label([t("col_owner_department"), dcc.Dropdown(
                id="post-evaluation-department", value=department, clearable=True,
                placeholder=t("all"),
                options=[{"label": department_label(code, lang), "value": code}
                         for code in departments()])]),
            html.Label([t("pe_verdict"), dcc.Dropdown(
                id="post-evaluation-verdict", value=verdict, clearable=True,
                placeholder=t("all"),
                options=[{"label": t(f"verdict_{v}", lang), "value": v}
                         for v in data.VERDICTS])]),
        ], className="controls"),
        dcc.Store(id="post-evaluation-change", data=change_id),
        html.Div(evaluation_content(department, verdict, change_id), id="post-evaluation-content"),
    ])


@callback(Output("post-evaluation-content", "children"),
          Input("post-evaluation-department", "value"), Input("post-evaluation-verdict", "value"),
          State("post-evaluation-change", "data"), prevent_initial_call=True)
def _filter(department, verdict, change_id):
    return evaluation_content(*_clean(department, verdict), record_id(change_id))
