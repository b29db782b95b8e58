"""Tables of the KPI detail, ranking and health pages, and the small pure rules behind
them (RAG status of a drill-down row, leaderboards with a minimum sample)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Callable, Iterable, Sequence

import pandas as pd
from dash import dcc, html

from .common import format_value, rag_badge
from .detection import low_volume_label, low_volume_mark, reason_mark
from .grid import badge_col, data_grid, number_col, text_col


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA (a scalar)."""
    if value is None or isinstance(value, str):
        return False if isinstance(value, str) else True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def rag_status(numerator, denominator, target, red_threshold, direction: str,
               scale: int = 1) -> str:
    """The catalog's RAG rule, compared exactly: numerator x scale against
    threshold x denominator (kpi-catalog.md, Status)."""
    if is_missing(denominator) or int(denominator) == 0 or is_missing(numerator):
        return "no_data"
    left = Decimal(int(numerator)) * scale
    den = Decimal(int(denominator))
    goal, red = Decimal(str(target)) * den, Decimal(str(red_threshold)) * den
    if direction == "up":
        return "green" if left >= goal else ("red" if left < red else "amber")
    return "green" if left <= goal else ("red" if left > red else "amber")


def with_values(members: pd.DataFrame, kpi: dict,
                region_target: tuple | None = None) -> pd.DataFrame:
    """Adds value (numerator x scale / denominator, None without denominator), own_target /
    own_red_threshold and status against them. A member's own target is its scope's (the
    columns target / red_threshold, where the drill-down gives them), else the region's
    (region_target: the city's target in force), else the catalog's. low_volume: a value
    whose denominator is below the KPI's min_volume (the number fct_kpi_values and
    fct_kpi_drilldown mark low volume by, here on the member's sum over the period)."""
    out = members.copy()
    scale = int(kpi["scale"])
    fallback = region_target if region_target and not is_missing(region_target[0]) else (
        kpi["target"], kpi["red_threshold"])
    own = [(t, r) if not is_missing(t) and not is_missing(r) else fallback
           for t, r in zip(out.get("target", [None] * len(out)),
                           out.get("red_threshold", [None] * len(out)))]
    out["own_target"] = [t for t, _ in own]
    out["own_red_threshold"] = [r for _, r in own]
    out["value"] = [float(n) * scale / float(d) if not is_missing(d) and d else None
                    for n, d in zip(out["numerator"], out["denominator"])]
    out["status"] = [rag_status(n, d, t, r, kpi["direction"], scale)
                     for n, d, (t, r) in zip(out["numerator"], out["denominator"], own)]
    min_volume = kpi.get("min_volume")
    out["min_volume"] = None if is_missing(min_volume) else int(min_volume)
    out["low_volume"] = [not is_missing(min_volume) and not is_missing(v)
                         and int(d) < int(min_volume)
                         for v, d in zip(out["value"], out["denominator"])]
    return out


def target_cell(target, catalog_target, unit: str, labels: dict[str, str],
                field: str = "target") -> html.Td:
    """A member's or city's own target; marked (and the catalog's named) where it differs."""
    if is_missing(target):
        return html.Td("—", className="num", **{"data-field": field})
    text = format_value(float(target), unit)
    if Decimal(str(target)) == Decimal(str(catalog_target)):
        return html.Td(text, className="num", **{"data-field": field})
    return html.Td(html.Span(text, title=f"{labels['catalog_target']} "
                                         f"{format_value(float(catalog_target), unit)}"),
                   className="num target-override", **{"data-field": field,
                                                       "data-overridden": "true"})


def min_denominator(denominators: Iterable, floor: int = 2) -> int:
    """Smallest sample a member needs to enter a leaderboard: the median denominator of the
    members with data (so half of them qualify), at least `floor`."""
    values = sorted(int(d) for d in denominators if not is_missing(d) and int(d) > 0)
    if not values:
        return floor
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return max(floor, math.ceil(median))


