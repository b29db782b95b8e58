"""Building blocks of the change pages (/changes, /changes/<id>): the register table, one
change's facts, its experience test, scope, linked issues, post-evaluation link and the
forms of the actions the logged-in user may take."""

from __future__ import annotations

from datetime import date

from dash import dcc, html

from dagster_project.lib.remediation.schema import CHANGE_STATES, CHANGE_TYPES

from ..i18n import t
from .issues import (
    DASH, _field, _label, _textarea, department_label, fmt_text, fmt_time, kpi_label,
    region_label, state_badge, state_label,
)

CHANGE_COLUMNS = ("change_id", "title", "change_type", "owner_department", "planned_launch",
                  "launched_on", "state", "affects", "veto_issue")
# The order the forms appear in; the button of each is #change-action-<name>.
CHANGE_ACTION_ORDER = ("test_pass", "test_veto", "launch", "cancel")


def type_label(change_type: str, lang: str) -> str:
    return _label("ctype", change_type, lang)


def change_filter_options(lang: str, departments: list[str]) -> dict[str, list[dict]]:
    return {
        "state": [{"label": state_label(s, lang), "value": s} for s in CHANGE_STATES],
        "department": [{"label": department_label(d, lang), "value": d} for d in departments],
    }


def issue_link(issue: dict, lang: str) -> html.Span:
    return html.Span([
        dcc.Link(f"#{issue['id']}", href=f"/issues/{issue['id']}", className="change-issue-link"),
        " ", state_badge(issue["state"], lang)], className="change-issue",
        **{"data-issue": str(issue["id"])})


def changes_table(views: list, lang: str) -> html.Table:
    header = html.Thead(html.Tr([html.Th(t(f"col_{c}", lang)) for c in CHANGE_COLUMNS]))
    body = [html.Tr([
        html.Td(dcc.Link(f"#{v.id}", href=f"/changes/{v.id}", className="change-link")),
        html.Td(v.title),
        html.Td(type_label(v.change_type, lang)),
        html.Td(department_label(v.owner_department, lang)),
        html.Td(fmt_time(v.planned_launch_date)),
        html.Td(fmt_time(v.launched_on)),
        html.Td(state_badge(v.state, lang)),
        html.Td(", ".join(f"{k}:{r}" for k, r in v.scopes), className="affects"),
        html.Td(issue_link(v.linked_issues[-1], lang) if v.linked_issues else DASH),
    ], className="change-row", **{"data-change": str(v.id), "data-state": v.state})
        for v in views]
    return html.Table([header, html.Tbody(body)], className="data changes", id="changes-table")


def changes_count(n: int, lang: str) -> html.Span:
    return html.Span(t("changes_count", lang).format(n=n), id="changes-count",
                     **{"data-count": str(n)})


def change_header(view, lang: str) -> html.Div:
    facts = [
        (t("col_change_type", lang), type_label(view.change_type, lang)),
        (t("col_owner_department", lang), department_label(view.owner_department, lang)),
        (t("col_state", lang), html.Span(state_badge(view.state, lang), id="change-state")),
        (t("col_planned_launch", lang), fmt_time(view.planned_launch_date)),
        (t("col_launched_on", lang),
         html.Span(fmt_time(view.launched_on), id="change-launched-on")),
        (t("registered_by", lang), view.registered_by),
        (t("registered_at", lang), fmt_time(view.registered_at)),
        (t("description", lang), fmt_text(view.description)),
    ]
    items = [part for label, value in facts for part in (html.Dt(label), html.Dd(value))]
    notice = [html.P(t("change_holds", lang), className="message refused", id="change-held")] \
        if view.state == "vetoed" else []
    return html.Div([html.H2(f"#{view.id} {view.title}", id="change-title"), *notice,
                     html.Dl(items, className="facts")], className="card change-header")


def test_block(view, lang: str) -> html.Div:
    if view.test_result is None:
        content = html.P(t("not_tested", lang), className="muted")
    else:
        content = html.Dl([
            html.Dt(t("test_result", lang)),
            html.Dd(_label("result", view.test_result, lang), id="change-test-result",
                    **{"data-result": view.test_result}),
            html.Dt(t("test_reason", lang)), html.Dd(fmt_text(view.test_reason),
                                                     id="change-test-reason"),
            html.Dt(t("tested_by", lang)), html.Dd(fmt_text(view.tested_by)),
            html.Dt(t("tested_at", lang)), html.Dd(fmt_time(view.tested_at)),
        ], className="facts")
    return html.Div([html.H3(t("experience_test", lang)), content], className="card",
                    id="change-test")


