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


def load_issue(conn: sa.Connection, issue_id: int) -> Mapping[str, Any]:
    issue_id = rules.require_id(issue_id, "issue")
    row = conn.execute(sa.select(issues).where(issues.c.id == issue_id)).mappings().first()
    if row is None:
        raise NotFound(f"issue {issue_id} does not exist")
    return row


def issue_event(conn: sa.Connection, issue_id: int, now: datetime, actor: str, action: str,
                from_state: str | None, to_state: str | None, content: Mapping[str, Any],
                comment: str | None) -> None:
    append_event(conn, issue_events, "issue_id", issue_id, now, actor, action,
                 from_state, to_state, content, comment)


def update_issue(conn: sa.Connection, row: Mapping[str, Any], content: Mapping[str, Any],
                 actor: str, action: str, now: datetime, comment: str | None = None
                 ) -> Mapping[str, Any]:
    """The issue `row` with what `content` changes, if nobody changed it since it was read;
    its event; the issue as it is now."""
    content = {k: v for k, v in content.items() if row[k] != v}
    result = conn.execute(
        issues.update()
        .where(issues.c.id == row["id"], issues.c.version == row["version"])
        .values(**content, version=row["version"] + 1, updated_at=now, updated_by=actor))
    if result.rowcount != 1:
        raise ConflictError(f"issue {row['id']} was changed by someone else; reload it")
    issue_event(conn, row["id"], now, actor, action, row["state"],
                content.get("state", row["state"]), content, comment)
    return load_issue(conn, row["id"])


def load_change(conn: sa.Connection, change_id: int) -> Mapping[str, Any]:
    change_id = rules.require_id(change_id, "change")
    row = conn.execute(sa.select(changes).where(changes.c.id == change_id)).mappings().first()
    if row is None:
        raise NotFound(f"change {change_id} does not exist")
    return row


def change_event(conn: sa.Connection, change_id: int, now: datetime, actor: str, action: str,
                 from_state: str | None, to_state: str | None, content: Mapping[str, Any],
                 comment: str | None) -> None:
    append_event(conn, change_events, "change_id", change_id, now, actor, action,
                 from_state, to_state, content, comment)


def update_change(conn: sa.Connection, row: Mapping[str, Any], content: Mapping[str, Any],
                  actor: str, action: str, now: datetime, comment: str | None = None) -> None:
    """The change `row` with what `content` changes, if nobody changed it since it was
    read, and its event."""
    content = {k: v for k, v in content.items() if row[k] != v}
    result = conn.execute(
        changes.update().where(changes.c.id == row["id"], changes.c.version == row["version"])
        .values(**content, version=row["version"] + 1, updated_at=now, updated_by=actor))
    if result.rowcount != 1:
        raise ConflictError(f"change {row['id']} was changed by someone else; reload it")
    change_event(conn, row["id"], now, actor, action, row["state"],
                 content.get("state", row["state"]), content, comment)
