"""Reading the board's grids (dashboards/components/grid.py) in the browser, as a user sees
them: the rows drawn on the current page, a cell's text, and every row the grid holds after
its filters and sort (through the grid's own API, for lists longer than one page)."""

from __future__ import annotations

TIMEOUT = 20_000

ROWS = "#{name} .ag-center-cols-container .ag-row"

_ALL_ROWS = """async (name) => {
    const api = await dash_ag_grid.getApiAsync({type: "grid", grid: name});
    const rows = [];
    api.forEachNodeAfterFilterAndSort(node => rows.push(node.data));
    return rows;
}"""


def wait_grid(page, name: str, timeout: int = TIMEOUT) -> None:
    """Until the grid has drawn its rows (or says it has none)."""
    page.wait_for_selector(f"#{name} .ag-row, #{name} .ag-overlay-no-rows-center",
                           timeout=timeout)


_HOLDS = """([name, n]) => {
    try {
        return dash_ag_grid.getApi({type: "grid", grid: name}).getDisplayedRowCount() === n;
    } catch (e) {
        return false;  // not drawn yet
    }
}"""


def wait_rows(page, name: str, count: int, timeout: int = TIMEOUT) -> None:
    """Until the grid holds `count` rows after its filters (a new rowData is applied by the
    grid after the callback's answer arrived)."""
    page.wait_for_function(_HOLDS, arg=[name, count], timeout=timeout)


def drawn_ids(page, name: str) -> list[str]:
    """The row ids drawn on the grid's current page, top to bottom."""
    return page.locator(ROWS.format(name=name)).evaluate_all(
        "rows => rows.sort((a, b) => Number(a.getAttribute('row-index')) - "
        "Number(b.getAttribute('row-index'))).map(r => r.getAttribute('row-id'))")


def drawn_count(page, name: str) -> int:
    return page.locator(ROWS.format(name=name)).count()


def all_rows(page, name: str) -> list[dict]:
    """Every row of the grid after its filters and sort, all pages."""
    return page.evaluate(_ALL_ROWS, name)


def cell(page, name: str, row_id: str, column: str):
    """The locator of one drawn cell."""
    return page.locator(f"{ROWS.format(name=name)}[row-id='{row_id}'] [col-id='{column}']")


def headers(page, name: str) -> list[str]:
    """The visible column headers, left to right."""
    return [text.strip() for text in page.locator(
        f"#{name} .ag-header-cell:not(.ag-hidden) .ag-header-cell-text").all_inner_texts()]
