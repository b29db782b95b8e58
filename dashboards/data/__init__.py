"""The board's data access: all SQL lives in this package (one module per domain).

Pages read the published copy of the marts (`<home>/board/board.duckdb`), never the
warehouse and never raw facts. A pipeline run replaces that file atomically; the next
query after a swap opens the new file (read-only), queries in flight finish on the old one.
Reads of what only a new copy can change (the catalog, reference lists) are asked once per
copy (once_per_copy).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from dagster_project.lib.publish import board_path

from ..context import board

_lock = threading.Lock()
_open: dict[Path, tuple[tuple[int, int], duckdb.DuckDBPyConnection]] = {}


class NoBoardData(Exception):
    """No pipeline run has published the marts yet."""


def _published_copy() -> tuple[Path, tuple[int, int]]:
    """The published copy's path and identity: a run replaces the file, so a new copy is a
    new inode and modification time."""
    path = board_path(board().settings.home)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NoBoardData(str(path)) from None
    return path, (stat.st_ino, stat.st_mtime_ns)


def _open_copy(path: Path) -> duckdb.DuckDBPyConnection:
    """A database of its own for one published copy. Not duckdb.connect(path): while a
    connection to the file is open in the process, DuckDB answers a second connect() with
    that same database, so a copy swapped in by a run would never be seen. An in-memory
    database attaches the copy read-only instead, and names its tables by views (cursors
    share the views, not a `USE`)."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute("attach $path as published (read_only)", {"path": str(path)})
    for (table,) in con.execute("select table_name from duckdb_tables() "
                                "where database_name = 'published'").fetchall():
        con.execute(f'create view "{table}" as select * from published.main."{table}"')
    return con


def _connection() -> duckdb.DuckDBPyConnection:
    path, key = _published_copy()
    with _lock:
        cached = _open.get(path)
        if cached is None or cached[0] != key:
            con = _open_copy(path)
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


Read = TypeVar("Read", bound=Callable[..., Any])


def once_per_copy(read: Read) -> Read:
    """For a read of what only a newly published copy can change (the catalog, the reference
    lists, a KPI's latest periods): asked once per copy and arguments instead of on every
    request; a KPI page makes a dozen of them. What it returns is shared between requests,
    so it must be immutable (tuples, a read-only mapping)."""
    memo = functools.lru_cache(maxsize=64)(lambda _copy, *args: read(*args))

    @functools.wraps(read)
    def shared(*args):
        try:
            hash(args)
        except TypeError:  # an object where a code belongs: the request's fault
            raise ValueError(f"{read.__name__}: a value the query cannot take") from None
        return memo(_published_copy(), *args)
    return shared  # type: ignore[return-value]


@once_per_copy
def table_names() -> frozenset[str]:
    """The tables of the published copy (one made before a mart existed lacks it)."""
    return frozenset(name for (name,) in rows("select table_name from information_schema.tables"))


@contextmanager
def cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor of its own on the published copy, for the library's readers that take a
    connection (lib/remediation/hotspots.py); closed after the block."""
    con = _connection().cursor()
    try:
        yield con
    finally:
        con.close()