def leaderboards(members: list[dict], direction: str, min_n: int, size: int = 10
                 ) -> tuple[list[dict], list[dict]]:
    """(best, worst) `size` members (records of with_values) by value among those with
    denominator >= min_n and a key; ties broken by the larger sample, then the key. Plain
    sorts of a few hundred records: a DataFrame sort costs more than the whole list here."""
    eligible = [m for m in members if not is_missing(m["member"]) and not is_missing(m["value"])
                and not is_missing(m["denominator"]) and m["denominator"] >= min_n]
    sign = -1 if direction == "up" else 1
    best = sorted(eligible, key=lambda m: (sign * m["value"], -m["denominator"], str(m["member"])))
    worst = sorted(eligible, key=lambda m: (-sign * m["value"], -m["denominator"],
                                            str(m["member"])))
    return best[:size], worst[:size]


def simple_table(columns: Sequence[tuple[str, str]], records: Iterable[dict], table_id: str,
                 numeric: Iterable[str] = (), render: dict[str, Callable[[Any], Any]] | None
                 = None, row_id: Callable[[dict], Any] | None = None) -> html.Table:
    """columns: (key, header label); render: key -> cell content builder."""
    numeric, render = set(numeric), render or {}
    body = []
    for record in records:
        cells = []
        for key, _ in columns:
            value = record.get(key)
            content = render[key](value) if key in render else (
                "—" if is_missing(value) else str(value))
            cells.append(html.Td(content, className="num" if key in numeric else None))
        attrs = {"id": row_id(record)} if row_id else {}
        body.append(html.Tr(cells, **attrs))
    return html.Table([html.Thead(html.Tr([html.Th(label) for _, label in columns])),
                       html.Tbody(body)], className="data", id=table_id)


def _status_cell(labels: dict[str, str]):
    return lambda status: rag_badge(status or "no_data", labels[status or "no_data"])


def _int(value) -> str:
    return "—" if is_missing(value) else f"{int(value):,}"


def city_breakdown_table(cities: pd.DataFrame, unit: str, lang: str, labels: dict[str, str],
                         day_label: str, month_label: str, show_day: bool = True,
                         catalog_target=None, judgements: dict | None = None) -> html.Table:
    """Every city's value, numerator, denominator and status on the day and in the month
    (month only for month KPIs); with catalog_target, each period also shows the city's own
    target (marked where it differs from the catalog's) and the status follows it. A
    low-volume value (columns <period>_low_volume, <period>_min_volume) is marked with its
    n; a red one says, beside its status, which issue holds it or why none does
    (judgements: (city, period prefix) -> detection.Judgement)."""
    judgements = judgements or {}
    prefixes = ("day", "month") if show_day else ("month",)
    titles = {"day": day_label, "month": month_label}
    keys = ("value", "numerator", "denominator", "status")
    if catalog_target is not None:
        keys = ("value", "numerator", "denominator", "scope_target", "status")
    header = html.Thead([
        html.Tr([html.Th(labels["city"], rowSpan=2)]
                + [html.Th(titles[p], colSpan=len(keys)) for p in prefixes]),
        html.Tr([html.Th(labels[k]) for k in keys] * len(prefixes)),
    ])
    body = []
    for row in cities.itertuples(index=False):
        name = row.city_name_zh if lang == "zh" else row.city_name_en
        cells = [html.Td(f"{row.city_code} {name}")]
        for prefix in prefixes:
            status = getattr(row, f"{prefix}_status")
            mark = low_volume_mark(bool(getattr(row, f"{prefix}_low_volume", False))
                                   and not is_missing(getattr(row, f"{prefix}_value")),
                                   getattr(row, f"{prefix}_denominator"),
                                   getattr(row, f"{prefix}_min_volume", None), labels)
            reason = reason_mark(judgements.get((row.city_code, prefix)), labels)
            cells += [
                html.Td([html.Span(format_value(getattr(row, f"{prefix}_value"), unit),
                                   className="value"), *([" ", mark] if mark else [])],
                        className="num" + (" low-volume-value" if mark else ""),
                        **{"data-field": f"{prefix}-value"}),
                html.Td(_int(getattr(row, f"{prefix}_numerator")), className="num",
                        **{"data-field": f"{prefix}-numerator"}),
                html.Td(_int(getattr(row, f"{prefix}_denominator")), className="num",
                        **{"data-field": f"{prefix}-denominator"}),
                *([target_cell(getattr(row, f"{prefix}_target"), catalog_target, unit, labels,
                               f"{prefix}-target")] if catalog_target is not None else []),
                html.Td([rag_badge(status, labels[status]), *([" ", reason] if reason else [])],
                        **{"data-field": f"{prefix}-status"}),
            ]
        body.append(html.Tr(cells, id={"type": "kpi-city-row", "city": row.city_code},
                            className=f"row-{getattr(row, prefixes[0] + '_status')}"))
    return html.Table([header, html.Tbody(body)], className="data", id="kpi-city-table")


