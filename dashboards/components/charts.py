"""Figures of the KPI detail and ranking pages: trend with target lines, Laney p' control
chart, RAG bars, score bars, agent vs team. Data in, plotly figures out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .common import RAG_COLOURS

LAYOUT = dict(margin=dict(l=50, r=20, t=30, b=40), plot_bgcolor="white", height=320,
              legend=dict(orientation="h", y=-0.2), hovermode="x unified")
GRID = dict(showgrid=True, gridcolor="#e4e7eb")


def _axis_format(unit: str) -> dict:
    return dict(tickformat=".0%") if unit == "ratio" else dict(tickformat=".1f")


def _hover(unit: str) -> str:
    return "%{y:.1%}" if unit == "ratio" else "%{y:.2f}"


def trend_figure(points: pd.DataFrame, target: float, red_threshold: float, unit: str,
                 labels: dict[str, str], monthly: bool = False) -> go.Figure:
    """Values over time (markers coloured by status) with the target and red lines; monthly
    points get one tick per month."""
    figure = go.Figure()
    if not points.empty:
        x = list(points["period_start"])
        figure.add_trace(go.Scatter(
            x=x, y=list(points["value"]), mode="lines+markers", name=labels["value"],
            line=dict(color="#3b6ea5", width=2),
            marker=dict(size=7, color=[RAG_COLOURS.get(s, "#9e9e9e") for s in points["status"]]),
            customdata=list(zip(points["numerator"], points["denominator"])),
            hovertemplate=f"{_hover(unit)} (%{{customdata[0]}}/%{{customdata[1]}})<extra></extra>"))
        for value, name, colour, dash in ((target, labels["target"], RAG_COLOURS["green"], "dash"),
                                          (red_threshold, labels["red_threshold"],
                                           RAG_COLOURS["red"], "dot")):
            figure.add_trace(go.Scatter(x=[x[0], x[-1]], y=[float(value)] * 2, mode="lines",
                                        name=name, line=dict(color=colour, dash=dash, width=1.5),
                                        hoverinfo="skip"))
        # the region's own target and red threshold (a city override in force), as steps,
        # only where they differ from the catalog's somewhere in the range
        if "scope_target" in points and any(
                float(own) != float(target) for own in points["scope_target"].dropna()):
            for column, name, colour in (("scope_target", labels["scope_target"], RAG_COLOURS["green"]),
                                         ("scope_red_threshold", labels["scope_red_threshold"],
                                          RAG_COLOURS["red"])):
                figure.add_trace(go.Scatter(
                    x=x, y=[None if pd.isna(v) else float(v) for v in points[column]],
                    mode="lines", name=name, line=dict(color=colour, width=2.5, shape="hv"),
                    opacity=0.6, hoverinfo="skip"))
    xaxis = {**GRID, **(dict(tickformat="%Y-%m", dtick="M1") if monthly else {})}
    figure.update_layout(**LAYOUT, yaxis={**_axis_format(unit), **GRID}, xaxis=xaxis)
    return figure


def _hline(y: float, colour: str, text: str) -> tuple[dict, dict]:
    """A horizontal line across the plot as a plain layout shape and annotation (cheaper
    than add_hline)."""
    return (dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=y, y1=y,
                 line=dict(color=colour, dash="dash", width=1)),
            dict(xref="paper", x=1, yref="y", y=y, text=text, showarrow=False,
                 xanchor="right", yanchor="bottom", font=dict(size=11, color=colour)))


def control_chart_figure(chart: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    """Laney p' chart: p per day, centre line, per-day UCL/LCL (steps), the baseline window
    shaded, points beyond the limit on the bad side in red."""
    figure = go.Figure()
    shapes: list[dict] = []
    annotations: list[dict] = []
    if not chart.empty:
        x = list(chart["day"])
        baseline = chart[chart["in_baseline"]]
        if not baseline.empty:
            x0, x1 = baseline["day"].min(), baseline["day"].max()
            shapes.append(dict(type="rect", xref="x", x0=x0, x1=x1, yref="paper", y0=0, y1=1,
                               fillcolor="#dbe7f3", opacity=0.5, line_width=0, layer="below"))
            annotations.append(dict(xref="x", x=x0, yref="paper", y=1, text=labels["baseline"],
                                    showarrow=False, xanchor="left", yanchor="bottom",
                                    font=dict(size=11, color="#52606d")))
        figure.add_trace(go.Scatter(x=x, y=list(chart["ucl"]), mode="lines", name="UCL",
                                    line=dict(color="#7b8794", dash="dash", shape="hvh", width=1)))
        figure.add_trace(go.Scatter(x=x, y=list(chart["lcl"]), mode="lines", name="LCL",
                                    line=dict(color="#7b8794", dash="dash", shape="hvh", width=1)))
        figure.add_trace(go.Scatter(x=x, y=list(chart["centre"]), mode="lines",
                                    name=labels["centre"], line=dict(color="#1a9850", width=1.5)))
        figure.add_trace(go.Scatter(
            x=x, y=list(chart["p"]), mode="lines+markers", name="p",
            line=dict(color="#3b6ea5", width=1.5), marker=dict(size=6, color="#3b6ea5"),
            customdata=list(zip(chart["numerator"], chart["denominator"])),
            hovertemplate="%{y:.2%} (%{customdata[0]}/%{customdata[1]})<extra></extra>"))
        out = chart[chart["beyond_limit_bad_side"]]
        figure.add_trace(go.Scatter(
            x=list(out["day"]), y=list(out["p"]), mode="markers", name=labels["out_of_control"],
            marker=dict(size=11, color=RAG_COLOURS["red"], symbol="circle-open",
                        line=dict(width=3)), hoverinfo="skip"))
    figure.update_layout(**LAYOUT, shapes=shapes, annotations=annotations,
                         yaxis=dict(tickformat=".0%", **GRID), xaxis=GRID)
    return figure


def rag_bar_figure(names: list[str], values: list, statuses: list[str], unit: str,
                   target: float, labels: dict[str, str]) -> go.Figure:
    """Bars coloured by RAG status with the target line."""
    shape, note = _hline(float(target), "#1f2933", labels["target"])
    return go.Figure(go.Bar(
        x=names, y=[None if v is None or pd.isna(v) else v for v in values],
        marker_color=[RAG_COLOURS.get(s, "#9e9e9e") for s in statuses],
        hovertemplate=f"%{{x}}: {_hover(unit)}<extra></extra>", name=labels["value"]),
        layout={**LAYOUT, "hovermode": "closest", "showlegend": False, "shapes": [shape],
                "annotations": [note], "yaxis": {**_axis_format(unit), **GRID}})


def score_bar_figure(names: list[str], scores: list, ranks: list) -> go.Figure:
    """Horizontal bars of composite scores, best on top."""
    figure = go.Figure(go.Bar(
        x=[None if s is None or pd.isna(s) else s for s in scores], y=names, orientation="h",
        text=[f"#{int(r)}" if r is not None and not pd.isna(r) else "" for r in ranks],
        textposition="outside", marker_color="#3b6ea5",
        hovertemplate="%{y}: %{x:.2f}<extra></extra>"))
    figure.update_layout(**{**LAYOUT, "hovermode": "closest", "showlegend": False,
                            "height": max(220, 28 * len(names) + 60),
                            "margin": dict(l=160, r=40, t=10, b=30)},
                         yaxis=dict(autorange="reversed"), xaxis=dict(range=[0, 105], **GRID))
    return figure


def agent_vs_team_figure(days: pd.DataFrame, scale: int, target: float, unit: str,
                         labels: dict[str, str]) -> go.Figure:
    """An agent's daily values against their team's and the target."""
    figure = go.Figure()
    if not days.empty:
        x = list(days["activity_date"])
        for who, colour in (("agent", "#d9822b"), ("team", "#3b6ea5")):
            num, den = days[f"{who}_numerator"], days[f"{who}_denominator"]
            y = [None if pd.isna(d) or not d else float(n) * scale / float(d)
                 for n, d in zip(num, den)]
            figure.add_trace(go.Scatter(
                x=x, y=y, mode="lines+markers", name=labels[who], connectgaps=False,
                line=dict(color=colour), customdata=[0 if pd.isna(d) else int(d) for d in den],
                hovertemplate=f"{_hover(unit)} (n=%{{customdata}})<extra>{labels[who]}</extra>"))
        figure.add_trace(go.Scatter(x=[x[0], x[-1]], y=[float(target)] * 2, mode="lines",
                                    name=labels["target"], hoverinfo="skip",
                                    line=dict(color="#1a9850", dash="dash", width=1.5)))
    figure.update_layout(**LAYOUT, yaxis={**_axis_format(unit), **GRID})
    return figure
