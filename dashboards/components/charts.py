"""Figures of the KPI detail and ranking pages: trend with target lines, Laney p' control
chart, RAG bars, score bars, agent vs team. Data in, plotly figures out, as plain dicts
(`{"data": [...], "layout": {...}}`): dcc.Graph draws them as it draws a go.Figure, and
building a go.Figure (validation, deep copies) cost 8-10 ms a figure, two or three per
KPI page."""

from __future__ import annotations

import pandas as pd

from .common import RAG_COLOURS

LAYOUT = dict(margin=dict(l=50, r=20, t=30, b=40), plot_bgcolor="white", height=320,
              legend=dict(orientation="h", y=-0.2), hovermode="x unified")
GRID = dict(showgrid=True, gridcolor="#e4e7eb")


def _axis_format(unit: str) -> dict:
    return dict(tickformat=".0%") if unit == "ratio" else dict(tickformat=".1f")


def _hover(unit: str) -> str:
    return "%{y:.1%}" if unit == "ratio" else "%{y:.2f}"


def _figure(traces: list[dict], **layout) -> dict:
    return {"data": traces, "layout": {**LAYOUT, **layout}}


def _scatter(**trace) -> dict:
    return {"type": "scatter", **trace}


def _nullable(values) -> list:
    return [None if v is None or pd.isna(v) else v for v in values]


def trend_figure(points: pd.DataFrame, target: float, red_threshold: float, unit: str,
                 labels: dict[str, str], monthly: bool = False,
                 reasons: list[str] | None = None) -> dict:
    """Values over time (markers coloured by status) with the target and red lines; monthly
    points get one tick per month. A low-volume point (column low_volume) is a hollow
    marker, "n=3 < 30" in its hover and a legend entry saying what hollow means; reasons:
    per point, the text of why a red one has an issue or none (shown in its hover)."""
    traces: list[dict] = []
    if not points.empty:
        x = list(points["period_start"])
        low = ([bool(v) and not pd.isna(value) for v, value in
                zip(points["low_volume"], points["value"])]
               if "low_volume" in points else [False] * len(points))
        min_volume = (points["min_volume"].dropna().iloc[0]
                      if "min_volume" in points and points["min_volume"].notna().any() else None)
        notes = []
        for i, (is_low, d) in enumerate(zip(low, points["denominator"])):
            parts = [labels["low_volume_hover"].format(n=_num(d), min_volume=_num(min_volume))
                     ] if is_low else []
            if reasons and reasons[i]:
                parts.append(reasons[i])
            notes.append("<br>" + "<br>".join(parts) if parts else "")
        traces.append(_scatter(
            x=x, y=_nullable(points["value"]), mode="lines+markers", name=labels["value"],
            line=dict(color="#3b6ea5", width=2),
            marker=dict(size=[9 if is_low else 7 for is_low in low],
                        color=[RAG_COLOURS.get(s, "#9e9e9e") for s in points["status"]],
                        symbol=["circle-open" if is_low else "circle" for is_low in low],
                        line=dict(width=[2 if is_low else 0 for is_low in low])),
            customdata=[[_num(n), _num(d), note] for n, d, note in zip(
                points["numerator"], points["denominator"], notes)],
            hovertemplate=f"{_hover(unit)} (%{{customdata[0]}}/%{{customdata[1]}})"
                          "%{customdata[2]}<extra></extra>"))
        for value, name, colour, dash in ((target, labels["target"], RAG_COLOURS["green"], "dash"),
                                          (red_threshold, labels["red_threshold"],
                                           RAG_COLOURS["red"], "dot")):
            traces.append(_scatter(x=[x[0], x[-1]], y=[float(value)] * 2, mode="lines",
                                   name=name, line=dict(color=colour, dash=dash, width=1.5),
                                   hoverinfo="skip"))
        # the region's own target and red threshold (a city override in force), as steps,
        # only where they differ from the catalog's somewhere in the range
        if "scope_target" in points and any(
                float(own) != float(target) for own in points["scope_target"].dropna()):
            for column, name, colour in (("scope_target", labels["scope_target"], RAG_COLOURS["green"]),
                                         ("scope_red_threshold", labels["scope_red_threshold"],
                                          RAG_COLOURS["red"])):
                traces.append(_scatter(
                    x=x, y=[None if pd.isna(v) else float(v) for v in points[column]],
                    mode="lines", name=name, line=dict(color=colour, width=2.5, shape="hv"),
                    opacity=0.6, hoverinfo="skip"))
        if any(low):
            # a legend entry only: what a hollow marker means
            traces.append(_scatter(
                x=[None], y=[None], mode="markers",
                name=labels["low_volume_legend"].format(min_volume=_num(min_volume)),
                marker=dict(size=9, color="#6b7280", symbol="circle-open", line=dict(width=2)),
                hoverinfo="skip"))
    xaxis = {**GRID, **(dict(tickformat="%Y-%m", dtick="M1") if monthly else {})}
    return _figure(traces, yaxis={**_axis_format(unit), **GRID}, xaxis=xaxis)


def _num(value):
    """A count for hover text: an int, or None."""
    return None if value is None or pd.isna(value) else int(value)