NOT_ATTRIBUTED_ID = "(none)"  # the grid row id of the members without a key


def member_rows(members: pd.DataFrame, unit: str, labels: dict[str, str],
                catalog_target=None) -> list[dict]:
    """A drill-down level as grid rows: one per member (a missing key shown as 'not
    attributed'), value and own target as numbers, the status label beside its code; with
    catalog_target, each member's own target (with_values' own_target) is marked where it
    differs from the catalog's."""
    show_target = catalog_target is not None and "own_target" in members
    found = []
    for record in members.to_dict("records"):
        key, name = record["member"], record.get("member_name")
        row = {"member_key": NOT_ATTRIBUTED_ID if is_missing(key) else str(key),
               "member": (labels["not_attributed"] if is_missing(key) else
                          f"{key}" if is_missing(name) or name == key else f"{key} {name}"),
               "value": None if is_missing(record["value"]) else float(record["value"]),
               "numerator": None if is_missing(record["numerator"]) else int(record["numerator"]),
               "denominator": (None if is_missing(record["denominator"])
                               else int(record["denominator"])),
               "status": labels[record["status"]], "status_code": record["status"]}
        if record.get("low_volume"):
            row["low_volume"] = True
            row["volume_note"] = low_volume_label(row["denominator"], labels)
            row["volume_title"] = labels["low_volume_title"].format(
                n=row["denominator"], min_volume=record["min_volume"])
        if show_target:
            own = record["own_target"]
            row["own_target"] = None if is_missing(own) else float(own)
            row["target_overridden"] = (not is_missing(own) and
                                        Decimal(str(own)) != Decimal(str(catalog_target)))
            if row["target_overridden"]:
                row["target_note"] = (f"{labels['catalog_target']} "
                                      f"{format_value(float(catalog_target), unit)}")
        found.append(row)
    return found


# A KPI page draws several member grids at once (one per drill-down level, the hotline's
# views): pages of 25 rows kept the field and hotline KPI pages near 1 s in the browser,
# where pages of 100 took 1.5 s and more (docs/performance.md, "The board's benchmark").
MEMBER_PAGE_SIZE = 25


def member_grid(members: pd.DataFrame, unit: str, labels: dict[str, str], table_id: str,
                member_label: str, total: bool = True, catalog_target=None) -> html.Div:
    """A drill-down level in a grid (sorting, filters, pages, CSV), the total pinned below."""
    rows = member_rows(members, unit, labels, catalog_target)
    columns = [text_col("member", member_label),
               # a low-volume value carries its mark in the cell (its sort, filter and CSV
               # stay the number's)
               number_col("value", labels["value"], unit, cellRenderer="QValueNote",
                          cellRendererParams={"noteField": "volume_note",
                                              "titleField": "volume_title"},
                          cellClassRules={"low-volume-value": "params.data.low_volume"}),
               number_col("numerator", labels["numerator"]),
               number_col("denominator", labels["denominator"])]
    if catalog_target is not None and "own_target" in members:
        columns.append(number_col("own_target", labels["scope_target"], unit,
                                  tooltipField="target_note",
                                  cellClassRules={"target-override":
                                                  "params.data.target_overridden"}))
    columns.append(badge_col("status", "status_code", labels["status"], "rag", "rag-",
                             "data-status"))
    totals = None
    if total and rows:
        totals = [{"member_key": "total", "member": labels["total"],
                   "numerator": int(members["numerator"].sum()),
                   "denominator": int(members["denominator"].sum())}]
    return data_grid(table_id, columns, rows, file_name=f"{table_id}.csv", row_id="member_key",
                     totals=totals, page_size=MEMBER_PAGE_SIZE)


