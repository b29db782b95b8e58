"""The two callbacks every grid of the board shares (components/grid.py), matched by the
grid's name: the column checklist shows and hides columns, the export button has the grid
write its filtered, sorted rows to CSV in the browser. Neither reads data."""

from __future__ import annotations

from dash import MATCH, Input, Output, State, callback

from .components.grid import COLUMNS, EXPORT, GRID, choose_columns


@callback(Output({"type": GRID, "grid": MATCH}, "columnDefs"),
          Input({"type": COLUMNS, "grid": MATCH}, "value"),
          State({"type": GRID, "grid": MATCH}, "columnDefs"), prevent_initial_call=True)
def _choose_columns(shown, defs):
    return choose_columns(defs, shown)


@callback(Output({"type": GRID, "grid": MATCH}, "exportDataAsCsv"),
          Input({"type": EXPORT, "grid": MATCH}, "n_clicks"), prevent_initial_call=True)
def _export_csv(clicks):
    return bool(clicks)
