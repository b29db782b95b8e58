"""Complaint and call hotspots (/hotspots, 热点): the chosen day's surprise per region and
category (heat map), its top movers, one series' trend with its expected band (or its week
and month volumes), and for a hotspot: the launched changes it may come from, a quality
manager's promotion to an issue, and the complaints behind it, paged.

Query parameters choose the day and the series (the movers, the change page and hotspot
issues link here): /hotspots?day=2026-10-25&source=call&category=billing&region=NJ
(&channel=hotline for complaints)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import dash
from dash import Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dagster_project.lib.remediation.hotspots import (
    CHANNEL_NAMES, SOURCES, HotspotError, hotspot_kinds, promote,
)
from dagster_project.lib.remediation.rules import QUALITY_MANAGER, WorkflowError

from dashboards.components.common import empty_state
from dashboards.components.hotspots import (
    category_columns, category_label, channel_label, complaints_table, linked_changes,
    movers_table, surprise_heatmap, trend_figure, volumes_figure,
)
from dashboards.components.issues import action_message, department_label, region_label
from dashboards.context import board, current_user
from dashboards.data import NoBoardData
from dashboards.data import hotspots as data
from dashboards.data.issues import region_names
from dashboards.i18n import language, t

dash.register_page(__name__, path="/hotspots", name="hotspots", title="QualityLoop · Hotspots")

ALL = "all"
TREND_AFTER_DAYS = 14  # the trend runs on this long after the chosen day, when there is data


# -- what the URL and the controls may choose --------------------------------------------

def _day(raw, days: Sequence[date]) -> date:
    try:
        chosen = date.fromisoformat(str(raw))
    except ValueError:
        return days[0]
    return chosen if chosen in days else days[0]


def _series(source, category, channel, region, regions, day: date | None = None
            ) -> tuple | None:
    """A valid (source, category, channel, region), or None. A complaint series asked for
    without its channel (a hotspot issue's link) gets the day's most surprising one."""
    if (source, category) not in hotspot_kinds() or region not in regions:
        return None
    if source == "call":
        return source, category, None, region
    if channel is None and day is not None:
        channel = data.top_channel(category, region, day)
    return (source, category, channel, region) if channel in CHANNEL_NAMES else None


def _default_series(day: date) -> tuple:
    """The day's top mover, else the province's billing complaints by hotline."""
    movers = data.movers(day, limit=1)
    if not movers.empty:
        r = movers.iloc[0]
        return r["source"], r["category"], r["channel"], r["region_code"]
    return "complaint", "billing", "hotline", "JS"


def _source_filter(value) -> str | None:
    return value if value in SOURCES else None


# -- content builders --------------------------------------------------------------------

def day_overview(day: date, source: str | None) -> html.Div:
    lang = language()
    regions = region_names()
    order = sorted(regions, key=lambda code: (code != "JS", code))
    figure = surprise_heatmap(data.surprise_cells(day, source), order, category_columns(source),
                              lang)
    movers = data.movers(day, source)
    hotspots = int(movers["is_hotspot"].sum()) if not movers.empty else 0
    return html.Div([
        html.Div([html.H3(t("hs_heatmap_title")),
                  dcc.Graph(id="hotspot-heatmap", figure=figure,
                            config={"displayModeBar": False})], className="card heatmap"),
        html.Div([html.H3(t("hs_movers_title")),
                  html.Span(t("hs_count").format(n=hotspots) if hotspots else t("hs_none"),
                            id="hotspot-count", **{"data-count": str(hotspots)}),
                  movers_table(movers, day, regions, lang)], className="card"),
    ], className="hotspot-grid")


def trend_content(series: tuple, day: date, period_type: str, latest: date):
    source, category, channel, region = series
    lang = language()
    if period_type in ("week", "month"):
        return volumes_figure(data.series_volumes(source, category, channel, region,
                                                  period_type), lang)
    last = min(latest, day + timedelta(days=TREND_AFTER_DAYS))
    figure = trend_figure(data.series_trend(source, category, channel, region, last), lang)
    figure.add_vline(x=day, line=dict(color="#9aa5b1", dash="dot", width=1))
    return figure


def _promote_form(hotspot) -> list:
    user = current_user()
    if hotspot is None or user is None or user.role != QUALITY_MANAGER:
        return []
    return [html.Button(t("hs_promote"), id="hotspot-promote", className="action-button",
                        n_clicks=0)]


def series_details(series: tuple, day: date) -> html.Div:
    """The chosen series on the chosen day: its hotspot facts, linked changes, promotion,
    and the complaints behind it."""
    source, category, channel, region = series
    lang = language()
    hotspot = data.hotspot(source, category, channel, region, day)
    title = html.H3(f"{category_label(source, category, lang)} · "
                    f"{channel_label(channel, lang) + ' · ' if channel else ''}"
                    f"{region_label(region, region_names(), lang)} · {day}",
                    id="hotspot-details-title")
    if hotspot is None:
        return html.Div([title, html.P(t("hs_not_hotspot"), className="muted")],
                        className="card", id="hotspot-details", **{"data-hotspot": "0"})
    facts = [(t("hs_observed"), str(hotspot.observed)),
             (t("hs_expected"), f"{hotspot.expected:.1f}"),
             (t("hs_score"), f"{hotspot.score:.1f}"),
             (t("hs_owner"), department_label(hotspot.owner_department, lang)),
             (t("hs_since"), str(hotspot.started_on))]
    if source == "complaint":
        found, total = data.complaints(category, channel, region, day, 0)
        behind = html.Div(complaints_table(found, total, 0, data.COMPLAINTS_PAGE, lang),
                          id="hotspot-complaints")
        paging = html.Div([
            html.Button(t("hs_prev"), id="hotspot-complaints-prev", n_clicks=0),
            html.Button(t("hs_next"), id="hotspot-complaints-next", n_clicks=0),
        ], className="pager")
    else:
        behind, paging = html.P(t("hs_call_no_text"), className="muted"), html.Div()
    return html.Div([
        title,
        html.Dl([part for label, value in facts for part in (html.Dt(label), html.Dd(value))],
                className="facts"),
        html.H4(t("hs_linked_changes")),
        linked_changes(data.linked_changes(source, category, channel, region,
                                           hotspot.started_on), lang),
        *_promote_form(hotspot),
        html.Div(id="hotspot-promote-message", role="status"),
        html.H4(t("hs_complaints_title")), behind, paging,
    ], className="card", id="hotspot-details", **{"data-hotspot": "1"})


# -- layout --------------------------------------------------------------------------------

def _category_options(source: str, lang: str) -> list[dict]:
    return [{"label": category_label(s, c, lang), "value": c} for s, c in hotspot_kinds()
            if s == source]


def _controls(day: date, days: Sequence[date], series: tuple, regions, lang: str) -> list:
    source, category, channel, region = series
    return [
        html.Div([
            html.Label([t("hs_day"), dcc.Dropdown(
                id="hotspot-day", value=day.isoformat(), clearable=False,
                options=[{"label": d.isoformat(), "value": d.isoformat()} for d in days])]),
            html.Label([t("hs_source"), dcc.RadioItems(
                id="hotspot-source", value=ALL, inline=True,
                options=[{"label": t("all"), "value": ALL}] + [
                    {"label": t(f"hs_source_{s}"), "value": s} for s in SOURCES])]),
        ], className="controls"),
        html.Div([
            html.Label([t("hs_source"), dcc.Dropdown(
                id="hotspot-series-source", value=source, clearable=False,
                options=[{"label": t(f"hs_source_{s}"), "value": s} for s in SOURCES])]),
            html.Label([t("hs_category"), dcc.Dropdown(
                id="hotspot-series-category", value=category, clearable=False,
                options=_category_options(source, lang))]),
            html.Label([t("hs_channel"), dcc.Dropdown(
                id="hotspot-series-channel", value=channel, clearable=False,
                disabled=source == "call",
                options=[{"label": channel_label(c, lang), "value": c} for c in CHANNEL_NAMES])]),
            html.Label([t("region"), dcc.Dropdown(
                id="hotspot-series-region", value=region, clearable=False,
                options=[{"label": region_label(code, regions, lang), "value": code}
                         for code in sorted(regions, key=lambda c: (c != "JS", c))])]),
            html.Label([t("period_type"), dcc.RadioItems(
                id="hotspot-period", value="day", inline=True,
                options=[{"label": t(p), "value": p} for p in data.PERIOD_TYPES])]),
        ], className="controls", id="hotspot-series-controls"),
    ]


def layout(day=None, source=None, category=None, channel=None, region=None, **_):
    lang = language()
    try:
        if not data.available():
            return empty_state(t("hs_not_published"))
        days = data.judged_days()
        regions = region_names()
    except NoBoardData:
        return empty_state(t("no_board_data"))
    if not days:
        return empty_state(t("hs_no_days"))
    chosen = _day(day, days)
    series = (_series(source, category, channel, region, regions, chosen)
              or _default_series(chosen))
    controls = _controls(chosen, days, series, regions, lang)
    return html.Div([
        html.H2(t("hs_title")),
        html.P(t("hs_note"), className="muted", id="hotspot-note"),
        controls[0],
        dcc.Loading(html.Div(day_overview(chosen, None), id="hotspot-overview")),
        html.Div([
            html.H3(t("hs_trend_title")), controls[1],
            dcc.Graph(id="hotspot-trend", figure=trend_content(series, chosen, "day", days[0]),
                      config={"displayModeBar": False}),
        ], className="card"),
        dcc.Store(id="hotspot-complaints-page", data=0),
        html.Div(series_details(series, chosen), id="hotspot-details-block"),
    ])


# -- callbacks (thin: parse, read, build) ---------------------------------------------------

def _chosen(day_value, source, category, channel, region) -> tuple[date, tuple, date]:
    days = data.judged_days()
    series = _series(source, category, channel, region, region_names())
    if not days or series is None:
        raise PreventUpdate
    return _day(day_value, days), series, days[0]


@callback(Output("hotspot-overview", "children"),
          Input("hotspot-day", "value"), Input("hotspot-source", "value"),
          prevent_initial_call=True)
def _update_overview(day_value, source):
    days = data.judged_days()
    if not days:
        raise PreventUpdate
    return day_overview(_day(day_value, days), _source_filter(source))


@callback(Output("hotspot-series-category", "options"),
          Output("hotspot-series-category", "value"),
          Output("hotspot-series-channel", "disabled"), Output("hotspot-series-channel", "value"),
          Input("hotspot-series-source", "value"), State("hotspot-series-category", "value"),
          State("hotspot-series-channel", "value"), prevent_initial_call=True)
def _categories_of_source(source, category, channel):
    if source not in SOURCES:
        raise PreventUpdate
    options = _category_options(source, language())
    if category not in [o["value"] for o in options]:
        category = options[0]["value"]
    if source == "call":
        return options, category, True, None
    return options, category, False, channel if channel in CHANNEL_NAMES else "hotline"


@callback(Output("hotspot-series-source", "value"), Output("hotspot-series-category", "value",
                                                           allow_duplicate=True),
          Output("hotspot-series-channel", "value", allow_duplicate=True),
          Output("hotspot-series-region", "value"),
          Input("hotspot-heatmap", "clickData"), State("hotspot-day", "value"),
          prevent_initial_call=True)
def _series_from_heatmap(click, day_value):
    """A heat-map cell chooses its region and category (the channel of its top score)."""
    try:
        point = click["points"][0]
        region, label = point["y"], point["x"]
    except (TypeError, KeyError, IndexError):
        raise PreventUpdate from None
    lang = language()
    for source, category in hotspot_kinds():
        if category_label(source, category, lang) == label:
            cells = data.surprise_cells(_day(day_value, data.judged_days()), source)
            match = cells[(cells["region_code"] == region) & (cells["category"] == category)]
            channel = None if match.empty else match.iloc[0]["channel"]
            return source, category, channel if source == "complaint" else None, region
    raise PreventUpdate


@callback(Output("hotspot-trend", "figure"), Output("hotspot-details-block", "children"),
          Output("hotspot-complaints-page", "data"),
          Input("hotspot-day", "value"), Input("hotspot-series-source", "value"),
          Input("hotspot-series-category", "value"), Input("hotspot-series-channel", "value"),
          Input("hotspot-series-region", "value"), Input("hotspot-period", "value"),
          prevent_initial_call=True)
def _update_series(day_value, source, category, channel, region, period_type):
    day, series, latest = _chosen(day_value, source, category, channel, region)
    return trend_content(series, day, period_type, latest), series_details(series, day), 0


@callback(Output("hotspot-complaints", "children"), Output("hotspot-complaints-page", "data",
                                                           allow_duplicate=True),
          Input("hotspot-complaints-prev", "n_clicks"),
          Input("hotspot-complaints-next", "n_clicks"),
          State("hotspot-complaints-page", "data"), State("hotspot-day", "value"),
          State("hotspot-series-category", "value"), State("hotspot-series-channel", "value"),
          State("hotspot-series-region", "value"), prevent_initial_call=True)
def _page_complaints(_prev, _next, page, day_value, category, channel, region):
    if ctx.triggered_id not in ("hotspot-complaints-prev", "hotspot-complaints-next"):
        raise PreventUpdate
    day, _series_, _latest = _chosen(day_value, "complaint", category, channel, region)
    page = max(0, int(page or 0) + (1 if ctx.triggered_id == "hotspot-complaints-next" else -1))
    found, total = data.complaints(category, channel, region, day, page)
    if found.empty and page > 0:  # past the last page: stay on it
        raise PreventUpdate
    return complaints_table(found, total, page, data.COMPLAINTS_PAGE, language()), page


@callback(Output("hotspot-promote-message", "children"),
          Input("hotspot-promote", "n_clicks"), State("hotspot-day", "value"),
          State("hotspot-series-source", "value"), State("hotspot-series-category", "value"),
          State("hotspot-series-channel", "value"), State("hotspot-series-region", "value"),
          prevent_initial_call=True)
def _promote(clicks, day_value, source, category, channel, region):
    user = current_user()
    if not clicks or user is None:
        raise PreventUpdate
    day, series, _latest = _chosen(day_value, source, category, channel, region)
    hotspot = data.hotspot(*series, day)
    if hotspot is None:
        return action_message("refused", f"{t('refused')}: {t('hs_not_hotspot')}")
    try:
        issue_id = promote(board().workflow, user.name, hotspot)
    except (WorkflowError, HotspotError) as err:
        return action_message("refused", f"{t('refused')}: {err}")
    return html.Div([action_message("ok", f"{t('hs_promoted')} #{issue_id}"),
                     dcc.Link(f"#{issue_id}", href=f"/issues/{issue_id}",
                              id="hotspot-promoted-issue")])
