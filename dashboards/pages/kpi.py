"""KPI detail: definition, trend with target and red lines, Laney p' control chart with R4
warnings, breakdown by city, drill-down below the city with leaderboards, and for the
hotline KPIs the agent / team lead / site / management views."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import dash
import flask
from dash import Input, Output, State, callback, dcc, html

from dashboards.components.charts import (agent_vs_team_figure, control_chart_figure,
                                          rag_bar_figure, trend_figure)
from dashboards.components.common import empty_state, format_target, format_value, rag_badge
from dashboards.components.detection import (DetectionFacts, is_missing, judge, reason_mark,
                                             reason_text)
from dashboards.components.tables import (city_breakdown_table, leaderboard_table,
                                          leaderboards, member_grid, min_denominator,
                                          simple_table, with_values)
from dashboards.context import board
from dashboards.data import NoBoardData
from dashboards.data import kpi_detail as data
from dashboards.data import kpis as kpi_data
from dashboards.i18n import kpi_name, language, t

dash.register_page(__name__, path_template="/kpi/<code>", name="kpi", title="QualityLoop · KPI")

GRAPH_CONFIG = {"displayModeBar": False}
TREND_DAYS = 90
AGENT_DAYS = 28
LABEL_KEYS = ("value", "target", "status", "green", "amber", "red", "no_data", "red_threshold",
              "baseline", "centre", "out_of_control", "city", "numerator", "denominator",
              "total", "not_attributed", "member", "agent", "team", "scope_target",
              "scope_red_threshold", "catalog_target", "no_issue_issue", "no_issue_not_judged",
              "no_issue_not_complete", "no_issue_low_volume", "no_issue_week_issue",
              "no_issue_too_old", "no_issue_pending", "no_issue_no_signal", "low_volume_mark",
              "low_volume_title", "low_volume_legend", "low_volume_hover")


def _labels() -> dict[str, str]:
    return {k: t(k) for k in LABEL_KEYS}


def _graph(graph_id: str, figure) -> dcc.Graph:
    return dcc.Graph(id=graph_id, figure=figure, config=GRAPH_CONFIG)


def _section(title: str, *children, section_id: str | None = None) -> html.Section:
    attrs = {"id": section_id} if section_id else {}
    return html.Section([html.H3(title), *children], className="card", **attrs)


def _month_complete(month: date) -> bool:
    """A month is complete once the data reaches its last day (T is past its end)."""
    if "kpi_as_of" not in flask.g:  # once per request
        flask.g.kpi_as_of = kpi_data.as_of()
    stamp = flask.g.kpi_as_of
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return bool(stamp) and following <= stamp[1] + timedelta(days=1)


def _period_labels(day: date | None, month: date | None) -> tuple[str, str]:
    month_label = t("month")
    if month:
        month_label = f"{t('month')} {month:%Y-%m}" + (
            "" if _month_complete(month) else f" ({t('month_to_date')})")
    return (f"{t('day')} {day.isoformat()}" if day else t("day"), month_label)


# -- header ------------------------------------------------------------------------------

def header(kpi: dict, lang: str) -> html.Div:
    other = kpi["name_en"] if lang == "zh" else kpi["name_zh"]
    dept = kpi["department_name_zh"] if lang == "zh" else kpi["department_name_en"]
    facts = [
        (t("target"), format_target(kpi["target"], kpi["unit"])),
        (t("red_threshold"), format_target(kpi["red_threshold"], kpi["unit"])),
        (t("direction"), t("direction_up" if kpi["direction"] == "up" else "direction_down")),
        (t("owner_department"), f"{kpi['owner_department']} {dept or ''}"),
        (t("grain"), t(kpi["grain"])),
        (t("unit"), t(f"unit_{kpi['unit']}")),
    ]
    return html.Div([
        html.H2([html.Span(kpi["kpi_code"], className="kpi-code"), " ",
                 kpi_name(kpi["kpi_code"], lang)], id="kpi-title"),
        html.Div(other, className="kpi-subtitle"),
        html.Dl([part for label, value in facts for part in (html.Dt(label), html.Dd(value))],
                className="kpi-facts", id="kpi-facts"),
        target_overrides_block(kpi),
    ], className="kpi-header")


def target_overrides_block(kpi: dict) -> html.Details:
    """Every version of the KPI's per-scope targets (seed kpi_target_overrides)."""
    overrides = data.target_overrides(kpi["kpi_code"])
    fmt = lambda v: format_target(v, kpi["unit"])  # noqa: E731
    body = (simple_table(
        [("scope_type", t("scope_type")), ("scope_value", t("scope_value")),
         ("scope_city", t("scope_city")), ("valid_from", t("valid_from")),
         ("target", t("scope_target")), ("red_threshold", t("scope_red_threshold")),
         ("reason", t("reason"))],
        overrides.to_dict("records"), "kpi-target-overrides", numeric=("target", "red_threshold"),
        render={"scope_type": lambda v: t(f"scope_type_{v}"),
                "scope_city": lambda v: t("scope_city_all") if v is None or v != v else v,
                "valid_from": lambda d: str(d)[:10], "target": fmt, "red_threshold": fmt})
        if not overrides.empty else html.Div(t("no_target_overrides"), className="muted"))
    return html.Details([
        html.Summary(f"{t('target_overrides')} ({len(overrides)})"),
        html.P(t("target_overrides_note"), className="muted"), body,
    ], id="kpi-target-overrides-block", open=not overrides.empty)


