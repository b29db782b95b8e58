"""The city x KPI status heatmap."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .common import RAG_COLOURS

STATUS_LEVEL = {"no_data": 0, "green": 1, "amber": 2, "red": 3}


def status_heatmap_figure(cells: pd.DataFrame, region_order: list[str], kpi_order: list[str],
                          status_labels: dict[str, str]) -> go.Figure:
    grid = {(r.region_code, r.kpi_code): r.status for r in cells.itertuples(index=False)}
    z = [[STATUS_LEVEL.get(grid.get((region, kpi), "no_data"), 0) for kpi in kpi_order]
         for region in region_order]
    text = [[status_labels.get(grid.get((region, kpi), "no_data"), "") for kpi in kpi_order]
            for region in region_order]
    colours = [RAG_COLOURS[s] for s in ("no_data", "green", "amber", "red")]
    scale = [[i / 4 + edge, colours[i]] for i in range(4) for edge in (0, 0.25)]
    scale = [[min(1.0, round(p, 4)), c] for p, c in scale]
    figure = go.Figure(go.Heatmap(
        z=z, x=kpi_order, y=region_order, text=text, hovertemplate="%{y} %{x}: %{text}<extra></extra>",
        zmin=-0.5, zmax=3.5, colorscale=scale, showscale=False, xgap=2, ygap=2))
    figure.update_layout(margin=dict(l=40, r=10, t=10, b=30), height=420,
                         yaxis=dict(autorange="reversed"), plot_bgcolor="white")
    return figure
