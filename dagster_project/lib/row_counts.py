"""Row counts of warehouse tables, for Dagster's standard `dagster/row_count` metadata."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .warehouse import connect

# Dagster shows this key as the asset's row count (and charts it over materializations).
ROW_COUNT = "dagster/row_count"


def row_counts(warehouse: Path, tables: Iterable[str]) -> dict[str, int]:
    """{table: rows} for those of `tables` the warehouse holds. Opened read-only: call it
    when no other process writes the warehouse (after dbt's process has ended)."""
    wanted = sorted(set(tables))
    if not wanted or not warehouse.exists():
        return {}
    con = connect(warehouse, read_only=True)
    try:
        present = {r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()}
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0]
                for t in wanted if t in present}
    finally:
        con.close()
