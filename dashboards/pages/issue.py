"""One issue (/issues/<issue_id>): header, the KPI chart with the evidence days, evidence,
deadlines, every field, the event history, and the forms of the actions the logged-in user
may take. Every action goes through the Workflow service as the session's user, with the
version the page was rendered from (optimistic locking); the service re-checks everything."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate
from werkzeug.exceptions import BadRequest

from dagster_project.lib.remediation.hotspots import kind_of_issue_code
from dagster_project.lib.remediation.rules import ConflictError, NotFound, WorkflowError

from dashboards.bad_input import record_id, require_form_values
from dashboards.components.common import empty_state
from dashboards.components.hotspots import series_href
from dashboards.components.issues import (
    action_forms, action_message, deadlines_block, events_table, evidence_table, fields_block,
    issue_header, kpi_chart_figure, state_label,
)
from dashboards.context import board, current_user
from dashboards.data import NoBoardData
from dashboards.data import issues as data
from dashboards.i18n import language, t

dash.register_page(__name__, path_template="/issues/<issue_id>", name="issue",
                   title="QualityLoop · Issue")


def _hotspot_link(view, evidence: list[dict]):
    """A promoted hotspot's issue has no KPI chart: its series lives on the hotspot page
    (on the day of its latest evidence; the page picks the category's top channel)."""
    kind = kind_of_issue_code(view.kpi_code)
    if kind is None:
        return None
    latest = max((e["period_start"] for e in evidence), default="")
    return html.Div([
        html.P(t("hs_issue_series")),
        dcc.Link(t("hs_issue_link"), id="issue-hotspot-link",
                 href=series_href(kind.source, kind.category, None, view.region_code, latest)),
    ])


def _chart(view, evidence: list[dict], lang: str):
    hotspot = _hotspot_link(view, evidence)
    if hotspot is not None:
        return hotspot
    try:
        meta = data.kpi_meta(view.kpi_code)
        last_day = data.as_of_date()
        if meta is None or last_day is None:
            return empty_state(t("no_board_data"))
        series = data.kpi_series(view.kpi_code, view.region_code, meta["grain"], last_day)
    except NoBoardData:
        return empty_state(t("no_board_data"))
    figure = kpi_chart_figure(series, meta["unit"], meta["target"], meta["red_threshold"],
                              evidence, lang)
    return dcc.Graph(id="issue-chart", figure=figure, config={"displayModeBar": False})


def _allowed(issue_id: int) -> list[str]:
    user = current_user()
    if user is None:
        return []
    try:
        return board().workflow.allowed_actions(issue_id, user.name)
    except WorkflowError:  # the user was removed from the store since logging in
        return []


def issue_body(issue_id: int) -> html.Div:
    """Everything about the issue as stored now (re-rendered after each action)."""
    lang = language()
    workflow = board().workflow
    view = workflow.issue(issue_id)
    evidence = workflow.evidence(issue_id)
    events = workflow.events(issue_id)
    try:
        regions = data.region_names()
    except NoBoardData:
        regions = {}
    unit = (data.kpi_meta(view.kpi_code) or {}).get("unit", "ratio") if regions else "ratio"
    return html.Div([
        dcc.Store(id="issue-version", data=view.version),
        issue_header(view, regions, lang),
        html.Div([
            html.Div([html.H3(t("kpi_chart")), _chart(view, evidence, lang)], className="card"),
            deadlines_block(view, lang),
        ], className="issue-grid"),
        action_forms(_allowed(issue_id), workflow.now().date(), lang),
        fields_block(view, lang),
        html.Div([html.H3(t("evidence")), evidence_table(evidence, unit, lang)], className="card"),
        html.Div([html.H3(t("history")), events_table(events, lang)], className="card"),
    ], **{"data-state": view.state, "data-version": str(view.version)})


def layout(issue_id: str | None = None, **_):
    number = record_id(issue_id)
    if number is None:
        return empty_state(t("issue_not_found"))
    try:
        body = issue_body(number)
    except NotFound:
        return empty_state(t("issue_not_found"))
    return html.Div([
        dcc.Link(f"← {t('nav_issues')}", href="/issues", className="back"),
        dcc.Store(id="issue-id", data=number),
        html.Div(id="issue-message", role="status"),
        html.Div(body, id="issue-body"),
    ])


def run_action(action: str, issue_id, version, **fields):
    """Act as the session's user on the version the page shows; (body, message)."""
    user = current_user()
    if user is None:
        raise PreventUpdate
    number = record_id(issue_id)
    if number is None:
        raise BadRequest(f"bad request: no issue {issue_id!r}")
    if not isinstance(version, int):
        return dash.no_update, action_message("conflict", t("conflict_reload"))
    require_form_values(**fields)
    method = getattr(board().workflow, action)
    try:
        view = method(number, user.name, **fields, expected_version=version)
    except ConflictError as err:
        return dash.no_update, html.Div([
            action_message("conflict", f"{t('conflict_reload')} ({err})"),
            html.A(t("reload"), href=f"/issues/{number}", id="issue-reload")])
    except WorkflowError as err:
        return dash.no_update, action_message("refused", f"{t('refused')}: {err}")
    done = t("action_done").format(action=t(f"action_{action}"),
                                   state=state_label(view.state, language()))
    return issue_body(number), action_message("ok", done)


OUTPUTS = (Output("issue-body", "children", allow_duplicate=True),
           Output("issue-message", "children", allow_duplicate=True))
IDS = (State("issue-id", "data"), State("issue-version", "data"))


@callback(*OUTPUTS, Input("action-acknowledge", "n_clicks"), State("ack-responsible", "value"),
          *IDS, prevent_initial_call=True)
def _acknowledge(clicks, responsible, issue_id, version):
    if not clicks:
        raise PreventUpdate
    return run_action("acknowledge", issue_id, version, responsible=responsible)


@callback(*OUTPUTS, Input("action-plan", "n_clicks"), State("plan-category", "value"),
          State("plan-root-cause", "value"), State("plan-actions", "value"),
          State("plan-target-date", "value"), *IDS, prevent_initial_call=True)
def _plan(clicks, category, root_cause, actions, target_date, issue_id, version):
    if not clicks:
        raise PreventUpdate
    return run_action("plan", issue_id, version, root_cause_category=category,
                      root_cause=root_cause, actions=actions, target_date=target_date)


@callback(*OUTPUTS, Input("action-claim_fix", "n_clicks"), State("fix-date", "value"),
          State("fix-note", "value"), *IDS, prevent_initial_call=True)
def _claim_fix(clicks, fix_date, note, issue_id, version):
    if not clicks:
        raise PreventUpdate
    return run_action("claim_fix", issue_id, version, fix_date=fix_date, note=note)


@callback(*OUTPUTS, Input("action-sign_off", "n_clicks"), State("signoff-comment", "value"),
          *IDS, prevent_initial_call=True)
def _sign_off(clicks, comment, issue_id, version):
    if not clicks:
        raise PreventUpdate
    return run_action("sign_off", issue_id, version, comment=comment)


@callback(*OUTPUTS, Input("action-cancel", "n_clicks"), State("cancel-reason", "value"),
          State("cancel-note", "value"), *IDS, prevent_initial_call=True)
def _cancel(clicks, reason, note, issue_id, version):
    if not clicks:
        raise PreventUpdate
    return run_action("cancel", issue_id, version, reason=reason, note=note)


@callback(*OUTPUTS, Input("action-comment", "n_clicks"), State("comment-text", "value"),
          *IDS, prevent_initial_call=True)
def _comment(clicks, text, issue_id, version):
    if not clicks:
        raise PreventUpdate
    return run_action("comment", issue_id, version, text=text)
