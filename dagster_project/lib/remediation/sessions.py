"""Board sessions kept in the issue store, so that they can be ended on the server.

The board's signed cookie carries only a session's random id. Every request looks the id
up together with its user (one primary-key lookup joined to `users`), so the role,
department and disabled flag in force are those of the store, never the cookie's. A
session ends when it expires, when its user logs out, and for all of a user's sessions
when the user is disabled, given another role or department, or a new password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .rules import Actor
from .schema import board_sessions, users
from .store import IssueStore

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class SessionUser:
    actor: Actor
    display_name: str


def start_session(store: IssueStore, user_name: str, now: datetime) -> str:
    """A new session of `user_name`; returns its id. Expired sessions are removed here."""
    session_id = secrets.token_urlsafe(32)
    with store.begin_write() as conn:
        conn.execute(board_sessions.delete().where(board_sessions.c.expires_at <= now))
        user_id = conn.execute(sa.select(users.c.id).where(users.c.name == user_name)
                               ).scalar_one()
        conn.execute(board_sessions.insert().values(
            id=session_id, user_id=user_id, created_at=now, expires_at=now + SESSION_LIFETIME))
    return session_id


def session_user(store: IssueStore, session_id: str, now: datetime) -> SessionUser | None:
    """The user of a live session, as the store has them now; None when the session has
    ended or expired, or its user is disabled."""
    query = (sa.select(users.c.name, users.c.role, users.c.department_code,
                       users.c.display_name)
             .join(board_sessions, board_sessions.c.user_id == users.c.id)
             .where(board_sessions.c.id == session_id, board_sessions.c.expires_at > now,
                    users.c.disabled.is_(False)))
    with store.begin_read() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return SessionUser(Actor(row.name, row.role, row.department_code), row.display_name)


def end_session(store: IssueStore, session_id: str) -> None:
    with store.begin_write() as conn:
        conn.execute(board_sessions.delete().where(board_sessions.c.id == session_id))


def end_user_sessions(conn: sa.Connection, user_id: int) -> int:
    """Ends every session of a user (inside the caller's transaction); how many."""
    return conn.execute(board_sessions.delete().where(board_sessions.c.user_id == user_id)
                        ).rowcount
