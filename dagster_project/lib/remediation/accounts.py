"""The users of the issue store: adding one, disabling and enabling, a new role or
department, a new password, and checking a password at login.

Every change to a user is an event of `user_events` (who did it, when, what changed; never
a password or its hash). A change that takes rights away (disabling, another role or
department, a new password) ends the user's board sessions in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from . import rules
from .audit import append_event
from .passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from .reference import departments
from .rules import (
    DEPARTMENT_OWNER, ROLES, SYSTEM, Actor, MissingField, NotFound, PermissionRefused,
    WorkflowError,
)
from .schema import user_events, users
from .sessions import end_user_sessions
from .store import IssueStore


def check_password(password: str | None) -> str:
    password = password or ""
    if len(password) < rules.PASSWORD_MIN:
        raise MissingField(f"password must have at least {rules.PASSWORD_MIN} characters")
    return rules.limit_text(password, "password", rules.PASSWORD_MAX)


def check_role(role: str | None, department_code: str | None) -> None:
    """A department owner needs a department; any department given must exist."""
    rules.require_choice(role, ROLES, "role")
    if role == DEPARTMENT_OWNER or department_code is not None:
        rules.require_choice(department_code, tuple(departments()), "department")


def load_user(conn: sa.Connection, name: str) -> Mapping[str, Any]:
    row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"unknown user {name!r}")
    return row


def active_actor(conn: sa.Connection, name: str) -> Actor:
    """The user who acts, as the permission checks see them; a disabled user may not act.
    Read in the acting transaction, so a user disabled meanwhile is refused."""
    row = load_user(conn, name)
    if row["disabled"]:
        raise PermissionRefused(f"user {name} is disabled")
    return Actor(row["name"], row["role"], row["department_code"])


class Accounts:
    def __init__(self, store: IssueStore, clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock

    # -- administration -------------------------------------------------------------------

    def add(self, name: str, role: str, password: str, department_code: str | None = None,
            display_name: str | None = None, email: str | None = None, by: str = SYSTEM
            ) -> Actor:
        name = rules.require_text(name, "user name", rules.NAME_MAX)
        check_role(role, department_code)
        content = {"name": name, "role": role, "department_code": department_code,
                   "display_name": rules.optional_text(display_name, "display name",
                                                       rules.DISPLAY_NAME_MAX) or name,
                   "email": rules.optional_text(email, "e-mail address", rules.EMAIL_MAX)}
        password_hash = hash_password(check_password(password))
        now = self.clock()
        with self.store.begin_write() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
                raise WorkflowError(f"user {name} exists already")
            conn.execute(users.insert().values(**content, password_hash=password_hash,
                                               created_at=now, disabled=False))
            self._event(conn, name, now, by, "add", None, "enabled", content)
        return Actor(name, role, department_code)

    def disable(self, name: str, by: str) -> int:
        """Returns the number of board sessions ended."""
        return self._set_disabled(name, True, by)

    def enable(self, name: str, by: str) -> int:
        return self._set_disabled(name, False, by)

    def _set_disabled(self, name: str, disabled: bool, by: str) -> int:
        now = self.clock()
        state = {False: "enabled", True: "disabled"}
        with self.store.begin_write() as conn:
            row = load_user(conn, name)
            if row["disabled"] == disabled:
                raise WorkflowError(f"user {name} is {state[disabled]} already")
            conn.execute(users.update().where(users.c.id == row["id"]).values(disabled=disabled))
            ended = end_user_sessions(conn, row["id"]) if disabled else 0
            self._event(conn, name, now, by, "disable" if disabled else "enable",
                        state[row["disabled"]], state[disabled], {"disabled": disabled},
                        _ended(ended))
        return ended

    def set_role(self, name: str, role: str, department_code: str | None, by: str) -> int:
        check_role(role, department_code)
        now = self.clock()
        with self.store.begin_write() as conn:
            row = load_user(conn, name)
            if (row["role"], row["department_code"]) == (role, department_code):
                raise WorkflowError(f"user {name} is a {role} of {department_code} already"
                                    if department_code else f"user {name} is a {role} already")
            conn.execute(users.update().where(users.c.id == row["id"])
                         .values(role=role, department_code=department_code))
            ended = end_user_sessions(conn, row["id"])
            self._event(conn, name, now, by, "set_role", None, None,
                        {"role": role, "department_code": department_code}, _ended(ended))
        return ended

    def reset_password(self, name: str, password: str, by: str) -> int:
        password_hash = hash_password(check_password(password))
        now = self.clock()
        with self.store.begin_write() as conn:
            row = load_user(conn, name)
            conn.execute(users.update().where(users.c.id == row["id"])
                         .values(password_hash=password_hash))
            ended = end_user_sessions(conn, row["id"])
            self._event(conn, name, now, by, "reset_password", None, None, {}, _ended(ended))
        return ended

    # -- reading --------------------------------------------------------------------------

    def users(self) -> list[dict[str, Any]]:
        with self.store.begin_read() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).mappings().all()
        return [{k: v for k, v in r.items() if k != "password_hash"} for r in rows]

    def events(self, name: str) -> list[dict[str, Any]]:
        with self.store.begin_read() as conn:
            rows = conn.execute(sa.select(user_events).where(user_events.c.user_name == name)
                                .order_by(user_events.c.seq)).mappings().all()
        return [{**r, "changes": json.loads(r["changes"])} for r in rows]

    # -- login ----------------------------------------------------------------------------

    def authenticate(self, name: str, password: str) -> Actor | None:
        """The user when the password is right and the user enabled, else None.

        An unknown name is checked against a dummy hash, a disabled user's password is
        checked too: every refusal costs one password hash, so the time taken tells
        nothing. A hash weaker than today's is replaced after a successful check."""
        with self.store.begin_read() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).mappings().first()
        stored = row["password_hash"] if row is not None else DUMMY_HASH
        if not verify_password(password, stored) or row is None or row["disabled"]:
            return None
        if needs_rehash(stored):
            stronger = hash_password(password)
            with self.store.begin_write() as conn:
                conn.execute(users.update().where(users.c.id == row["id"],
                                                  users.c.password_hash == stored)
                             .values(password_hash=stronger))
        return Actor(row["name"], row["role"], row["department_code"])

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _event(conn: sa.Connection, name: str, now: datetime, by: str, action: str,
               from_state: str | None, to_state: str | None, changes: Mapping[str, Any],
               comment: str | None = None) -> None:
        append_event(conn, user_events, "user_name", name, now, by, action, from_state,
                     to_state, changes, comment)


def _ended(count: int) -> str | None:
    return f"{count} board session(s) ended" if count else None
