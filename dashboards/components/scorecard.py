"""The overview's scorecard table and its inline SVG sparklines."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
from dash import dcc, html

from .common import format_change, format_value, is_missing, rag_badge
from .tables import target_cell


def sparkline_svg(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """A polyline of the non-missing values as an SVG data URI (light: no plotly figure)."""
    points = [(i, v) for i, v in enumerate(values) if not is_missing(v)]
    if len(points) < 2:
        return "data:image/svg+xml," + quote(f'<svg xmlns="http://www.w3.org/2000/svg" '
                                             f'width="{width}" height="{height}"/>')
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = (high - low) or 1.0
    step = (width - 4) / max(1, len(values) - 1)
    coords = " ".join(f"{2 + i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
                      for i, v in points)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
           f'<polyline fill="none" stroke="#3b6ea5" stroke-width="1.5" points="{coords}"/></svg>')
    return "data:image/svg+xml," + quote(svg)


def scorecard_table(card: pd.DataFrame, sparks: dict[str, list], open_issues: dict[str, int],
                    lang: str, labels: dict[str, str], query: str = "") -> html.Table:
    header = html.Thead(html.Tr([html.Th(labels[k]) for k in
                                 ("kpi", "value", "target", "status", "change", "trend_30d",
                                  "open_issues")]))
    body = []
    for row in card.itertuples(index=False):
        name = row.name_zh if lang == "zh" else row.name_en
        body.append(html.Tr([
            html.Td(dcc.Link(f"{row.kpi_code} {name}", href=f"/kpi/{row.kpi_code}{query}")),
            html.Td(format_value(row.value, row.unit), className="num"),
            target_cell(row.scope_target, row.target, row.unit, labels),
            html.Td(rag_badge(row.status, labels[row.status])),
            html.Td(format_change(row.value, row.previous_value, row.unit), className="num"),
            html.Td(html.Img(src=sparkline_svg(sparks.get(row.kpi_code, [])),
                             alt=f"{row.kpi_code} trend")),
            html.Td(str(open_issues.get(row.kpi_code, 0)), className="num"),
        ], id={"type": "scorecard-row", "kpi": row.kpi_code}, className=f"row-{row.status}"))
    return html.Table([header, html.Tbody(body)], className="scorecard", id="scorecard")
