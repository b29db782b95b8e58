"""Overview scorecard: the 15 KPIs for a period and region, and the city x KPI heatmap."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import dash
from dash import Input, Output, callback, dcc, html

from dashboards.components.common import empty_state
from dashboards.components.heatmap import status_heatmap_figure
from dashboards.components.scorecard import scorecard_table
from dashboards.context import board
from dashboards.data import NoBoardData
from dashboards.data import kpis as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/", name="overview", title="QualityLoop")


def _labels(lang: str) -> dict[str, str]:
    return {k: t(k, lang) for k in ("kpi", "value", "target", "status", "change", "trend_30d",
                                      "open_issues", "green", "amber", "red", "no_data",
                                      "catalog_target")}


def _open_issues_by_kpi(region: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for view in board().workflow.issues(region=region, active_only=True):
        counts[view.kpi_code] = counts.get(view.kpi_code, 0) + 1
    return counts


def overview_content(period_type: str, period: str | None, region: str) -> html.Div:
    lang = language()
    periods = data.periods(period_type)
    if not periods:
        return empty_state(t("no_board_data"))
    start = date.fromisoformat(period) if period else periods[0]
    card = data.scorecard(period_type, start, region)
    last_day = data.periods("day")[0]
    sparks = data.sparklines(region, min(last_day, start if period_type == "day" else last_day))
    query = "?" + urlencode({"period_type": period_type, "period": start.isoformat(),
                             "region": region})
    regions = [code for code, _, _ in data.regions()]
    kpi_codes = list(card["kpi_code"])
    figure = status_heatmap_figure(data.status_heatmap(period_type, start), regions, kpi_codes,
                                   _labels(lang))
    return html.Div([
        scorecard_table(card, sparks, _open_issues_by_kpi(region), lang, _labels(lang), query),
        html.Div([html.H3(t("heatmap_title")),
                  dcc.Graph(id="status-heatmap", figure=figure, config={"displayModeBar": False})],
                 className="heatmap"),
    ], className="overview-grid")


def layout(period_type: str = "day", period: str | None = None, region: str = "JS", **_):
    lang = language()
    try:
        periods = data.periods(period_type if period_type in data.PERIOD_TYPES else "day")
        regions = data.regions()
        stamp = data.as_of()
    except NoBoardData:
        return empty_state(t("no_board_data"))
    if period_type not in data.PERIOD_TYPES:
        period_type = "day"
    period = period if period in {p.isoformat() for p in periods} else (
        periods[0].isoformat() if periods else None)
    return html.Div([
        html.Div([
            html.Label([t("period_type"), dcc.RadioItems(
                id="overview-period-type", value=period_type, inline=True,
                options=[{"label": t(p), "value": p} for p in data.PERIOD_TYPES])]),
            html.Label([t("period"), dcc.Dropdown(
                id="overview-period", value=period, clearable=False,
                options=[{"label": p.isoformat(), "value": p.isoformat()} for p in periods])]),
            html.Label([t("region"), dcc.Dropdown(
                id="overview-region", value=region, clearable=False,
                options=[{"label": f"{code} {zh if lang == 'zh' else en}", "value": code}
                         for code, zh, en in regions])]),
            html.Span(f"{t('as_of')} {stamp[0]:%Y-%m-%d %H:%M}" if stamp else "",
                      className="as-of"),
        ], className="controls"),
        dcc.Loading(html.Div(overview_content(period_type, period, region),
                             id="overview-content")),
    ])


@callback(Output("overview-period", "options"), Output("overview-period", "value"),
          Input("overview-period-type", "value"), prevent_initial_call=True)
def _periods_for_type(period_type: str):
    periods = [p.isoformat() for p in data.periods(period_type)]
    return [{"label": p, "value": p} for p in periods], (periods[0] if periods else None)


@callback(Output("overview-content", "children"),
          Input("overview-period-type", "value"), Input("overview-period", "value"),
          Input("overview-region", "value"), prevent_initial_call=True)
def _update_overview(period_type: str, period: str | None, region: str):
    return overview_content(period_type, period, region)
