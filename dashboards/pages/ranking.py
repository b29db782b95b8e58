"""Horizontal assessment (横向考核): monthly ranking of the 13 cities and 6 departments by
the composite score 60 x attainment + 30 x on-time share + 10 x (1 - reopen rate), with the
satisfaction change around the issues closed in the month beside it (not in the score)."""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, callback, dcc, html

from dashboards.components.charts import score_bar_figure
from dashboards.components.common import empty_state
from dashboards.components.tables import ranking_table
from dashboards.data import NoBoardData
from dashboards.data import ranking as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/ranking", name="ranking", title="QualityLoop · Ranking")

LABEL_KEYS = ("rank", "scope", "score", "attainment", "green_of_values", "on_time_share",
              "on_time_of_issues", "overdue", "reopen_rate", "satisfaction_issues",
              "satisfaction_before", "satisfaction_after", "satisfaction_change",
              "satisfaction_pending")


def _names(scores, lang: str) -> list[str]:
    return [f"{r.scope_code} {(r.name_zh if lang == 'zh' else r.name_en) or ''}".strip()
            for r in scores.itertuples(index=False)]


def ranking_content(month: date, complete: bool) -> html.Div:
    lang = language()
    labels = {k: t(k) for k in LABEL_KEYS}
    blocks = []
    for scope_type, title in (("city", t("cities")), ("department", t("departments"))):
        scores = data.assessment(month, scope_type)
        link = (lambda code: f"/kpi/K01?region={code}") if scope_type == "city" else None
        blocks.append(html.Section([
            html.H3(f"{title} · {month:%Y-%m}"),
            html.Div([
                ranking_table(scores, lang, labels, f"ranking-{scope_type}", link),
                dcc.Graph(id=f"ranking-{scope_type}-bar", config={"displayModeBar": False},
                          figure=score_bar_figure(_names(scores, lang), list(scores["score"]),
                                                  list(scores["rank"]))),
            ], className="two-col"),
        ], className="card"))
    note = html.P(t("ranking_provisional_note"), className="provisional", id="ranking-provisional"
                  ) if not complete else None
    satisfaction = html.P(t("ranking_satisfaction_note"), className="muted",
                          id="ranking-satisfaction-note")
    return html.Div([p for p in (note, html.P(t("ranking_formula"), className="muted"),
                                 satisfaction, *blocks) if p is not None])


def layout(month: str | None = None, **_):
    try:
        months = data.months()
    except NoBoardData:
        return empty_state(t("no_board_data"))
    if not months:
        return empty_state(t("no_board_data"))
    complete = {m.isoformat(): c for m, c in months}
    if month not in complete:
        month = data.default_month(months).isoformat()
    return html.Div([
        html.H2(t("nav_ranking")),
        html.Div([html.Label([t("month"), dcc.Dropdown(
            id="ranking-month", value=month, clearable=False,
            options=[{"label": f"{m:%Y-%m}" + ("" if c else f" ({t('provisional')})"),
                      "value": m.isoformat()} for m, c in months])])], className="controls"),
        dcc.Loading(html.Div(ranking_content(date.fromisoformat(month), complete[month]),
                             id="ranking-content")),
    ])


@callback(Output("ranking-content", "children"), Input("ranking-month", "value"),
          prevent_initial_call=True)
def _update_ranking(month: str):
    complete = dict((m.isoformat(), c) for m, c in data.months())
    return ranking_content(date.fromisoformat(month), complete.get(month, False))