def _hline(y: float, colour: str, text: str) -> tuple[dict, dict]:
    """A horizontal line across the plot as a plain layout shape and annotation."""
    return (dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=y, y1=y,
                 line=dict(color=colour, dash="dash", width=1)),
            dict(xref="paper", x=1, yref="y", y=y, text=text, showarrow=False,
                 xanchor="right", yanchor="bottom", font=dict(size=11, color=colour)))


def control_chart_figure(chart: pd.DataFrame, labels: dict[str, str]) -> dict:
    """Laney p' chart: p per day, centre line, per-day UCL/LCL (steps), the baseline window
    shaded, points beyond the limit on the bad side in red."""
    traces: list[dict] = []
    shapes: list[dict] = []
    annotations: list[dict] = []
    if not chart.empty:
        x = list(chart["day"])
        baseline = chart[chart["in_baseline"]]
        if not baseline.empty:
            x0, x1 = baseline["day"].min(), baseline["day"].max()
            shapes.append(dict(type="rect", xref="x", x0=x0, x1=x1, yref="paper", y0=0, y1=1,
                               fillcolor="#dbe7f3", opacity=0.5, line=dict(width=0),
                               layer="below"))
            annotations.append(dict(xref="x", x=x0, yref="paper", y=1, text=labels["baseline"],
                                    showarrow=False, xanchor="left", yanchor="bottom",
                                    font=dict(size=11, color="#52606d")))
        limit = dict(color="#7b8794", dash="dash", shape="hvh", width=1)
        traces += [
            _scatter(x=x, y=_nullable(chart["ucl"]), mode="lines", name="UCL", line=limit),
            _scatter(x=x, y=_nullable(chart["lcl"]), mode="lines", name="LCL", line=limit),
            _scatter(x=x, y=_nullable(chart["centre"]), mode="lines", name=labels["centre"],
                     line=dict(color="#1a9850", width=1.5)),
            _scatter(x=x, y=_nullable(chart["p"]), mode="lines+markers", name="p",
                     line=dict(color="#3b6ea5", width=1.5), marker=dict(size=6, color="#3b6ea5"),
                     customdata=[[_num(n), _num(d)] for n, d in zip(chart["numerator"],
                                                                    chart["denominator"])],
                     hovertemplate="%{y:.2%} (%{customdata[0]}/%{customdata[1]})<extra></extra>"),
        ]
        out = chart[chart["beyond_limit_bad_side"]]
        traces.append(_scatter(
            x=list(out["day"]), y=_nullable(out["p"]), mode="markers", name=labels["out_of_control"],
            marker=dict(size=11, color=RAG_COLOURS["red"], symbol="circle-open",
                        line=dict(width=3)), hoverinfo="skip"))
    return _figure(traces, shapes=shapes, annotations=annotations,
                   yaxis=dict(tickformat=".0%", **GRID), xaxis=GRID)


def rag_bar_figure(names: list[str], values: list, statuses: list[str], unit: str,
                   target: float, labels: dict[str, str]) -> dict:
    """Bars coloured by RAG status with the target line."""
    shape, note = _hline(float(target), "#1f2933", labels["target"])
    return _figure([{
        "type": "bar", "x": names, "y": _nullable(values),
        "marker": {"color": [RAG_COLOURS.get(s, "#9e9e9e") for s in statuses]},
        "hovertemplate": f"%{{x}}: {_hover(unit)}<extra></extra>", "name": labels["value"]}],
        hovermode="closest", showlegend=False, shapes=[shape], annotations=[note],
        yaxis={**_axis_format(unit), **GRID})


def score_bar_figure(names: list[str], scores: list, ranks: list) -> dict:
    """Horizontal bars of composite scores, best on top."""
    return _figure([{
        "type": "bar", "x": _nullable(scores), "y": names, "orientation": "h",
        "text": [f"#{int(r)}" if r is not None and not pd.isna(r) else "" for r in ranks],
        "textposition": "outside", "marker": {"color": "#3b6ea5"},
        "hovertemplate": "%{y}: %{x:.2f}<extra></extra>"}],
        hovermode="closest", showlegend=False, height=max(220, 28 * len(names) + 60),
        margin=dict(l=160, r=40, t=10, b=30), yaxis=dict(autorange="reversed"),
        xaxis=dict(range=[0, 105], **GRID))


def agent_vs_team_figure(days: pd.DataFrame, scale: int, target: float, unit: str,
                         labels: dict[str, str]) -> dict:
    """An agent's daily values against their team's and the target."""
    traces: list[dict] = []
    if not days.empty:
        x = list(days["activity_date"])
        for who, colour in (("agent", "#d9822b"), ("team", "#3b6ea5")):
            num, den = days[f"{who}_numerator"], days[f"{who}_denominator"]
            y = [None if pd.isna(d) or not d else float(n) * scale / float(d)
                 for n, d in zip(num, den)]
            traces.append(_scatter(
                x=x, y=y, mode="lines+markers", name=labels[who], connectgaps=False,
                line=dict(color=colour), customdata=[0 if pd.isna(d) else int(d) for d in den],
                hovertemplate=f"{_hover(unit)} (n=%{{customdata}})<extra>{labels[who]}</extra>"))
        traces.append(_scatter(x=[x[0], x[-1]], y=[float(target)] * 2, mode="lines",
                               name=labels["target"], hoverinfo="skip",
                               line=dict(color="#1a9850", dash="dash", width=1.5)))
    return _figure(traces, yaxis={**_axis_format(unit), **GRID})
