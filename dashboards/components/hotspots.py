"""Builders of the hotspot page (/hotspots) and of the change page's linked hotspots: frames
and hotspots in, Dash components or plotly figures out. No queries here."""

from __future__ import annotations

import math
from datetime import date
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dagster_project.lib.remediation.hotspots import CHANNEL_NAMES, hotspot_kinds, series_name

from ..i18n import t
from .common import is_missing
from .issues import DASH, department_label, region_label

SCORE_CAP = 10.0  # the heat map's colour saturates here (p = 1e-10)
HOTSPOT_RED = "#d73027"
LAYOUT = dict(margin=dict(l=50, r=20, t=20, b=40), plot_bgcolor="white", height=320,
              legend=dict(orientation="h", y=-0.2), hovermode="x unified")
GRID = dict(showgrid=True, gridcolor="#e4e7eb")


def series_href(source: str, category: str, channel: str | None, region: str,
                day: date | str) -> str:
    """The hotspot page with one series and day chosen (a day from a frame may come as a
    timestamp: its date)."""
    query = {"day": str(day)[:10], "source": source, "category": category, "region": region}
    if channel:
        query["channel"] = channel
    return "/hotspots?" + urlencode(query)


def category_columns(source: str | None) -> list[tuple[str, str]]:
    """(source, category) of the heat map's columns: complaint categories, then skill groups."""
    return [key for key in hotspot_kinds() if source in (None, key[0])]


def category_label(source: str, category: str, lang: str) -> str:
    return series_name(source, category, None, lang)


def channel_label(channel: str | None, lang: str) -> str:
    if not channel:
        return DASH
    zh, en = CHANNEL_NAMES.get(channel, (channel, channel))
    return zh if lang == "zh" else en


def _ratio(observed, expected) -> str:
    if is_missing(expected) or float(expected) == 0:
        return "—"
    return f"×{float(observed) / float(expected):.1f}"


def surprise_heatmap(cells: pd.DataFrame, regions: list[str], columns: list[tuple[str, str]],
                     lang: str) -> go.Figure:
    """Region x category, coloured by the day's highest score of its channels (capped at
    SCORE_CAP); a hotspot cell is marked ●, every cell shows its observed count."""
    grid = {(r.region_code, r.source, r.category): r for r in cells.itertuples(index=False)}
    z, text, hover = [], [], []
    for region in regions:
        z_row, text_row, hover_row = [], [], []
        for source, category in columns:
            cell = grid.get((region, source, category))
            if cell is None:
                z_row.append(None)
                text_row.append("")
                hover_row.append(f"{region} {category_label(source, category, lang)}: —")
                continue
            z_row.append(min(float(cell.score), SCORE_CAP))
            text_row.append(("● " if cell.is_hotspot else "") + str(int(cell.observed)))
            hover_row.append(
                f"{region} {series_name(source, category, cell.channel, lang)}: "
                f"{t('hs_observed', lang)} {int(cell.observed)}, {t('hs_expected', lang)} "
                f"{float(cell.expected):.1f}, {t('hs_score', lang)} {float(cell.score):.1f}")
            if cell.is_hotspot:
                hover_row[-1] += f" ({t('hs_hotspot', lang)})"
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    x = [category_label(s, c, lang) for s, c in columns]
    figure = go.Figure(go.Heatmap(
        z=z, x=x, y=regions, text=text, texttemplate="%{text}", customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", zmin=0, zmax=SCORE_CAP,
        colorscale=[[0, "#f4f6f8"], [0.3, "#fde0c5"], [0.6, "#f59e5b"], [1, HOTSPOT_RED]],
        colorbar=dict(title=t("hs_score", lang), thickness=10), xgap=2, ygap=2))
    figure.update_layout(margin=dict(l=40, r=10, t=10, b=80), height=460,
                         yaxis=dict(autorange="reversed"), plot_bgcolor="white",
                         xaxis=dict(tickangle=-35))
    return figure


MOVER_COLUMNS = ("hs_series", "region", "hs_observed", "hs_expected", "hs_ratio", "hs_score",
                 "hs_owner", "hs_since", "hs_changes")


def movers_table(found: pd.DataFrame, day: date, regions: dict[str, tuple[str, str]],
                 lang: str) -> html.Table | html.Div:
    if found.empty:
        return html.Div(t("hs_no_movers", lang), className="muted", id="hotspot-movers")
    header = html.Thead(html.Tr([html.Th(t(c, lang)) for c in MOVER_COLUMNS]))
    body = []
    for r in found.itertuples(index=False):
        label = series_name(r.source, r.category, r.channel, lang)
        body.append(html.Tr([
            html.Td([html.Span("●", className="hotspot-dot") if r.is_hotspot else "",
                     dcc.Link(label, href=series_href(r.source, r.category, r.channel,
                                                      r.region_code, day),
                              className="hotspot-series-link")]),
            html.Td(region_label(r.region_code, regions, lang)),
            html.Td(str(int(r.observed)), className="num"),
            html.Td(f"{float(r.expected):.1f}", className="num"),
            html.Td(_ratio(r.observed, r.expected) if float(r.expected) else t("hs_new", lang),
                    className="num"),
            html.Td(f"{float(r.score):.1f}", className="num"),
            html.Td(department_label(r.owner_department, lang) if r.is_hotspot else DASH),
            html.Td(str(r.started_on)[:10] if r.is_hotspot else DASH),
            html.Td([dcc.Link(f"#{c}", href=f"/changes/{c}", className="hotspot-change-link")
                     for c in (r.changes or [])] or DASH),
        ], className="hotspot-row" + (" is-hotspot" if r.is_hotspot else ""),
            **{"data-source": r.source, "data-category": r.category,
               "data-channel": r.channel or "", "data-region": r.region_code,
               "data-hotspot": "1" if r.is_hotspot else "0"}))
    return html.Table([header, html.Tbody(body)], className="data hotspot-movers",
                      id="hotspot-movers")


