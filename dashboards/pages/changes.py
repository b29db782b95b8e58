"""The change register (变更): every planned change with its state, filtered by state and
department (controls, and query parameters /changes?state=vetoed&department=HOTLINE), and
the registration form for the users who may register (a quality manager; a department owner
for their own department). The scope registered is every chosen KPI in every chosen region.
Changes come from the ChangeRegister service, which re-checks every permission."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dagster_project.lib.remediation.reference import departments
from dagster_project.lib.remediation.rules import DEPARTMENT_OWNER, WorkflowError
from dagster_project.lib.remediation.schema import CHANGE_STATES

from dashboards.bad_input import require_form_values
from dashboards.components.changes import (
    change_filter_options, changes_count, changes_table, register_form,
)
from dashboards.components.common import empty_state
from dashboards.components.issues import action_message
from dashboards.context import current_user
from dashboards.data import changes as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/changes", name="changes", title="QualityLoop · Changes")


def _clean(state, department) -> dict:
    return {"state": state if state in CHANGE_STATES else None,
            "department": department if department in departments() else None}


def change_list(filters: dict) -> html.Div:
    lang = language()
    views = data.register().changes(**filters)
    return html.Div([changes_count(len(views), lang),
                     changes_table(views, lang) if views else empty_state(t("no_changes"))])


def _register_block():
    user = current_user()
    if user is None:
        return html.Div()
    register = data.register()
    try:
        if not register.may_register(user.name):
            return html.Div()
    except WorkflowError:  # the user was removed from the store since logging in
        return html.Div()
    fixed = user.department_code if user.role == DEPARTMENT_OWNER else None
    return register_form(data.kpi_codes(), data.regions(), list(departments()), fixed,
                         register.now().date(), language())


def layout(state: str | None = None, department: str | None = None, **_):
    lang = language()
    filters = _clean(state, department)
    options = change_filter_options(lang, list(departments()))

    def dropdown(name: str) -> html.Label:
        return html.Label([t(f"col_{name}"), dcc.Dropdown(
            id=f"changes-filter-{name}", options=options[name], value=filters[name],
            placeholder=t("all"), clearable=True)])

    return html.Div([
        html.H2(t("changes_title")),
        html.Div([dropdown("state"), dropdown("department")], className="controls"),
        html.Div(id="changes-message", role="status"),
        html.Div(change_list(filters), id="changes-content"),
        _register_block(),
    ])


@callback(Output("changes-content", "children"),
          Input("changes-filter-state", "value"), Input("changes-filter-department", "value"),
          prevent_initial_call=True)
def _filter_changes(state, department):
    return change_list(_clean(state, department))


@callback(Output("changes-content", "children", allow_duplicate=True),
          Output("changes-message", "children"),
          Input("change-action-register", "n_clicks"),
          State("register-title", "value"), State("register-type", "value"),
          State("register-department", "value"), State("register-launch-date", "value"),
          State("register-kpis", "value"), State("register-regions", "value"),
          State("register-description", "value"),
          State("changes-filter-state", "value"), State("changes-filter-department", "value"),
          prevent_initial_call=True)
def _register(clicks, title, change_type, department, launch_date, kpis, regions,
              description, state, filter_department):
    user = current_user()
    if not clicks or user is None:
        raise PreventUpdate
    require_form_values(title=title, change_type=change_type, department=department,
                        launch_date=launch_date, kpis=kpis, regions=regions,
                        description=description)
    affects = [(k, r) for k in (kpis or []) for r in (regions or [])]
    try:
        view = data.register().register(user.name, title, change_type, department,
                                         launch_date, affects or None, description)
    except WorkflowError as err:
        return dash.no_update, action_message("refused", f"{t('refused')}: {err}")
    done = html.Div([
        action_message("ok", t("change_registered").format(id=view.id)),
        dcc.Link(t("open_change"), href=f"/changes/{view.id}", id="registered-change-link"),
    ])
    return change_list(_clean(state, filter_department)), done
