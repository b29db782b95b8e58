"""Small shared builders: RAG colours, value formatting, badges, empty states."""

from __future__ import annotations

import math
from decimal import Decimal

from dash import html

RAG_COLOURS = {"green": "#1a9850", "amber": "#f0a500", "red": "#d73027", "no_data": "#9e9e9e"}


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value, unit: str) -> str:
    """Ratios as percentages with one decimal, per-10k rates with two decimals."""
    if is_missing(value):
        return "—"
    value = float(value)
    return f"{value * 100:.1f}%" if unit == "ratio" else f"{value:.2f}"


def format_target(target: Decimal | float, unit: str) -> str:
    return format_value(float(target), unit)


def format_change(value, previous, unit: str) -> str:
    if is_missing(value) or is_missing(previous):
        return "—"
    delta = float(value) - float(previous)
    return f"{delta * 100:+.1f} pp" if unit == "ratio" else f"{delta:+.2f}"


def rag_badge(status: str, label: str) -> html.Span:
    return html.Span(label, className=f"rag rag-{status}", **{"data-status": status})


def empty_state(message: str) -> html.Div:
    return html.Div(message, className="empty-state")
