"""Throttling of failed board logins, per user name and client address.

Keyed on both, so that nobody can lock a user out from another address: an attacker who
guesses a name's password only throttles their own address. Each attempt is counted
before its password is checked, in one statement (an upsert that returns the new count),
so parallel attempts cannot all slip through between a check and its count; a successful
login clears its key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .schema import login_throttle
from .store import IssueStore

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def admit_attempt(store: IssueStore, user_name: str, remote_addr: str, now: datetime) -> bool:
    """Count one attempt of (user name, address) as a failure in advance; False when the
    key has had MAX_FAILURES already within WINDOW of its first failure."""
    table = login_throttle
    insert = postgresql.insert if store.engine.dialect.name == "postgresql" else sqlite.insert
    window_over = table.c.window_start <= now - WINDOW
    statement = insert(table).values(
        user_name=user_name, remote_addr=remote_addr, failures=1, window_start=now,
    ).on_conflict_do_update(
        index_elements=[table.c.user_name, table.c.remote_addr],
        set_={"failures": sa.case((window_over, 1), else_=table.c.failures + 1),
              "window_start": sa.case((window_over, now), else_=table.c.window_start)},
    ).returning(table.c.failures)
    with store.begin_write() as conn:
        failures = conn.execute(statement).scalar_one()
    return failures <= MAX_FAILURES


def clear_attempts(store: IssueStore, user_name: str, remote_addr: str) -> None:
    with store.begin_write() as conn:
        conn.execute(login_throttle.delete().where(login_throttle.c.user_name == user_name,
                                                   login_throttle.c.remote_addr == remote_addr))