def trend_figure(points: pd.DataFrame, lang: str) -> go.Figure:
    """Observed per day, the expected count and its band (shaded), hotspot days in red."""
    figure = go.Figure()
    if not points.empty:
        x = list(points["contact_day"])
        band = points["expected"].notna()
        figure.add_trace(go.Scatter(
            x=[d for d, b in zip(x, band) if b], y=list(points.loc[band, "expected_high"]),
            mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False))
        figure.add_trace(go.Scatter(
            x=[d for d, b in zip(x, band) if b], y=list(points.loc[band, "expected_low"]),
            mode="lines", line=dict(width=0), fill="tonexty", fillcolor="rgba(59,110,165,0.15)",
            name=t("hs_band", lang), hoverinfo="skip"))
        figure.add_trace(go.Scatter(
            x=x, y=[None if is_missing(v) else float(v) for v in points["expected"]],
            mode="lines", name=t("hs_expected", lang), line=dict(color="#3b6ea5", dash="dash"),
            hovertemplate="%{y:.1f}"))
        figure.add_trace(go.Scatter(
            x=x, y=list(points["observed"]), mode="lines+markers", name=t("hs_observed", lang),
            line=dict(color="#52606d", width=2),
            marker=dict(size=[10 if h else 5 for h in points["is_hotspot"]],
                        color=[HOTSPOT_RED if h else "#52606d" for h in points["is_hotspot"]]),
            hovertemplate="%{y}"))
    figure.update_layout(**LAYOUT, xaxis=GRID, yaxis={**GRID, "rangemode": "tozero"})
    return figure


def volumes_figure(volumes: pd.DataFrame, lang: str) -> go.Figure:
    """Contacts per week or month; a period T cuts is drawn lighter."""
    figure = go.Figure()
    if not volumes.empty:
        figure.add_trace(go.Bar(
            x=list(volumes["period_start"]), y=list(volumes["contacts"]),
            name=t("hs_contacts", lang),
            marker=dict(color=["#3b6ea5" if c else "#a9c1dc" for c in volumes["is_complete"]])))
    figure.update_layout(**LAYOUT, xaxis=GRID, yaxis=GRID)
    return figure


def complaints_table(found: pd.DataFrame, total: int, page: int, page_size: int,
                     lang: str) -> html.Div:
    pages = max(1, math.ceil(total / page_size))
    rows = [html.Tr([
        html.Td(r.complaint_id), html.Td(r.city_code),
        html.Td(f"{pd.Timestamp(r.created_at):%Y-%m-%d %H:%M}"),
        html.Td(r.severity), html.Td(r.status), html.Td(r.summary, className="summary"),
    ], className="hotspot-complaint") for r in found.itertuples(index=False)]
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
        "hs_col_complaint", "hs_col_city", "hs_col_created", "hs_col_severity",
        "hs_col_status", "hs_col_summary")]))
    return html.Div([
        html.Span(t("hs_complaints_count", lang).format(n=total, page=page + 1, pages=pages),
                  id="hotspot-complaints-count", **{"data-total": str(total),
                                                    "data-page": str(page + 1)}),
        html.Table([header, html.Tbody(rows)], className="data hotspot-complaints",
                   id="hotspot-complaints-table"),
    ])


def linked_changes(found: pd.DataFrame, lang: str) -> html.Div:
    if found.empty:
        return html.Div(t("hs_no_changes", lang), className="muted", id="hotspot-changes")
    return html.Ul([html.Li([
        dcc.Link(f"#{int(r.change_id)} {r.title}", href=f"/changes/{int(r.change_id)}",
                 className="hotspot-change-link"),
        html.Span(f" · {department_label(r.change_department, lang)} · "
                  f"{t('hs_days_after', lang).format(n=int(r.days_after_launch))} · "
                  f"{t('hs_matched_' + r.matched_by, lang)}", className="muted"),
    ], **{"data-change": str(int(r.change_id))}) for r in found.itertuples(index=False)],
        id="hotspot-changes")


def change_hotspots_block(found: pd.DataFrame, lang: str) -> html.Div:
    """The change page's card: hotspots that started within 14 days after its launch."""
    if found.empty:
        body = html.Div(t("hs_change_none", lang), className="muted")
    else:
        body = html.Ul([html.Li([
            dcc.Link(f"{series_name(r.source, r.category, r.channel, lang)} · {r.region_code}",
                     href=series_href(r.source, r.category, r.channel, r.region_code,
                                      r.peak_day), className="change-hotspot-link"),
            html.Span(f" · {t('hs_since', lang)} {str(r.started_on)[:10]} · {t('hs_peak', lang)} "
                      f"{str(r.peak_day)[:10]}: {int(r.observed)} / {float(r.expected):.1f}, "
                      f"{t('hs_score', lang)} {float(r.peak_score):.1f} · "
                      f"{t('hs_matched_' + r.matched_by, lang)}", className="muted"),
        ], className="change-hotspot", **{"data-region": r.region_code,
                                           "data-category": r.category})
            for r in found.itertuples(index=False)])
    return html.Div([html.H3(t("hs_change_block", lang)), body], className="card",
                    id="change-hotspots")