# -- why a red value has an issue or none -------------------------------------------------

def _as_date(value) -> date:
    """A period start as the issue store keys it (DuckDB dates arrive as Timestamps)."""
    return value.date() if isinstance(value, datetime) else value


def _flag(value) -> bool:
    """low_volume is NULL where a row has no denominator: not low volume, no value."""
    return False if is_missing(value) else bool(value)


def detection_facts(kpi: dict, region: str | None = None) -> DetectionFacts:
    """What detection knew about the KPI (in one region, or all): its R1-R3 signals and
    complete days from the published copy, the periods the issue store holds as evidence,
    and the look-back (the same setting detection runs with)."""
    code = kpi["kpi_code"]
    complete_through, as_of_at = data.detection_window(code)
    lookback = board().workflow.settings.detection_lookback_days
    return DetectionFacts(
        grain=kpi["grain"], signalled=frozenset(data.signalled_periods(code, region)),
        evidence=board().workflow.evidence_periods(code, region),
        complete_through=complete_through,
        oldest_day=as_of_at.date() - timedelta(days=lookback) if as_of_at else None,
        lookback_days=lookback)


# -- trend and control chart --------------------------------------------------------------

def trend_section(kpi: dict, region: str, period_type: str, day: date | None,
                  facts: DetectionFacts | None) -> html.Section:
    code = kpi["kpi_code"]
    grain = "month" if kpi["grain"] == "month" else period_type
    since = None
    if grain == "day" and day is not None:
        since = data.window(day, TREND_DAYS)[0]
    points = data.trend(code, region, grain, since)
    labels = _labels()
    judgements = [judge(facts, region, grain, _as_date(p.period_start), p.status,
                        _flag(p.low_volume), p.denominator, p.min_volume) if facts else None
                  for p in points.itertuples(index=False)]
    figure = trend_figure(points, kpi["target"], kpi["red_threshold"], kpi["unit"], labels,
                          monthly=grain == "month",
                          reasons=[reason_text(j, labels) if j else "" for j in judgements])
    title = t("trend_title_month" if grain == "month" else "trend_title_day")
    if points.empty:
        return _section(title, empty_state(t("no_values")), section_id="kpi-trend-section")
    return _section(title, _graph("kpi-trend", figure),
                    *([red_values_list(points, judgements, kpi["unit"], labels)]
                      if facts is not None else []),
                    section_id="kpi-trend-section")


def red_values_list(points, judgements, unit: str, labels: dict[str, str]) -> html.Details:
    """The trend's red values, newest first, each with its issue or why none."""
    red = [(p, j) for p, j in zip(points.itertuples(index=False), judgements) if j is not None]
    red.reverse()
    body = simple_table(
        [("period_start", t("period")), ("value", t("value")), ("denominator", "n"),
         ("judgement", t("issue_or_reason"))],
        [{"period_start": str(p.period_start)[:10], "value": p.value, "denominator": p.denominator,
          "judgement": j} for p, j in red],
        "kpi-trend-red", numeric=("value", "denominator"),
        render={"value": lambda v: format_value(v, unit),
                "denominator": lambda v: "—" if v is None or v != v else f"{int(v):,}",
                "judgement": lambda j: reason_mark(j, labels)},
        row_id=lambda r: {"type": "kpi-trend-red-row", "day": r["period_start"]},
    ) if red else html.Div(t("trend_red_none"), className="muted")
    return html.Details([html.Summary(f"{t('trend_red_title')} ({len(red)})"), body],
                        className="trend-red-list", id="kpi-trend-red-block", open=bool(red))


