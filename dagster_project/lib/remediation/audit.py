"""The audit trail's one writer: an event appended to issue_events, change_events or
user_events. Events are never changed or removed (the database refuses it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa


def jsonable(value: Any) -> Any:
    return value.isoformat(sep=" ") if isinstance(value, datetime) else (
        value.isoformat() if isinstance(value, date) else value)


def append_event(conn: sa.Connection, table: sa.Table, key_column: str, key: int | str,
                 now: datetime, actor: str, action: str, from_state: str | None,
                 to_state: str | None, changes: Mapping[str, Any], comment: str | None) -> None:
    """One audit event (of an issue, a change or a user): the next sequence number of its
    record, who, when, from which state to which, what changed, the comment."""
    seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.seq), 0))
                       .where(table.c[key_column] == key)).scalar_one() + 1
    conn.execute(table.insert().values({
        key_column: key, "seq": seq, "at": now, "actor": actor, "action": action,
        "from_state": from_state, "to_state": to_state,
        "changes": json.dumps({k: jsonable(v) for k, v in changes.items()},
                              ensure_ascii=False, sort_keys=True),
        "comment": comment}))
