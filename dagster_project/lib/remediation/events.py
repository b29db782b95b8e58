"""Issues and changes as versioned records with their audit events, for the two services
that write them (workflow.py: issues; changes.py: changes, and the issue a veto opens or a
cancelled change cancels).

Each function works inside the caller's write transaction: loading a record, updating it
only at the version that was read (optimistic locking) with the event that says so, or
appending an event alone. It builds on audit.py, schema.py and rules.py only, so both
services import it and neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from . import rules
from .audit import append_event
from .rules import ConflictError, NotFound
from .schema import change_events, changes, issue_events, issues


# The two kinds of versioned record: their table, their events' table and key, their name.
_ISSUE = (issues, issue_events, "issue_id", "issue")
_CHANGE = (changes, change_events, "change_id", "change")


def _load(kind: tuple, record_id: int, conn: sa.Connection) -> Mapping[str, Any]:
    table, _, _, name = kind
    record_id = rules.require_id(record_id, name)
    row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
    if row is None:
        raise NotFound(f"{name} {record_id} does not exist")
    return row


def _event(kind: tuple, conn: sa.Connection, record_id: int, now: datetime, actor: str,
           action: str, from_state: str | None, to_state: str | None,
           content: Mapping[str, Any], comment: str | None) -> None:
    _, events, key, _ = kind
    append_event(conn, events, key, record_id, now, actor, action, from_state, to_state,
                 content, comment)


def _update(kind: tuple, conn: sa.Connection, row: Mapping[str, Any],
            content: Mapping[str, Any], actor: str, action: str, now: datetime,
            comment: str | None) -> None:
    """`row` with what `content` changes, if nobody changed it since it was read, and its
    event."""
    table, _, _, name = kind
    content = {k: v for k, v in content.items() if row[k] != v}
    result = conn.execute(
        table.update().where(table.c.id == row["id"], table.c.version == row["version"])
        .values(**content, version=row["version"] + 1, updated_at=now, updated_by=actor))
    if result.rowcount != 1:
        raise ConflictError(f"{name} {row['id']} was changed by someone else; reload it")
    _event(kind, conn, row["id"], now, actor, action, row["state"],
           content.get("state", row["state"]), content, comment)


def load_issue(conn: sa.Connection, issue_id: int) -> Mapping[str, Any]:
    return _load(_ISSUE, issue_id, conn)


def issue_event(conn: sa.Connection, issue_id: int, now: datetime, actor: str, action: str,
                from_state: str | None, to_state: str | None, content: Mapping[str, Any],
                comment: str | None) -> None:
    _event(_ISSUE, conn, issue_id, now, actor, action, from_state, to_state, content, comment)


def update_issue(conn: sa.Connection, row: Mapping[str, Any], content: Mapping[str, Any],
                 actor: str, action: str, now: datetime, comment: str | None = None
                 ) -> Mapping[str, Any]:
    """The issue `row` with what `content` changes, if nobody changed it since it was read;
    its event; the issue as it is now."""
    _update(_ISSUE, conn, row, content, actor, action, now, comment)
    return load_issue(conn, row["id"])


def load_change(conn: sa.Connection, change_id: int) -> Mapping[str, Any]:
    return _load(_CHANGE, change_id, conn)


def change_event(conn: sa.Connection, change_id: int, now: datetime, actor: str, action: str,
                 from_state: str | None, to_state: str | None, content: Mapping[str, Any],
                 comment: str | None) -> None:
    _event(_CHANGE, conn, change_id, now, actor, action, from_state, to_state, content, comment)


def update_change(conn: sa.Connection, row: Mapping[str, Any], content: Mapping[str, Any],
                  actor: str, action: str, now: datetime, comment: str | None = None) -> None:
    """The change `row` with what `content` changes, if nobody changed it since it was
    read, and its event."""
    _update(_CHANGE, conn, row, content, actor, action, now, comment)