def control_section(kpi: dict, region: str, lang: str) -> html.Section:
    if kpi["grain"] != "day":
        return _section(t("control_title"), empty_state(t("control_note_month")),
                        section_id="kpi-control-section")
    chart = data.control_chart(kpi["kpi_code"], region)
    signals = data.r4_signals(kpi["kpi_code"])
    latest = chart["latest_day"].iloc[0] if not chart.empty else None
    if latest is not None:
        signals = signals[signals["period_start"] == latest]
    here = signals[signals["region_code"] == region]
    warnings = html.Div([
        html.Div([html.Strong(f"{t('r4_title')} ({region}) "),
                  *( [rag_badge("amber", f"{r.period_start} · {r.detail}")
                      for r in here.itertuples(index=False)] or [html.Span(t("r4_none"))])],
                 id="kpi-r4-here"),
        simple_table([("region_code", t("region")), ("period_start", t("day")),
                      ("value", t("value")), ("denominator", "n"), ("detail", t("detail"))],
                     signals.to_dict("records"), "kpi-r4",
                     numeric=("value", "denominator"),
                     render={"value": lambda v: format_value(v, kpi["unit"]),
                             "period_start": lambda d: str(d)[:10]})
        if not signals.empty else html.Div(t("r4_none_anywhere"), className="muted"),
    ], className="r4-warnings")
    body = (_graph("kpi-control", control_chart_figure(chart, _labels()))
            if not chart.empty else empty_state(t("no_values")))
    return _section(t("control_title"), html.P(t("control_note"), className="muted"), body,
                    warnings, section_id="kpi-control-section")


# -- city breakdown -----------------------------------------------------------------------

def city_section(kpi: dict, period_type: str, day: date | None, month: date | None,
                 lang: str, facts: DetectionFacts | None) -> html.Section:
    cities = data.city_breakdown(kpi["kpi_code"], day, month)
    day_label, month_label = _period_labels(day, month)
    show_day = kpi["grain"] == "day"
    prefix = "month" if (period_type == "month" or not show_day) else "day"
    names = [f"{r.city_code} {r.city_name_zh if lang == 'zh' else r.city_name_en}"
             for r in cities.itertuples(index=False)]
    figure = rag_bar_figure(names, list(cities[f"{prefix}_value"]),
                            list(cities[f"{prefix}_status"]), kpi["unit"], kpi["target"],
                            _labels())
    judgements = {}
    for row in cities.to_dict("records"):
        for each, start in (("day", day), ("month", month)):
            if start is not None and facts is not None:
                judgements[(row["city_code"], each)] = judge(
                    facts, row["city_code"], each, start, row[f"{each}_status"],
                    _flag(row[f"{each}_low_volume"]), row[f"{each}_denominator"],
                    row[f"{each}_min_volume"])
    table = city_breakdown_table(cities, kpi["unit"], lang, _labels(), day_label, month_label,
                                 show_day=show_day, catalog_target=kpi["target"],
                                 judgements=judgements)
    return _section(t("city_breakdown"), html.Div([
        html.Div(table, className="scroll"),
        html.Div([html.H4(day_label if prefix == "day" else month_label),
                  _graph("kpi-city-bar", figure)]),
    ], className="two-col"), section_id="kpi-city-section")


# -- drill-down ---------------------------------------------------------------------------

def level_block(kpi: dict, members, level: str, full_table: bool = True,
                region_target: tuple | None = None) -> html.Div:
    labels = _labels()
    members = with_values(members, kpi, region_target)
    min_n = min_denominator(members["denominator"])
    best, worst = leaderboards(members.to_dict("records"), kpi["direction"], min_n)
    parts = [html.H4(t(f"level_{level}"))]
    if full_table:
        parts.append(member_grid(members, kpi["unit"], labels, f"drill-{level}",
                                 t(f"level_{level}"), catalog_target=kpi["target"]))
    parts.append(html.Div([
        html.Div([html.H5(f"{t('best')} 10"),
                  leaderboard_table(best, kpi["unit"], labels, f"drill-{level}-best")]),
        html.Div([html.H5(f"{t('worst')} 10"),
                  leaderboard_table(worst, kpi["unit"], labels, f"drill-{level}-worst")]),
    ], className="two-col"))
    parts.append(html.P(t("min_n_note").format(n=min_n), className="muted"))
    return html.Div(parts, className="drill-level", id=f"drill-level-{level}")


