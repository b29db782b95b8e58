"""One change (/changes/<change_id>): its facts, experience test, scope, the issues its vetoes
opened (linked to their issue pages), the link to its post-evaluation, the event history,
and the forms of the actions the logged-in user may take. Every action goes through the
ChangeRegister service as the session's user, with the version the page was rendered from
(optimistic locking); the service re-checks everything."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate
from werkzeug.exceptions import BadRequest

from dagster_project.lib.remediation.rules import ConflictError, NotFound, WorkflowError

from dashboards.bad_input import record_id, require_form_values
from dashboards.components.changes import (
    change_action_forms, change_header, linked_issues_block, post_evaluation_block, scope_table,
    test_block,
)
from dashboards.components.common import empty_state
from dashboards.components.hotspots import change_hotspots_block
from dashboards.components.issues import action_message, events_table, state_label
from dashboards.context import current_user
from dashboards.data import NoBoardData
from dashboards.data import changes as data
from dashboards.data import hotspots as hotspot_data
from dashboards.i18n import language, t

dash.register_page(__name__, path_template="/changes/<change_id>", name="change",
                   title="QualityLoop · Change")


def _allowed(change_id: int) -> list[str]:
    user = current_user()
    if user is None:
        return []
    try:
        return data.register().allowed_actions(change_id, user.name)
    except WorkflowError:  # the user was removed from the store since logging in
        return []


def _linked_hotspots(view, lang: str) -> list:
    """A launched change's hotspots (those that started within 14 days after it)."""
    if view.state != "launched":
        return []
    try:
        return [change_hotspots_block(hotspot_data.hotspots_of_change(view.id), lang)]
    except NoBoardData:
        return []


def change_body(change_id: int) -> html.Div:
    """Everything about the change as stored now (re-rendered after each action)."""
    lang = language()
    register = data.register()
    view = register.change(change_id)
    return html.Div([
        dcc.Store(id="change-version", data=view.version),
        change_header(view, lang),
        html.Div([test_block(view, lang), linked_issues_block(view, lang),
                  post_evaluation_block(view, data.post_evaluation_href(view.id), lang),
                  *_linked_hotspots(view, lang)],
                 className="issue-grid"),
        change_action_forms(_allowed(change_id), register.now().date(), lang),
        scope_table(view, data.regions(), lang),
        html.Div([html.H3(t("history")), events_table(register.events(change_id), lang)],
                 className="card"),
    ], **{"data-state": view.state, "data-version": str(view.version)})


def layout(change_id: str | None = None, **_):
    number = record_id(change_id)
    if number is None:
        return empty_state(t("change_not_found"))
    try:
        body = change_body(number)
    except NotFound:
        return empty_state(t("change_not_found"))
    return html.Div([
        dcc.Link(f"← {t('nav_changes')}", href="/changes", className="back"),
        dcc.Store(id="change-id", data=number),
        html.Div(id="change-message", role="status"),
        html.Div(body, id="change-body"),
    ])


def run_change_action(action: str, change_id, version, **fields):
    """Act as the session's user on the version the page shows; (body, message)."""
    user = current_user()
    if user is None:
        raise PreventUpdate
    number = record_id(change_id)
    if number is None:
        raise BadRequest(f"bad request: no change {change_id!r}")
    if not isinstance(version, int):
        return dash.no_update, action_message("conflict", t("conflict_reload"))
    require_form_values(**fields)
    method = getattr(data.register(), action)
    try:
        view = method(number, user.name, **fields, expected_version=version)
    except ConflictError as err:
        return dash.no_update, html.Div([
            action_message("conflict", f"{t('conflict_reload')} ({err})"),
            html.A(t("reload"), href=f"/changes/{number}", id="change-reload")])
    except WorkflowError as err:
        return dash.no_update, action_message("refused", f"{t('refused')}: {err}")
    label = t("action_change_cancel" if action == "cancel" else f"action_{action}")
    done = t("action_done").format(action=label, state=state_label(view.state, language()))
    return change_body(number), action_message("ok", done)


OUTPUTS = (Output("change-body", "children", allow_duplicate=True),
           Output("change-message", "children", allow_duplicate=True))
IDS = (State("change-id", "data"), State("change-version", "data"))


@callback(*OUTPUTS, Input("change-action-test_pass", "n_clicks"),
          State("change-pass-reason", "value"), *IDS, prevent_initial_call=True)
def _test_pass(clicks, reason, change_id, version):
    if not clicks:
        raise PreventUpdate
    return run_change_action("test_pass", change_id, version, reason=reason)


@callback(*OUTPUTS, Input("change-action-test_veto", "n_clicks"),
          State("change-veto-reason", "value"), *IDS, prevent_initial_call=True)
def _test_veto(clicks, reason, change_id, version):
    if not clicks:
        raise PreventUpdate
    return run_change_action("test_veto", change_id, version, reason=reason)


@callback(*OUTPUTS, Input("change-action-launch", "n_clicks"),
          State("change-launch-date", "value"), *IDS, prevent_initial_call=True)
def _launch(clicks, launched_on, change_id, version):
    if not clicks:
        raise PreventUpdate
    return run_change_action("launch", change_id, version, launched_on=launched_on)


@callback(*OUTPUTS, Input("change-action-cancel", "n_clicks"),
          State("change-cancel-reason", "value"), *IDS, prevent_initial_call=True)
def _cancel(clicks, reason, change_id, version):
    if not clicks:
        raise PreventUpdate
    return run_change_action("cancel", change_id, version, reason=reason)