def scope_table(view, regions: dict[str, tuple[str, str]], lang: str) -> html.Div:
    rows = [html.Tr([html.Td(kpi_label(k, lang)), html.Td(region_label(r, regions, lang))],
                    className="scope-row", **{"data-scope": f"{k}:{r}"})
            for k, r in view.scopes]
    table = html.Table([html.Thead(html.Tr([html.Th(t("kpi", lang)), html.Th(t("region", lang))])),
                        html.Tbody(rows)], className="data", id="change-scope")
    return html.Div([html.H3(t("scope_title", lang)), table], className="card")


def linked_issues_block(view, lang: str) -> html.Div:
    content = (html.Ul([html.Li(issue_link(i, lang)) for i in view.linked_issues])
               if view.linked_issues else html.P(t("no_linked_issues", lang), className="muted"))
    return html.Div([html.H3(t("linked_issues", lang)), content], className="card",
                    id="change-issues")


def post_evaluation_block(view, href: str, lang: str) -> html.Div:
    """Room for the post-evaluation (后评估): its own page, linked once the change is live."""
    content = (dcc.Link(t("post_evaluation_link", lang), href=href, id="change-post-evaluation")
               if view.state == "launched" else
               html.P(t("post_evaluation_after_launch", lang), className="muted"))
    return html.Div([html.H3(t("post_evaluation", lang)), content], className="card")


def _change_form(action: str, label_key: str, button_key: str, fields: list) -> html.Div:
    return html.Div([
        html.H4(t(label_key)), *fields,
        html.Button(t(button_key), id=f"change-action-{action}", n_clicks=0,
                    className=f"action-button action-{action}"),
    ], className="action-form", id=f"change-form-{action}")


def change_action_forms(allowed: list[str], today: date, lang: str) -> html.Div:
    builders = {
        "test_pass": lambda: _change_form("test_pass", "action_test_pass", "do_test_pass", [
            _field(t("test_reason", lang), _textarea("change-pass-reason", lang))]),
        "test_veto": lambda: _change_form("test_veto", "action_test_veto", "do_test_veto", [
            _field(t("veto_reason", lang), _textarea("change-veto-reason", lang))]),
        "launch": lambda: _change_form("launch", "action_launch", "do_launch", [
            _field(t("launch_date", lang), dcc.Input(
                id="change-launch-date", type="date", value=today.isoformat(),
                max=today.isoformat()))]),
        "cancel": lambda: _change_form("cancel", "action_change_cancel", "do_change_cancel", [
            _field(t("change_cancel_reason", lang), _textarea("change-cancel-reason", lang))]),
    }
    forms = [builders[a]() for a in CHANGE_ACTION_ORDER if a in allowed]
    if not forms:
        return html.Div(html.P(t("no_actions", lang), className="muted"),
                        className="card actions", id="change-actions")
    return html.Div([html.H3(t("actions_title", lang)), html.Div(forms, className="action-grid")],
                    className="card actions", id="change-actions")


def register_form(kpis: list[str], regions: dict[str, tuple[str, str]], departments: list[str],
                  fixed_department: str | None, today: date, lang: str) -> html.Div:
    """The registration form; a department owner registers for their own department only."""
    department_options = [{"label": department_label(d, lang), "value": d} for d in departments
                          if fixed_department in (None, d)]
    return html.Div([
        html.H3(t("action_register", lang)),
        html.Div([
            _field(t("col_title", lang), dcc.Input(id="register-title", type="text", value="")),
            _field(t("col_change_type", lang), dcc.Dropdown(
                id="register-type", clearable=False, searchable=False,
                options=[{"label": type_label(c, lang), "value": c} for c in CHANGE_TYPES])),
            _field(t("col_owner_department", lang), dcc.Dropdown(
                id="register-department", clearable=False, searchable=False,
                options=department_options, value=fixed_department)),
            _field(t("col_planned_launch", lang), dcc.Input(
                id="register-launch-date", type="date", value=today.isoformat())),
            _field(t("kpis", lang), dcc.Dropdown(
                id="register-kpis", multi=True, searchable=False,
                options=[{"label": kpi_label(k, lang), "value": k} for k in kpis])),
            _field(t("regions", lang), dcc.Dropdown(
                id="register-regions", multi=True, searchable=False,
                options=[{"label": region_label(c, regions, lang), "value": c}
                         for c in sorted(regions, key=lambda c: (c != "JS", c))])),
            _field(t("description", lang), _textarea("register-description", lang)),
        ], className="action-grid"),
        html.Button(t("do_register", lang), id="change-action-register", n_clicks=0,
                    className="action-button action-register"),
    ], className="card actions", id="change-register")