def drilldown_section(kpi: dict, region: str, period_type: str, day: date | None,
                      month: date | None) -> html.Section | None:
    levels = data.drill_levels(kpi["kpi_code"])
    if not levels or day is None:
        return None
    start, end = data.period_range(period_type, day)
    # members without a scope of their own take the region's target of the same period
    region_target = data.region_target(kpi["kpi_code"], region, period_type,
                                       day if period_type == "day" else month)
    blocks = [level_block(kpi, data.drilldown(kpi["kpi_code"], level, region, start, end), level,
                          full_table=level != "agent", region_target=region_target)
              for level in levels]
    scope = t("province") if region == "JS" else region
    period = _period_labels(day, month)[0 if period_type == "day" else 1]
    return _section(f"{t('drilldown_title')} · {scope} · {period}", *blocks,
                    section_id="kpi-drilldown")


# -- the hotline's four levels ------------------------------------------------------------

def agent_view(kpi: dict, agent_id: str | None, day: date) -> html.Div:
    if not agent_id:
        return empty_state(t("no_values"))
    start, end = data.window(day, AGENT_DAYS)
    days = data.agent_daily(kpi["kpi_code"], agent_id, start, end)
    labels = {**_labels(), "agent": agent_id, "team": t("team_average")}
    records = []
    for r in days.to_dict("records"):
        agent = with_values_row(kpi, r["agent_numerator"], r["agent_denominator"])
        team = with_values_row(kpi, r["team_numerator"], r["team_denominator"])
        records.append({"day": str(r["activity_date"])[:10], "agent_value": agent,
                        "agent_n": r["agent_denominator"], "team_value": team,
                        "team_n": r["team_denominator"]})
    fmt = lambda v: format_value(v, kpi["unit"])  # noqa: E731
    return html.Div([
        _graph("hotline-agent-graph", agent_vs_team_figure(days, int(kpi["scale"]),
                                                           kpi["target"], kpi["unit"], labels)),
        simple_table([("day", t("day")), ("agent_value", t("agent")), ("agent_n", "n"),
                      ("team_value", t("team_average")), ("team_n", "n")],
                     reversed(records), "hotline-agent-table",
                     numeric=("agent_value", "agent_n", "team_value", "team_n"),
                     render={"agent_value": fmt, "team_value": fmt,
                             "agent_n": lambda v: "0" if v is None or v != v else str(int(v))}),
    ])


def with_values_row(kpi: dict, numerator, denominator):
    if denominator is None or denominator != denominator or not denominator:
        return None
    return float(numerator) * int(kpi["scale"]) / float(denominator)


def ranked_block(kpi: dict, members, level: str, table_id: str) -> html.Div:
    """Members ranked best first; those under the minimum sample listed last."""
    members = with_values(members, kpi)
    min_n = min_denominator(members["denominator"])
    up = kpi["direction"] == "up"
    members = members.assign(eligible=members["denominator"] >= min_n)
    members = members.sort_values(["eligible", "value", "denominator"],
                                  ascending=[False, not up, False], na_position="last")
    return html.Div([
        member_grid(members, kpi["unit"], _labels(), table_id, t(f"level_{level}")),
        html.P(t("ranked_note").format(n=min_n), className="muted"),
    ])


def team_view(kpi: dict, team_id: str | None, start: date, end: date) -> html.Div:
    if not team_id:
        return empty_state(t("no_values"))
    return ranked_block(kpi, data.team_agents(kpi["kpi_code"], team_id, start, end), "agent",
                        "hotline-team-table")


