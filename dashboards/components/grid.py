"""The board's data grid: AG Grid Community through dash-ag-grid, its JavaScript served by
the board itself (the CSP allows no other scripts) and its theme injected by that script.

One builder for every list that can grow (issues, closure list, drill-down members, rejected
files and rows): sorting and a filter on every column, pages of at most PAGE_SIZE rows
(only the current page is drawn), a plain checklist to choose the columns (AG Grid's column
tool panel is an Enterprise feature), and an export of the filtered, sorted rows to CSV with
the server's formula rule (assets/dashAgGridFunctions.js, qloopCsvCell). Headers come in
the user's language from the caller. Pure: column definitions and rows in, components out;
the two callbacks every grid shares live in dashboards/grids.py."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
from dash import dcc, html

from ..i18n import language, t

PAGE_SIZE = 100
GRID, COLUMNS, EXPORT = "grid", "grid-columns", "grid-export"
# AG Grid's default theme, compact like the board's other tables.
THEME = ("themeQuartz.withParams({ fontSize: 13, headerFontSize: 13, rowHeight: 32, "
         "headerHeight: 34, spacing: 5, wrapperBorderRadius: 6, fontFamily: 'inherit' })")
# AG Grid's own words (pages, filters) in Chinese; English is its default.
ZH_LOCALE = {
    "page": "页", "of": "共", "to": "至", "more": "更多", "first": "首页", "last": "末页",
    "next": "下一页", "previous": "上一页", "noRowsToShow": "没有数据", "loadingOoo": "加载中…",
    "filterOoo": "筛选…", "equals": "等于", "notEqual": "不等于", "contains": "包含",
    "notContains": "不包含", "startsWith": "开头是", "endsWith": "结尾是", "blank": "为空",
    "notBlank": "不为空", "lessThan": "小于", "greaterThan": "大于",
    "lessThanOrEqual": "小于等于", "greaterThanOrEqual": "大于等于", "inRange": "介于",
    "inRangeStart": "从", "inRangeEnd": "到", "andCondition": "且", "orCondition": "或",
    "applyFilter": "应用", "resetFilter": "重置", "clearFilter": "清除",
    "cancelFilter": "取消", "sortAscending": "升序", "sortDescending": "降序",
    "pageLastRowUnknown": "?", "ariaFilterValue": "筛选值",
}


def grid_id(name: str) -> dict:
    return {"type": GRID, "grid": name}


def text_col(field: str, header: str, **extra) -> dict:
    return {"field": field, "colId": field, "headerName": header,
            "filter": "agTextColumnFilter",
            "valueFormatter": {"function": "qloopText(params.value)"}, **extra}


def number_col(field: str, header: str, unit: str | None = None, **extra) -> dict:
    """A number, sorted and filtered as one; shown as a KPI value of `unit`, else a count."""
    shown = f"qloopValue(params.value, '{unit}')" if unit else "qloopInt(params.value)"
    return {"field": field, "colId": field, "headerName": header,
            "filter": "agNumberColumnFilter", "type": "rightAligned",
            "cellDataType": "number", "valueFormatter": {"function": shown}, **extra}


def link_col(field: str, header: str, href: str, label: str = "{}", *, number: bool = False,
             class_name: str | None = None, href_field: str | None = None, **extra) -> dict:
    """A link inside the board (href with {} for the value, or for href_field's value)."""
    base = number_col(field, header) if number else text_col(field, header)
    base.pop("valueFormatter")
    return {**base, "cellRenderer": "QLink", "cellRendererParams": {
        "href": href, "label": label, "className": class_name, "hrefField": href_field},
        **extra}


def badge_col(field: str, raw_field: str, header: str, class_name: str, prefix: str,
              data_attribute: str, **extra) -> dict:
    """A translated label (field) shown as a badge whose class and data attribute carry the
    raw value (raw_field): state, severity, RAG status."""
    return {**text_col(field, header), "cellRenderer": "QBadge", "cellRendererParams": {
        "rawField": raw_field, "className": class_name, "prefix": prefix,
        "dataAttribute": data_attribute}, **extra}


def data_grid(name: str, columns: list[dict], rows: list[dict[str, Any]], *, file_name: str,
              lang: str | None = None, empty: str | None = None, row_id: str | None = None,
              row_classes: dict[str, str] | None = None,
              totals: list[dict] | None = None, page_size: int = PAGE_SIZE) -> html.Div:
    """A grid with its toolbar (columns, CSV export). `name` is the id of the block (the
    grid's own id is grid_id(name)); empty: the text when there are no rows; row_id: the
    row field that identifies a row (rendered as the row's `row-id`); row_classes: CSS
    class -> condition on `params.data`; totals: rows pinned below every page; page_size:
    rows per page (at most PAGE_SIZE)."""
    options: dict[str, Any] = {
        "theme": {"function": THEME},
        "pagination": True, "paginationPageSize": min(page_size, PAGE_SIZE),
        "paginationPageSizeSelector": False,
        # every row of a page drawn (a page is at most PAGE_SIZE rows), no inner scroll
        "domLayout": "autoHeight", "suppressColumnVirtualisation": True,
        "enableCellTextSelection": True, "ensureDomOrder": True, "animateRows": False,
        "suppressFieldDotNotation": True,
        "localeText": {**(ZH_LOCALE if (lang or language()) == "zh" else {}),
                       **({"noRowsToShow": empty} if empty else {})},
    }
    if totals:
        options["pinnedBottomRowData"] = totals
    chooser = html.Details([
        html.Summary(t("grid_columns", lang)),
        dcc.Checklist(id={"type": COLUMNS, "grid": name}, className="grid-column-list",
                      options=[{"label": c["headerName"], "value": c["colId"]} for c in columns],
                      value=[c["colId"] for c in columns]),
    ], className="grid-columns")
    extra: dict[str, Any] = {}
    if row_id:
        extra["getRowId"] = f"params.data.{row_id} + ''"
    if row_classes:
        extra["rowClassRules"] = row_classes
    grid = dag.AgGrid(
        id=grid_id(name), columnDefs=columns, rowData=rows, className="qloop-grid",
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 70},
        dashGridOptions=options, columnSize="autoSize",
        csvExportParams={"fileName": file_name,
                         "processCellCallback": {"function": "qloopCsvCell(params)"}},
        style={"width": "100%"}, **extra)
    toolbar = html.Div([
        chooser,
        html.Button(t("export_csv", lang), id={"type": EXPORT, "grid": name},
                    className="grid-export", n_clicks=0),
    ], className="grid-toolbar")
    return html.Div([toolbar, grid], id=name, className="grid-block")


def choose_columns(defs: list[dict], shown: list[str]) -> list[dict]:
    """The column definitions with only the chosen columns visible."""
    if not isinstance(defs, list) or not isinstance(shown, list) or not all(
            isinstance(c, dict) and isinstance(c.get("colId"), str) for c in defs):
        raise ValueError("columns: not what the page sends")
    return [{**c, "hide": c["colId"] not in shown} for c in defs]

