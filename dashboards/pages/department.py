"""A department's closure list (部门销项): its open issues and those closed or cancelled in
the last 30 days, as on the weekly list, with the workbook and the CSV generated on request
(/download/closure-list/<code>.xlsx|.csv). /department lands a department owner on their
own department; a quality manager or a viewer picks one."""

from __future__ import annotations

import dash
from dash import html

from dagster_project.lib.remediation.loop import closure_list_issues
from dagster_project.lib.remediation.reference import departments
from dagster_project.lib.remediation.warehouse_io import closure_row

from dashboards.components.common import empty_state
from dashboards.components.issues import (
    closure_grid, closure_rows, closure_summary, department_label, department_picker,
    download_links,
)
from dashboards.context import board, current_user
from dashboards.data import NoBoardData
from dashboards.data import issues as data
from dashboards.i18n import language, t

dash.register_page(__name__, path="/department", path_template="/department/<code>",
                   name="department", title="QualityLoop · Department")


def layout(code: str | None = None, **_):
    lang = language()
    codes = list(departments())
    user = current_user()
    if code is None and user is not None and user.department_code in codes:
        code = user.department_code
    picker = department_picker(codes, code, lang)
    if code is None:
        return html.Div([html.H2(t("nav_department")), picker,
                         empty_state(t("pick_department"))])
    if code not in codes:
        return html.Div([html.H2(t("nav_department")), picker,
                         empty_state(t("unknown_department").format(code=code))])
    try:
        names = data.region_names()
    except NoBoardData:
        names = {}
    rows = [closure_row(v, names) for v in closure_list_issues(board().workflow, code)]
    return html.Div([
        html.H2(f"{t('closure_list')} · {department_label(code, lang)}", id="department-title",
                **{"data-department": code}),
        picker,
        html.Div([closure_summary(rows, lang), download_links(code, lang)],
                 className="closure-head"),
        closure_grid(closure_rows(rows, lang), code, lang),
    ])