def site_view(kpi: dict, site_id: str | None, start: date, end: date) -> html.Div:
    if not site_id:
        return empty_state(t("no_values"))
    members = with_values(data.site_teams(kpi["kpi_code"], site_id, start, end), kpi)
    figure = rag_bar_figure([f"{m} {n}" for m, n in zip(members["member"], members["member_name"])],
                            list(members["value"]), list(members["status"]), kpi["unit"],
                            kpi["target"], _labels())
    return html.Div([ranked_block(kpi, members[["member", "member_name", "numerator",
                                                "denominator"]], "team", "hotline-site-table"),
                     _graph("hotline-site-graph", figure)], className="two-col")


def management_view(kpi: dict, start: date, end: date) -> html.Div:
    blocks = []
    for level in ("skill_group", "site"):
        members = with_values(data.drilldown(kpi["kpi_code"], level, "JS", start, end), kpi)
        names = [t("not_attributed") if m is None or m != m else str(m) for m in members["member"]]
        blocks.append(html.Div([
            html.H4(t(f"level_{level}")),
            member_grid(members, kpi["unit"], _labels(), f"hotline-mgmt-{level}",
                         t(f"level_{level}"), catalog_target=kpi["target"]),
            _graph(f"hotline-mgmt-{level}-graph",
                   rag_bar_figure(names, list(members["value"]), list(members["status"]),
                                  kpi["unit"], kpi["target"], _labels())),
        ]))
    return html.Div(blocks, className="two-col")


def hotline_section(kpi: dict, period_type: str, day: date | None,
                    month: date | None) -> html.Section | None:
    # the agent, team lead, site and management views: the KPIs drilled down to the agent
    if "agent" not in data.drill_levels(kpi["kpi_code"]) or day is None:
        return None
    agents = data.hotline_agents()
    teams = data.hotline_teams()
    sites = data.hotline_sites()
    first_agent = data.busiest_agent(kpi["kpi_code"], *data.window(day, AGENT_DAYS)) or (
        agents[0][0] if agents else None)
    first_team = teams[0][0] if teams else None
    first_site = sites[0] if sites else None
    period = _period_labels(day, month)[0 if period_type == "day" else 1]

    def picker(picker_id, label, options, value):
        return html.Label([label, dcc.Dropdown(id=picker_id, options=options, value=value,
                                               clearable=False)], className="picker")

    tabs = dcc.Tabs(id="hotline-tabs", value="agent", children=[
        dcc.Tab(label=t("view_agent"), value="agent", id="hotline-tab-agent", children=[
            picker("hotline-agent", t("pick_agent"),
                   [{"label": f"{agent} · {team_name}", "value": agent}
                    for agent, team_name in agents], first_agent),
            html.P(t("agent_note").format(days=AGENT_DAYS), className="muted"),
            dcc.Loading(html.Div(id="hotline-agent-content"))]),
        dcc.Tab(label=t("view_team"), value="team", id="hotline-tab-team", children=[
            picker("hotline-team", t("pick_team"),
                   [{"label": f"{team} {team_name}", "value": team}
                    for team, team_name in teams], first_team),
            html.P(period, className="muted"),
            dcc.Loading(html.Div(id="hotline-team-content"))]),
        dcc.Tab(label=t("view_site"), value="site", id="hotline-tab-site", children=[
            picker("hotline-site", t("pick_site"), [{"label": s, "value": s} for s in sites],
                   first_site),
            html.P(period, className="muted"),
            dcc.Loading(html.Div(id="hotline-site-content"))]),
        dcc.Tab(label=t("view_management"), value="management", id="hotline-tab-management",
                children=[html.P(f"{t('province')} · {period}", className="muted"),
                          dcc.Loading(html.Div(id="hotline-management-content"))]),
    ])
    return _section(t("hotline_views"), tabs, section_id="hotline-views")


# -- the page -----------------------------------------------------------------------------

def kpi_content(kpi: dict, region: str, period_type: str) -> html.Div:
    """Everything below the controls, for the KPI's catalog row (data.kpi_info)."""
    lang = language()
    code = kpi["kpi_code"]
    if kpi["grain"] == "month":
        period_type = "month"
    day, month = data.latest_periods(code)
    if month is None:
        return empty_state(t("no_values"))
    facts = detection_facts(kpi)
    parts = [
        dcc.Store(id="kpi-context", data={"code": code, "period_type": period_type,
                                          "region": region,
                                          "day": day.isoformat() if day else None}),
        html.Div([trend_section(kpi, region, period_type, day, facts),
                  control_section(kpi, region, lang)], className="two-col"),
        city_section(kpi, period_type, day, month, lang, facts),
        dcc.Loading(html.Div(id="kpi-drilldown-content")),
        hotline_section(kpi, period_type, day, month),
    ]
    return html.Div([p for p in parts if p is not None])


