"""The board's data access: all SQL lives in this package (one module per domain).

Pages read the published copy of the marts (`<home>/board/board.duckdb`), never the
warehouse and never raw facts. A pipeline run replaces that file atomically; the next
query after a swap opens the new file (read-only), queries in flight finish on the old one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dagster_project.lib.publish import board_path

from ..context import board

_lock = threading.Lock()
_open: dict[Path, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}


class NoBoardData(Exception):
    """No pipeline run has published the marts yet."""


def _connection() -> duckdb.DuckDBPyConnection:
    path = board_path(board().settings.home)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NoBoardData(str(path)) from None
    key = (stat.st_ino, stat.st_mtime_ns)
    with _lock:
        cached = _open.get(path)
        if cached is None or cached[0] != key:
            con = duckdb.connect(str(path), read_only=True, config={
                "autoinstall_known_extensions": False, "autoload_known_extensions": False})
            _open[path] = (key, con)
            return con
        return cached[1]


# What DuckDB raises when a parameter's value cannot take the type the query compares it
# with (an object where a KPI code belongs): the request's fault, told as a ValueError.
_BAD_PARAMETER = (duckdb.ConversionException, duckdb.InvalidInputException)


def _execute(sql: str, params: dict[str, Any] | None, fetch):
    cursor = _connection().cursor()
    try:
        return fetch(cursor.execute(sql, params or {}))
    except _BAD_PARAMETER as err:
        raise ValueError(f"a value the query cannot take: {str(err).splitlines()[0]}") from err
    finally:
        cursor.close()


def frame(sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """A query's (small) result as a DataFrame; each call on its own cursor (thread-safe)."""
    return _execute(sql, params, lambda result: result.df())


def rows(sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    return _execute(sql, params, lambda result: result.fetchall())


def record(sql: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The query's first row as a dict by column name (None when it has none): a single
    row needs no DataFrame."""
    def first(result):
        found = result.fetchone()
        return None if found is None else dict(zip((d[0] for d in result.description), found))
    return _execute(sql, params, first)


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of its own on the published copy, for the library's readers that take a
    connection (lib/remediation/hotspots.py); closed after the block."""
    con = _connection().cursor()
    try:
        yield con
    finally:
        con.close()
