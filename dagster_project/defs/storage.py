"""Dagster's SQLite storage, with event writes that do not cost a new engine and an fsync each.

A pipeline run stores ~900 events (every dbt model's output and materialization, every dbt
test as an asset check evaluation, each planned beforehand), and asset events twice (the
run's file and the cross-run index). Dagster's `SqliteEventLogStorage` builds a new
SQLAlchemy engine for every write and commits with SQLite's default `synchronous=FULL`:
~8 ms an event on this machine's disk, 12 s of a run's fixed cost. This storage keeps one
engine per file and writes with `synchronous=NORMAL`, which in WAL mode (Dagster's) is
still crash-safe for the database: a power cut may lose the last events, never corrupt the
file. Runs, schedules and sensor cursors are Dagster's own classes, in the same folders as
its default `storage: sqlite:` layout, so an existing home keeps its history.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory


def _write_without_fsync(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class QuickSqliteEventLogStorage(SqliteEventLogStorage):
    """Keeps an engine and its open connection per shard (a run's file, the index) for the
    latest shards; commits without fsync; remembers which tables exist."""

    OPEN_SHARDS = 8  # a webserver reads many runs' files: keep only the latest open

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> db.engine.Engine:
        engine = self._engines.get(shard)
        if engine is None:
            # A pooled connection stays open: closing SQLite's last connection checkpoints
            # the WAL, an fsync per event. Every use holds `_db_lock`, so one connection
            # serves all threads in turn (pysqlite under SQLAlchemy 2 allows that).
            engine = db.create_engine(self.conn_string_for_shard(shard), pool_size=1,
                                      max_overflow=2,
                                      connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            db.event.listen(engine, "connect", _write_without_fsync)
            self._engines[shard] = engine
            while len(self._engines) > self.OPEN_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[db.engine.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # asked on every asset and check event (Dagster's opens a new engine each time);
        # a table, once there, stays
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def dispose(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()


class QualityLoopSqliteStorage(DagsterSqliteStorage):
    """`storage: sqlite:` with the quick event log (dagster.yaml: `storage: custom:`)."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        # replaces the parent's event log, which only created or checked the index file
        # and holds no open connection
        self._event_log_storage = QuickSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> QualityLoopSqliteStorage:
        # the parent's builds a DagsterSqliteStorage whatever the subclass
        return cls.from_local(inst_data=inst_data, **config_value)