def leaderboard_table(members: list[dict], unit: str, labels: dict[str, str],
                      table_id: str) -> html.Table:
    body = []
    for i, record in enumerate(members, start=1):
        name = record.get("member_name")
        key = record["member"]
        body.append(html.Tr([
            html.Td(str(i), className="num"),
            html.Td(str(key) if is_missing(name) or name == key else f"{key} {name}"),
            html.Td([format_value(record["value"], unit),
                     *[part for mark in [low_volume_mark(
                         bool(record.get("low_volume")), record["denominator"],
                         record.get("min_volume"), labels)] if mark for part in (" ", mark)]],
                    className="num"),
            html.Td(_int(record["denominator"]), className="num"),
            html.Td(rag_badge(record["status"], labels[record["status"]])),
        ]))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in (
        "#", labels["member"], labels["value"], "n", labels["status"])])), html.Tbody(body)],
        className="data leaderboard", id=table_id)


def _satisfaction_cells(r: dict, pct: Callable, labels: dict[str, str]) -> list[html.Td]:
    """Evaluated closed issues (and pending ones), pooled K05 rates before and after, and the
    change in percentage points, signed and coloured (up is better)."""
    evaluated = _int(r["satisfaction_issues"])
    pending = int(r["satisfaction_pending_issues"] or 0)
    issues = evaluated + (f" (+{pending} {labels['satisfaction_pending']})" if pending else "")
    change = r["satisfaction_change"]
    if is_missing(change):
        change_text, direction = "—", "none"
    else:
        change_text = f"{float(change) * 100:+.1f} pp"
        direction = "up" if change > 0 else "down" if change < 0 else "flat"
    return [
        html.Td(issues, className="num", **{"data-field": "satisfaction_issues"}),
        html.Td(pct(r["satisfaction_before"]), className="num",
                **{"data-field": "satisfaction_before"}),
        html.Td(pct(r["satisfaction_after"]), className="num",
                **{"data-field": "satisfaction_after"}),
        html.Td(change_text, className=f"num change-{direction}",
                **{"data-field": "satisfaction_change"}),
    ]


def ranking_table(scores: pd.DataFrame, lang: str, labels: dict[str, str], table_id: str,
                  link: Callable[[str], str | None] | None = None) -> html.Table:
    def pct(value):
        return "—" if is_missing(value) else f"{float(value) * 100:.1f}%"

    body = []
    for r in scores.to_dict("records"):
        name = r["name_zh"] if lang == "zh" else r["name_en"]
        label = f"{r['scope_code']} {'' if is_missing(name) else name}".strip()
        href = link(r["scope_code"]) if link else None
        body.append(html.Tr([
            html.Td("—" if is_missing(r["rank"]) else str(int(r["rank"])), className="num",
                    **{"data-field": "rank"}),
            html.Td(dcc.Link(label, href=href) if href else label),
            html.Td("—" if is_missing(r["score"]) else f"{float(r['score']):.2f}",
                    className="num", **{"data-field": "score"}),
            html.Td(pct(r["attainment"]), className="num"),
            html.Td(f"{_int(r['green_values'])} / {_int(r['kpi_values'])}", className="num"),
            html.Td(pct(r["on_time_share"]), className="num"),
            html.Td(f"{_int(r['on_time_issues'])} / {_int(r['issues'])}", className="num"),
            html.Td(_int(r["overdue_issues"]), className="num"),
            html.Td(pct(r["reopen_rate"]), className="num"),
            # beside the score, not in it: satisfaction around the month's closed issues
            *_satisfaction_cells(r, pct, labels),
        ], id={"type": f"{table_id}-row", "scope": r["scope_code"]}))
    head = ("rank", "scope", "score", "attainment", "green_of_values", "on_time_share",
            "on_time_of_issues", "overdue", "reopen_rate", "satisfaction_issues",
            "satisfaction_before", "satisfaction_after", "satisfaction_change")
    return html.Table([html.Thead(html.Tr([html.Th(labels[k]) for k in head])),
                       html.Tbody(body)], className="data", id=table_id)
