"""Spreadsheet-safe CSV cells (OWASP, "CSV injection").

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a
formula by Excel and its kin (`=HYPERLINK(...)` becomes a live link). Every CSV written
for people gets such a cell with a single quote in front, which makes it text. Only text
is neutralised: numbers, negative ones too, stay numbers.

Not written through this: the group KPI snapshot (`exports/kpi_snapshot_*.csv`, a
byte-exact contract whose cells are codes, dates and numbers that are never negative, so
never begin with one of these characters) and the synthetic inbox extracts of
`qloop generate` (they imitate the source systems' files).
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """`value`, or a text that would start a formula with a `'` in front."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_sql(column: str) -> str:
    """The same rule as a DuckDB expression, for a text column of a `COPY ... TO` CSV."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS)
    return (f"case when left({column}, 1) in ({starts}) then '''' || {column} "
            f"else {column} end")
