"""Builders for the issue pages (list, detail, department): issue views, events and closure
rows in, Dash components or a figure out. No queries here; labels come from i18n.t."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from dagster_project.lib.remediation.closure_list import ClosureRow, sort_rows
from dagster_project.lib.remediation.hotspots import issue_subject
from dagster_project.lib.remediation.rules import CANCEL_REASONS, ROOT_CAUSE_CATEGORIES

from ..i18n import department_name, kpi_name, t
from .common import RAG_COLOURS, format_value, is_missing
from .grid import badge_col, data_grid, link_col, number_col, text_col

DASH = "—"
STATES = ("open", "acknowledged", "in_progress", "verifying", "verified", "reopened",
          "closed", "cancelled")
SEVERITIES = ("P1", "P2", "P3")
# The order the action forms appear in, and the button/field ids of each.
ACTION_ORDER = ("acknowledge", "plan", "claim_fix", "sign_off", "cancel", "comment")


# -- small formatting helpers ------------------------------------------------------------

def fmt_time(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return DASH
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fmt_text(value) -> str:
    return DASH if value is None or value == "" else str(value)


def _label(prefix: str, value: str | None, lang: str) -> str:
    """A translated enum value (state, action, category, reason); the raw value if unknown."""
    if value is None:
        return DASH
    try:
        return t(f"{prefix}_{value}", lang)
    except KeyError:
        return value


def state_label(state: str | None, lang: str) -> str:
    return _label("state", state, lang)


def state_badge(state: str, lang: str) -> html.Span:
    return html.Span(state_label(state, lang), className=f"state state-{state}",
                     **{"data-state": state})


def severity_badge(severity: str) -> html.Span:
    return html.Span(severity, className=f"sev sev-{severity}", **{"data-severity": severity})


def region_label(code: str, names: dict[str, tuple[str, str]], lang: str) -> str:
    zh, en = names.get(code, (code, code))
    return f"{code} {zh if lang == 'zh' else en}"


def kpi_label(code: str, lang: str) -> str:
    try:
        return f"{code} {kpi_name(code, lang)}"
    except KeyError:  # no KPI: a promoted hotspot's category code, or unknown
        zh, en = issue_subject(code)
        return code if zh == code else f"{code} {zh if lang == 'zh' else en}"


def department_label(code: str | None, lang: str) -> str:
    if not code:
        return DASH
    try:
        return f"{code} {department_name(code, lang)}"
    except KeyError:
        return code


# -- /issues -----------------------------------------------------------------------------

def filter_options(lang: str, regions: dict[str, tuple[str, str]], departments: list[str],
                   kpis: list[str]) -> dict[str, list[dict]]:
    return {
        "kpi": [{"label": kpi_label(k, lang), "value": k} for k in kpis],
        "state": [{"label": state_label(s, lang), "value": s} for s in STATES],
        "severity": [{"label": s, "value": s} for s in SEVERITIES],
        "department": [{"label": department_label(d, lang), "value": d} for d in departments],
        "region": [{"label": region_label(code, regions, lang), "value": code}
                   for code in sorted(regions, key=lambda c: (c != "JS", c))],
    }


def issue_rows(views: list, regions: dict[str, tuple[str, str]], lang: str) -> list[dict]:
    """One grid row per issue: the labels a user reads (in `lang`), the raw codes beside
    them for badges and classes, numbers as numbers (they sort as numbers)."""
    found = []
    for v in views:
        late = v.lateness
        found.append({
            "issue_id": v.id, "kpi": kpi_label(v.kpi_code, lang),
            "region": region_label(v.region_code, regions, lang),
            "severity": v.severity, "state": state_label(v.state, lang), "state_code": v.state,
            "owner_department": department_label(v.owner_department, lang),
            "opened_at": fmt_time(v.opened_at), "current_deadline": fmt_time(late.deadline),
            "days_overdue": late.days_overdue if late.overdue else None,
            "escalation_level": late.escalation_level if late.overdue else None,
            "responsible": v.responsible or None, "overdue": bool(late.overdue),
            # a veto issue is about a change (issue 7): linked
            "change": (f"{t('issue_change', lang)} #{v.row['change_id']}"
                       if v.row.get("change_id") is not None else None),
            "change_id": v.row.get("change_id"),
        })
    return found


def _issue_columns(lang: str) -> list[dict]:
    head = lambda key: t(f"col_{key}", lang)  # noqa: E731
    return [
        link_col("issue_id", head("issue_id"), "/issues/{}", "#{}", number=True,
                 class_name="issue-link"),
        text_col("kpi", head("kpi")), text_col("region", head("region")),
        badge_col("severity", "severity", head("severity"), "sev", "sev-", "data-severity"),
        badge_col("state", "state_code", head("state"), "state", "state-", "data-state"),
        text_col("owner_department", head("owner_department")),
        text_col("opened_at", head("opened_at")),
        text_col("current_deadline", head("current_deadline")),
        number_col("days_overdue", head("days_overdue")),
        number_col("escalation_level", head("escalation_level")),
        text_col("responsible", head("responsible")),
        link_col("change", head("change"), "/changes/{}", href_field="change_id",
                 class_name="issue-change-link"),
    ]


def issues_grid(rows: list[dict], lang: str) -> html.Div:
    return data_grid("issues-table", _issue_columns(lang), rows, lang=lang,
                     file_name="issues.csv", empty=t("no_issues", lang), row_id="issue_id",
                     row_classes={"overdue": "params.data.overdue"})


def issue_counts(rows: list[dict], lang: str) -> html.Div:
    """How many issues the filters leave, by state and by severity (only those present)."""
    states = Counter(r["state_code"] for r in rows)
    severities = Counter(r["severity"] for r in rows)

    def chip(kind: str, code: str, label, n: int) -> html.Span:
        return html.Span([label, html.B(str(n))], className=f"count-chip count-{kind}",
                         **{f"data-{kind}": code, "data-count": str(n)})

    return html.Div([
        html.Span(t("issues_count", lang).format(n=len(rows)), id="issues-count",
                  **{"data-count": str(len(rows))}),
        html.Div([html.Span(t("issues_by_state", lang), className="muted"),
                  *(chip("state", s, state_badge(s, lang), states[s])
                    for s in STATES if states[s])], id="issues-by-state", className="counts"),
        html.Div([html.Span(t("issues_by_severity", lang), className="muted"),
                  *(chip("severity", s, severity_badge(s), severities[s])
                    for s in SEVERITIES if severities[s])], id="issues-by-severity",
                 className="counts"),
    ], id="issues-summary")


# -- /issues/<id>: header, chart, evidence, deadlines, fields, events ---------------------

def issue_header(view, regions: dict[str, tuple[str, str]], lang: str) -> html.Div:
    return html.Div([
        html.H2([f"#{view.id} ", kpi_label(view.kpi_code, lang)], id="issue-title"),
        html.Dl([
            html.Dt(t("region", lang)), html.Dd(region_label(view.region_code, regions, lang)),
            html.Dt(t("col_severity", lang)), html.Dd(severity_badge(view.severity)),
            html.Dt(t("col_state", lang)), html.Dd(state_badge(view.state, lang),
                                                  id="issue-state"),
            html.Dt(t("col_owner_department", lang)),
            html.Dd(department_label(view.owner_department, lang)),
            html.Dt(t("issue_origin", lang)), html.Dd(_label("origin", view.origin, lang)),
            # A veto issue is about a change (issue 7): link it.
            *([html.Dt(t("issue_change", lang)), html.Dd(dcc.Link(
                f"#{view.change_id}", href=f"/changes/{view.change_id}", id="issue-change-link"))]
              if view.row.get("change_id") is not None else []),
        ], className="facts"),
    ], className="card issue-header")


def kpi_chart_figure(series: pd.DataFrame, unit: str, target, red_threshold,
                     evidence: list[dict], lang: str) -> go.Figure:
    """Values as a line, target and red threshold as dashed lines, evidence days marked."""
    percent = unit == "ratio"
    scale = 100.0 if percent else 1.0
    figure = go.Figure()
    x = list(series["period_start"]) if not series.empty else []
    y = [None if is_missing(v) else float(v) * scale for v in series["value"]] \
        if not series.empty else []
    statuses = list(series["status"]) if not series.empty else []
    figure.add_trace(go.Scatter(
        x=x, y=y, mode="lines+markers", name=t("value", lang),
        line=dict(color="#3b6ea5", width=2),
        marker=dict(size=6, color=[RAG_COLOURS.get(s, RAG_COLOURS["no_data"]) for s in statuses]),
        hovertemplate="%{x|%Y-%m-%d}: %{y:.2f}" + ("%" if percent else "") + "<extra></extra>"))
    for level, colour, key in ((target, RAG_COLOURS["green"], "target"),
                               (red_threshold, RAG_COLOURS["red"], "red_line")):
        if level is not None and not is_missing(level):
            figure.add_hline(y=float(level) * scale, line=dict(color=colour, dash="dash", width=1),
                             annotation_text=t(key, lang), annotation_position="top left")
    # the region's own target (issue 7), as steps, where it differs from the catalog's
    if not series.empty and "scope_target" in series and target is not None:
        own = [None if is_missing(v) else float(v) for v in series["scope_target"]]
        if any(v is not None and v != float(target) for v in own):
            figure.add_trace(go.Scatter(
                x=x, y=[None if v is None else v * scale for v in own], mode="lines",
                name=t("scope_target", lang), opacity=0.6, hoverinfo="skip",
                line=dict(color=RAG_COLOURS["green"], width=2.5, shape="hv")))
    marked = {}
    by_day = dict(zip(x, y))
    for ev in evidence:
        day = ev["period_start"]
        value = by_day.get(pd.Timestamp(day), by_day.get(day))
        if value is None and ev.get("value") is not None:
            value = float(ev["value"]) * scale
        marked.setdefault(day, (value, []))[1].append(ev["rule"])
    if marked:
        figure.add_trace(go.Scatter(
            x=list(marked), y=[v for v, _ in marked.values()], mode="markers",
            name=t("evidence", lang), text=[" ".join(r) for _, r in marked.values()],
            marker=dict(symbol="x", size=13, color="#7b1fa2", line=dict(width=2)),
            hovertemplate="%{x|%Y-%m-%d} %{text}<extra></extra>"))
    figure.update_layout(
        height=320, margin=dict(l=50, r=20, t=20, b=40), plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.18), hovermode="closest",
        yaxis=dict(ticksuffix="%" if percent else "", gridcolor="#e4e7eb"),
        xaxis=dict(gridcolor="#f0f2f5"))
    return figure


def evidence_table(evidence: list[dict], unit: str, lang: str) -> html.Table:
    cols = ("ev_period", "ev_rule", "col_severity", "status", "value", "ev_detail",
            "ev_recorded_at")
    body = [html.Tr([
        html.Td(str(e["period_start"]) if e["period_type"] == "day"
                else f"{e['period_start']} ({t(e['period_type'], lang)})"),
        html.Td(e["rule"]), html.Td(severity_badge(e["severity"])),
        html.Td(t(e["status"], lang) if e["status"] in ("green", "amber", "red") else
                fmt_text(e["status"])),
        html.Td(format_value(e["value"], unit), className="num"),
        html.Td(fmt_text(e["detail"])), html.Td(fmt_time(e["recorded_at"])),
    ]) for e in evidence]
    return html.Table([html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols])),
                       html.Tbody(body)], className="data", id="evidence-table")


def deadlines_block(view, lang: str) -> html.Div:
    late = view.lateness
    return html.Div([
        html.H3(t("deadlines", lang)),
        html.Dl([
            html.Dt(t("col_current_deadline", lang)),
            html.Dd(fmt_time(late.deadline) if late.deadline else t("no_deadline", lang),
                    id="issue-deadline"),
            html.Dt(t("col_days_overdue", lang)),
            html.Dd(str(late.days_overdue) if late.overdue else t("not_overdue", lang),
                    id="issue-overdue", className="overdue-text" if late.overdue else ""),
            html.Dt(t("col_escalation_level", lang)),
            html.Dd(t(f"escalation_{late.escalation_level}", lang), id="issue-escalation"),
            html.Dt(t("days_open", lang)), html.Dd(str(view.days_open)),
            html.Dt(t("missed_deadlines", lang)), html.Dd(str(view.missed_deadlines)),
        ], className="facts"),
    ], className="card deadlines" + (" is-overdue" if late.overdue else ""))


def fields_block(view, lang: str) -> html.Div:
    progress = (f"{view.verification_days or 0}/{view.verification_required}"
                if view.verification_days is not None else DASH)
    fields = (
        ("col_responsible", fmt_text(view.responsible)),
        ("root_cause_category", _label("rc", view.root_cause_category, lang)),
        ("root_cause", fmt_text(view.root_cause)),
        ("corrective_actions", fmt_text(view.corrective_actions)),
        ("target_date", fmt_time(view.target_date)),
        ("fix_date", fmt_time(view.fix_date)),
        ("fix_note", fmt_text(view.fix_note)),
        ("verification_progress", progress),
        ("verified_at", fmt_time(view.verified_at)),
        ("sign_off_comment", fmt_text(view.sign_off_comment)),
        ("closed_at", fmt_time(view.closed_at)),
        ("cancel_reason", _label("reason", view.cancel_reason, lang)),
        ("cancel_note", fmt_text(view.cancel_note)),
        ("reopen_count", str(view.reopen_count)),
        ("evidence_count", str(view.evidence_count)),
        ("last_update", f"{fmt_time(view.updated_at)} · {view.updated_by} · v{view.version}"),
    )
    items = []
    for key, value in fields:
        items += [html.Dt(t(key, lang)), html.Dd(value, id=f"field-{key}")]
    return html.Div([html.H3(t("issue_fields", lang)), html.Dl(items, className="facts")],
                    className="card fields")


def _changes_text(changes: dict) -> str:
    return "; ".join(f"{k}={'' if v is None else v}" for k, v in sorted(changes.items()))


def events_table(events: list[dict], lang: str) -> html.Table:
    cols = ("ev_seq", "ev_at", "ev_actor", "ev_action", "ev_transition", "ev_changes",
            "ev_comment")
    body = []
    for e in events:
        moved = e["from_state"] != e["to_state"]
        transition = (f"{state_label(e['from_state'], lang)} → {state_label(e['to_state'], lang)}"
                      if moved else DASH)
        body.append(html.Tr([
            html.Td(str(e["seq"]), className="num"), html.Td(fmt_time(e["at"])),
            html.Td(e["actor"]), html.Td(_label("action", e["action"], lang)),
            html.Td(transition), html.Td(_changes_text(e["changes"]), className="changes"),
            html.Td(fmt_text(e["comment"])),
        ], className="event-row", **{"data-action": e["action"], "data-actor": e["actor"],
                                     "data-seq": str(e["seq"])}))
    return html.Table([html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols])),
                       html.Tbody(body)], className="data events", id="events-table")


# -- /issues/<id>: the action forms --------------------------------------------------------

def _field(label: str, control) -> html.Label:
    return html.Label([html.Span(label), control], className="form-field")


def _textarea(id_: str, lang: str, placeholder_key: str | None = None) -> dcc.Textarea:
    return dcc.Textarea(id=id_, value="", className="form-text",
                        placeholder=t(placeholder_key, lang) if placeholder_key else None)


def _form(action: str, lang: str, fields: list) -> html.Div:
    return html.Div([
        html.H4(t(f"action_{action}", lang)),
        *fields,
        html.Button(t(f"do_{action}", lang), id=f"action-{action}", n_clicks=0,
                    className=f"action-button action-{action}"),
    ], className="action-form", id=f"form-{action}")


def action_forms(allowed: list[str], today: date, lang: str) -> html.Div:
    """One small form per action the current user may take (nothing else is offered)."""
    builders = {
        "acknowledge": lambda: [_field(t("col_responsible", lang), dcc.Input(
            id="ack-responsible", type="text", value="", debounce=False))],
        "plan": lambda: [
            _field(t("root_cause_category", lang), dcc.Dropdown(
                id="plan-category", clearable=False, searchable=False,
                options=[{"label": _label("rc", c, lang), "value": c}
                         for c in ROOT_CAUSE_CATEGORIES])),
            _field(t("root_cause", lang), _textarea("plan-root-cause", lang)),
            _field(t("corrective_actions", lang), _textarea("plan-actions", lang)),
            _field(t("target_date", lang), dcc.Input(
                id="plan-target-date", type="date", value=(today + timedelta(days=14)).isoformat(),
                min=today.isoformat())),
        ],
        "claim_fix": lambda: [
            _field(t("fix_date", lang), dcc.Input(id="fix-date", type="date",
                                                  value=today.isoformat(), max=today.isoformat())),
            _field(t("fix_note", lang), _textarea("fix-note", lang)),
        ],
        "sign_off": lambda: [_field(t("sign_off_comment", lang), _textarea("signoff-comment",
                                                                           lang))],
        "cancel": lambda: [
            _field(t("cancel_reason", lang), dcc.Dropdown(
                id="cancel-reason", clearable=False, searchable=False,
                options=[{"label": _label("reason", r, lang), "value": r}
                         for r in CANCEL_REASONS])),
            _field(t("cancel_note", lang), _textarea("cancel-note", lang)),
        ],
        "comment": lambda: [_field(t("comment_text", lang), _textarea("comment-text", lang))],
    }
    forms = [_form(a, lang, builders[a]()) for a in ACTION_ORDER if a in allowed]
    if not forms:
        return html.Div(html.P(t("no_actions", lang), className="muted"),
                        className="card actions", id="issue-actions")
    return html.Div([html.H3(t("actions_title", lang)), html.Div(forms, className="action-grid")],
                    className="card actions", id="issue-actions")


def action_message(kind: str, text: str) -> html.Div:
    """kind: ok | refused | conflict."""
    return html.Div(text, className=f"message {'ok' if kind == 'ok' else 'refused'} msg-{kind}",
                    role="status" if kind == "ok" else "alert", **{"data-kind": kind})


# -- /department ----------------------------------------------------------------------------

CLOSURE_COLUMNS = ("issue_id", "kpi", "region", "severity", "state", "opened_at",
                   "current_deadline", "days_open", "days_overdue", "escalation_level",
                   "responsible", "root_cause_category", "target_date", "fix_date",
                   "verification_progress", "closed_at", "reopen_count", "last_update")


def department_picker(codes: list[str], current: str | None, lang: str) -> html.Nav:
    return html.Nav([dcc.Link(department_label(code, lang), href=f"/department/{code}",
                              id=f"dept-link-{code}",
                              className="pill active" if code == current else "pill")
                     for code in codes], className="pills", id="department-picker")


def download_links(code: str, lang: str) -> html.Div:
    return html.Div([
        html.A(t("download_xlsx", lang), href=f"/download/closure-list/{code}.xlsx",
               id="download-xlsx", className="download"),
        html.A(t("download_csv", lang), href=f"/download/closure-list/{code}.csv",
               id="download-csv", className="download"),
    ], className="downloads")


def closure_summary(rows: list[ClosureRow], lang: str) -> html.P:
    overdue = sum(r.overdue for r in rows)
    escalated = sum(r.escalation_level > 0 for r in rows)
    return html.P(t("closure_summary", lang).format(n=len(rows), overdue=overdue,
                                                    escalated=escalated),
                  id="closure-summary", **{"data-count": str(len(rows))})


def closure_rows(rows: list[ClosureRow], lang: str) -> list[dict]:
    """The closure list's rows for the grid, in the list's order (most urgent first)."""
    found = []
    for r in sort_rows(rows):
        region = r.region_name_zh if lang == "zh" else r.region_name_en
        kpi = r.kpi_name_zh if lang == "zh" else r.kpi_name_en
        found.append({
            "issue_id": r.issue_id, "kpi": f"{r.kpi_code} {kpi}",
            "region": f"{r.region_code} {region}", "severity": r.severity,
            "state": state_label(r.state, lang), "state_code": r.state,
            "opened_at": fmt_time(r.opened_at), "current_deadline": fmt_time(r.current_deadline),
            "days_open": r.days_open, "days_overdue": r.days_overdue if r.overdue else None,
            "escalation_level": r.escalation_level if r.overdue else None,
            "responsible": r.responsible or None,
            "root_cause_category": (_label("rc", r.root_cause_category, lang)
                                    if r.root_cause_category else None),
            "target_date": fmt_time(r.target_date), "fix_date": fmt_time(r.fix_date),
            "verification_progress": r.verification_progress or None,
            "closed_at": fmt_time(r.closed_at), "reopen_count": r.reopen_count,
            "last_update": fmt_time(r.last_update), "overdue": bool(r.overdue),
        })
    return found


def closure_grid(rows: list[dict], code: str, lang: str) -> html.Div:
    head = lambda key: t(f"col_{key}", lang)  # noqa: E731
    numbers = {"days_open", "days_overdue", "escalation_level", "reopen_count"}
    columns = [link_col("issue_id", head("issue_id"), "/issues/{}", "#{}", number=True,
                        class_name="issue-link"),
               text_col("kpi", head("kpi")), text_col("region", head("region")),
               badge_col("severity", "severity", head("severity"), "sev", "sev-",
                         "data-severity"),
               badge_col("state", "state_code", head("state"), "state", "state-", "data-state")]
    columns += [number_col(c, head(c)) if c in numbers else text_col(c, head(c))
                for c in CLOSURE_COLUMNS[5:]]
    return data_grid("closure-table", columns, rows, lang=lang, empty=t("no_issues", lang),
                     file_name=f"closure_list_{code}_view.csv", row_id="issue_id",
                     row_classes={"overdue": "params.data.overdue"})