def layout(code: str = "K01", region: str = "JS", period_type: str = "day", **_):
    lang = language()
    try:
        kpi = data.kpi_info(code)
        codes = data.kpi_codes()
        regions = kpi_data.regions()
        stamp = kpi_data.as_of()
    except NoBoardData:
        return empty_state(t("no_board_data"))
    if kpi is None:
        return empty_state(t("unknown_kpi"))
    if region not in {c for c, _, _ in regions}:
        region = "JS"
    if period_type not in ("day", "month") or kpi["grain"] == "month":
        period_type = "month" if kpi["grain"] == "month" else "day"
    query = "?" + urlencode({"region": region})
    return html.Div([
        html.Nav([dcc.Link(c, href=f"/kpi/{c}{query}",
                           className="kpi-pill" + (" active" if c == code else ""))
                  for c in codes], className="kpi-pills", id="kpi-pills"),
        header(kpi, lang),
        html.Div([
            html.Label([t("region"), dcc.Dropdown(
                id="kpi-region", value=region, clearable=False,
                options=[{"label": f"{c} {zh if lang == 'zh' else en}", "value": c}
                         for c, zh, en in regions])]),
            html.Label([t("period_type"), dcc.RadioItems(
                id="kpi-period-type", value=period_type, inline=True,
                options=[{"label": t(p), "value": p, "disabled": kpi["grain"] == "month"
                          and p == "day"} for p in ("day", "month")])]),
            html.Span(f"{t('as_of')} {stamp[0]:%Y-%m-%d %H:%M}" if stamp else "",
                      className="as-of"),
        ], className="controls"),
        dcc.Store(id="kpi-code", data=code),
        dcc.Loading(html.Div(kpi_content(kpi, region, period_type), id="kpi-content")),
    ])


@callback(Output("kpi-content", "children"),
          Input("kpi-region", "value"), Input("kpi-period-type", "value"),
          State("kpi-code", "data"), prevent_initial_call=True)
def _update_kpi(region: str, period_type: str, code: str):
    kpi = data.kpi_info(code)
    return kpi_content(kpi, region, period_type) if kpi else empty_state(t("unknown_kpi"))


def _context(context: dict):
    kpi = data.kpi_info(context["code"])
    day = date.fromisoformat(context["day"])
    return kpi, day, data.period_range(context["period_type"], day)


@callback(Output("kpi-drilldown-content", "children"), Input("kpi-context", "data"))
def _update_drilldown(context: dict | None):
    if not context or not context.get("day"):
        return None
    kpi, day, _ = _context(context)
    return drilldown_section(kpi, context["region"], context["period_type"], day,
                             day.replace(day=1))


@callback(Output("hotline-agent-content", "children"), Input("hotline-agent", "value"),
          State("kpi-context", "data"))
def _update_agent(agent_id: str, context: dict):
    kpi, day, _ = _context(context)
    return agent_view(kpi, agent_id, day)


# The team, site and management views are built when their tab opens, not with the page:
# the page's own callbacks (drill-down, agent view) then share the server with nobody.

def _tab_view(tab: str, view: str, context: dict, build, *member):
    if tab != view:
        return dash.no_update
    kpi, _, (start, end) = _context(context)
    return build(kpi, *member, start, end)


@callback(Output("hotline-team-content", "children"), Input("hotline-tabs", "value"),
          Input("hotline-team", "value"), State("kpi-context", "data"),
          prevent_initial_call=True)
def _update_team(tab: str, team_id: str, context: dict):
    return _tab_view(tab, "team", context, team_view, team_id)


@callback(Output("hotline-site-content", "children"), Input("hotline-tabs", "value"),
          Input("hotline-site", "value"), State("kpi-context", "data"),
          prevent_initial_call=True)
def _update_site(tab: str, site_id: str, context: dict):
    return _tab_view(tab, "site", context, site_view, site_id)


@callback(Output("hotline-management-content", "children"), Input("hotline-tabs", "value"),
          State("kpi-context", "data"), prevent_initial_call=True)
def _update_management(tab: str, context: dict):
    return _tab_view(tab, "management", context, management_view)
