"""The issue store: its own database (SQLite by default, any SQLAlchemy URL), migrated by
the application with Alembic, safe with several writing processes.

Writers use `begin_write()`. On SQLite that is `BEGIN IMMEDIATE`: the write lock is taken
up front, so two writers queue (busy timeout) instead of failing half-way, and each one
re-reads the issue inside its own transaction before deciding.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 15_000


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _private_file(path: Path) -> None:
    """The store holds the password hashes: owner only (0600). SQLite gives its -wal and
    -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o600)


class IssueStore:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = self._create_engine(url)

    def _create_engine(self, url: str) -> sa.Engine:
        if not self.is_sqlite:
            return sa.create_engine(url, pool_pre_ping=True)
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            _private_file(Path(path))
        # isolation_level=None hands transaction control to us (see the begin listener).
        engine = sa.create_engine(url, connect_args={"isolation_level": None,
                                                     "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("pragma journal_mode=wal")  # readers never wait for the writer
            cursor.execute(f"pragma busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("pragma foreign_keys=on")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection):
            immediate = connection.get_execution_options().get("immediate", False)
            connection.exec_driver_sql("begin immediate" if immediate else "begin")

        return engine

    # -- schema -------------------------------------------------------------------------

    def head_revision(self) -> str:
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is there already).

        The first connection is made under the lock too: on a fresh SQLite file it switches
        the file to WAL, which two processes doing at once can fail ("database is locked")
        without waiting for the busy timeout."""
        with self._migration_lock():
            if self.current_revision() == self.head_revision():
                return  # up to date, or another process migrated while we waited
            with self.engine.connect() as connection:
                connection = connection.execution_options(immediate=True)
                with connection.begin():
                    command.upgrade(_alembic_config(connection), "head")

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """Processes starting together migrate one at a time (SQLite: a lock file)."""
        path = sa.engine.make_url(self.url).database if self.is_sqlite else None
        if not path or path == ":memory:":
            yield
            return
        with open(f"{path}.migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- transactions -------------------------------------------------------------------

    @contextlib.contextmanager
    def begin_write(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection:
            connection = connection.execution_options(immediate=True)
            with connection.begin():
                yield connection

    @contextlib.contextmanager
    def begin_read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> IssueStore:
    store = IssueStore(url)
    store.migrate()
    return store
