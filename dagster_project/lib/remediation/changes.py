"""The change register and its pre-launch veto (前置体验一票否决), issue 7 item 2.

A sibling of the workflow service: the same store, actors, refusals and optimistic locking,
and the only writer of changes. States and who may move them (docs/decisions.md, "Change
register"):

    register                  -> registered   quality manager; department owner (own dept)
    test_pass   registered    -> passed       quality manager
    test_veto   registered    -> vetoed       quality manager; opens a veto issue
    launch      passed        -> launched     quality manager; department owner (own dept)
    cancel      registered, passed, vetoed
                              -> cancelled    quality manager; department owner (own dept)
    (system)    vetoed        -> registered   when the veto issue is closed or cancelled
                                              (the workflow's action on the issue does it)

Every action runs in one write transaction, re-reads the change, checks it, updates it only
if its version is unchanged, and appends an event; a refusal raises a WorkflowError and
changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from . import rules
from .accounts import active_actor
from .audit import jsonable as _jsonable
from .events import change_event, issue_event, load_change, update_change, update_issue
from .reference import departments, kpi_catalog
from .rules import (
    DEPARTMENT_OWNER, QUALITY_MANAGER, VETO_ORIGIN, Actor, ConflictError, InvalidTransition,
    MissingField, PermissionRefused, WorkflowError,
)
from .schema import (
    ACTIVE_STATES, CHANGE_STATES, CHANGE_TYPES, change_events, change_scopes, changes, issues,
)
from .workflow import Workflow

BOOKKEEPING = ("id", "version", "updated_at", "updated_by")
# A region is a city code of the reference data (NJ, WX, ...) or JS, the province. The
# issue store does not hold the reference data, so the shape is checked here and the board
# offers the known cities.
REGION_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
VETO_SEVERITY = "P2"  # deadlines of a veto issue: acknowledge 2 d, plan 5 d, fix 14 d


@dataclass(frozen=True)
class ChangeAction:
    name: str
    from_states: tuple[str, ...]
    to_state: str
    roles: tuple[str, ...]


CHANGE_ACTIONS = {
    a.name: a for a in (
        ChangeAction("test_pass", ("registered",), "passed", (QUALITY_MANAGER,)),
        ChangeAction("test_veto", ("registered",), "vetoed", (QUALITY_MANAGER,)),
        ChangeAction("launch", ("passed",), "launched", (QUALITY_MANAGER, DEPARTMENT_OWNER)),
        ChangeAction("cancel", ("registered", "passed", "vetoed"), "cancelled",
                     (QUALITY_MANAGER, DEPARTMENT_OWNER)),
    )
}
REGISTER_ROLES = (QUALITY_MANAGER, DEPARTMENT_OWNER)


def _role(role: str) -> str:
    return role.replace("_", " ")


def _check_department(actor: Actor, owner_department: str) -> None:
    if actor.role == DEPARTMENT_OWNER and actor.department_code != owner_department:
        raise PermissionRefused(f"{actor.name} owns department {actor.department_code}; "
                                f"this change belongs to {owner_department}")


def check_change_allowed(action_name: str, actor: Actor, state: str, owner_department: str,
                         change_id: int | None = None) -> None:
    """Raise the reason `actor` may not take the action on a change in `state`."""
    action = CHANGE_ACTIONS[action_name]
    if actor.role not in action.roles:
        allowed = " or ".join(_role(r) for r in action.roles)
        raise PermissionRefused(f"{action_name} needs a {allowed}; "
                                f"{actor.name} is a {_role(actor.role)}")
    _check_department(actor, owner_department)
    if state in action.from_states:
        return
    name = f"change {change_id}" if change_id is not None else "the change"
    if action_name == "launch" and state == "vetoed":
        raise InvalidTransition(f"cannot launch {name}: it is vetoed by its experience test; "
                                "its veto issue must be closed and a new test passed first")
    if action_name == "launch" and state == "registered":
        raise InvalidTransition(f"cannot launch {name}: it is registered and has not passed "
                                "its experience test yet")
    raise InvalidTransition(f"cannot {action_name} a change that is {state} "
                            f"(needs {' or '.join(action.from_states)})")


def allowed_change_actions(actor: Actor, state: str, owner_department: str) -> list[str]:
    allowed = []
    for name in CHANGE_ACTIONS:
        try:
            check_change_allowed(name, actor, state, owner_department)
        except WorkflowError:
            continue
        allowed.append(name)
    return allowed


def parse_affects(affects: str | Iterable[str] | Iterable[tuple[str, str]] | None
                  ) -> list[tuple[str, str]]:
    """'K02:NJ,K02:WX' (or a list of 'K02:NJ' or of (kpi, region)) -> sorted unique pairs."""
    if affects is None:
        raise MissingField("the KPIs and regions the change may affect are required "
                           "(KPI:REGION, e.g. K02:NJ)")
    items = affects.split(",") if isinstance(affects, str) else list(affects)
    pairs = set()
    catalog = kpi_catalog()
    for item in items:
        if isinstance(item, str):
            if not item.strip():
                continue
            kpi, sep, region = item.strip().partition(":")
            if not sep:
                raise MissingField(f"affected scope {item.strip()!r} must be KPI:REGION "
                                   "(e.g. K02:NJ)")
        else:
            kpi, region = item
        kpi, region = kpi.strip().upper(), region.strip().upper()
        if kpi not in catalog:
            raise MissingField(f"unknown KPI {kpi!r} in the affected scope")
        if not REGION_CODE.match(region):
            raise MissingField(f"region {region!r} in the affected scope is not a region code "
                               "(a city code such as NJ, or JS)")
        pairs.add((kpi, region))
    if not pairs:
        raise MissingField("the KPIs and regions the change may affect are required "
                           "(KPI:REGION, e.g. K02:NJ)")
    return sorted(pairs)


@dataclass(frozen=True)
class ChangeView:
    """A change as stored, with its scope and the issues its vetoes opened."""

    row: Mapping[str, Any]
    scopes: tuple[tuple[str, str], ...]
    linked_issues: tuple[Mapping[str, Any], ...]  # id, state, opened_at; oldest first

    def __getattr__(self, name: str) -> Any:
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def veto_issue_id(self) -> int | None:
        """The issue that holds the change (its latest veto issue while it is vetoed)."""
        return self.linked_issues[-1]["id"] if self.linked_issues else None

    def as_dict(self) -> dict[str, Any]:
        data = {k: _jsonable(v) for k, v in self.row.items()}
        data["affects"] = [f"{k}:{r}" for k, r in self.scopes]
        data["issues"] = [{k: _jsonable(v) for k, v in i.items()} for i in self.linked_issues]
        return data


class ChangeRegister:
    """The change register's service: it shares the workflow's store, clock and users."""

    def __init__(self, workflow: Workflow):
        self.workflow = workflow
        self.store = workflow.store

    def now(self) -> datetime:
        return self.workflow.now()

    # -- reading --------------------------------------------------------------------------

    def change(self, change_id: int) -> ChangeView:
        with self.store.begin_read() as conn:
            return self._view(conn, load_change(conn, change_id))

    def changes(self, *, state: str | None = None, department: str | None = None
                ) -> list[ChangeView]:
        query = sa.select(changes).order_by(changes.c.id)
        if state is not None:
            rules.require_choice(state, CHANGE_STATES, "state")
            query = query.where(changes.c.state == state)
        if department is not None:
            query = query.where(changes.c.owner_department == department)
        with self.store.begin_read() as conn:
            rows = conn.execute(query).mappings().all()
            scopes = self._all_scopes(conn)
            linked = self._all_linked(conn)
        return [ChangeView(dict(r), tuple(scopes.get(r["id"], ())),
                           tuple(linked.get(r["id"], ()))) for r in rows]

    def scopes(self) -> list[tuple[int, str, str]]:
        """Every (change, KPI, region) of the register."""
        with self.store.begin_read() as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(change_scopes).order_by(*change_scopes.c))]

    def events(self, change_id: int) -> list[dict[str, Any]]:
        with self.store.begin_read() as conn:
            load_change(conn, change_id)
            rows = conn.execute(sa.select(change_events)
                                .where(change_events.c.change_id == change_id)
                                .order_by(change_events.c.seq)).mappings().all()
        return [{**r, "changes": json.loads(r["changes"])} for r in rows]

    def allowed_actions(self, change_id: int, user: str) -> list[str]:
        with self.store.begin_read() as conn:
            actor = active_actor(conn, user)
            row = load_change(conn, change_id)
        return allowed_change_actions(actor, row["state"], row["owner_department"])

    def may_register(self, user: str) -> bool:
        return self.workflow.actor(user).role in REGISTER_ROLES

    def _view(self, conn: sa.Connection, row: Mapping[str, Any]) -> ChangeView:
        scopes = conn.execute(sa.select(change_scopes.c.kpi_code, change_scopes.c.region_code)
                              .where(change_scopes.c.change_id == row["id"])
                              .order_by(change_scopes.c.kpi_code, change_scopes.c.region_code))
        linked = conn.execute(sa.select(issues.c.id, issues.c.state, issues.c.opened_at)
                              .where(issues.c.change_id == row["id"]).order_by(issues.c.id))
        return ChangeView(dict(row), tuple(tuple(s) for s in scopes),
                          tuple(dict(i) for i in linked.mappings()))

    @staticmethod
    def _all_scopes(conn: sa.Connection) -> dict[int, list[tuple[str, str]]]:
        found: dict[int, list[tuple[str, str]]] = {}
        for change_id, kpi, region in conn.execute(
                sa.select(change_scopes).order_by(*change_scopes.c)):
            found.setdefault(change_id, []).append((kpi, region))
        return found

    @staticmethod
    def _all_linked(conn: sa.Connection) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        for row in conn.execute(sa.select(issues.c.change_id, issues.c.id, issues.c.state,
                                          issues.c.opened_at)
                                .where(issues.c.change_id.is_not(None))
                                .order_by(issues.c.id)).mappings():
            found.setdefault(row["change_id"], []).append(
                {"id": row["id"], "state": row["state"], "opened_at": row["opened_at"]})
        return found

    # -- user actions ---------------------------------------------------------------------

    def register(self, user: str, title: str, change_type: str, owner_department: str,
                 planned_launch_date: date | str, affects, description: str | None = None
                 ) -> ChangeView:
        now = self.now()
        with self.store.begin_write() as conn:
            actor = active_actor(conn, user)
            if actor.role not in REGISTER_ROLES:
                raise PermissionRefused(f"register needs a quality manager or department "
                                        f"owner; {actor.name} is a {_role(actor.role)}")
            department = rules.require_choice(owner_department, tuple(departments()),
                                              "owner department")
            _check_department(actor, department)
            content = {
                "title": rules.require_text(title, "title", rules.TITLE_MAX),
                "change_type": rules.require_choice(change_type, CHANGE_TYPES, "change type"),
                "description": rules.optional_text(description, "description"),
                "owner_department": department,
                "planned_launch_date": rules.require_date(planned_launch_date,
                                                          "planned launch date"),
                "state": "registered", "registered_by": actor.name, "registered_at": now,
            }
            pairs = parse_affects(affects)
            change_id = conn.execute(changes.insert().values(
                **content, version=1, updated_at=now, updated_by=actor.name)
            ).inserted_primary_key[0]
            conn.execute(change_scopes.insert(), [
                {"change_id": change_id, "kpi_code": k, "region_code": r} for k, r in pairs])
            change_event(conn, change_id, now, actor.name, "register", None, "registered",
                   {**content, "affects": [f"{k}:{r}" for k, r in pairs]}, None)
            return self._view(conn, load_change(conn, change_id))

    def test_pass(self, change_id: int, user: str, reason: str | None = None,
                  expected_version: int | None = None) -> ChangeView:
        def change(row, actor, now, conn):
            return {"test_result": "pass", "test_reason": rules.optional_text(reason, "reason"),
                    "tested_by": actor.name, "tested_at": now}
        return self._act(change_id, user, "test_pass", change, expected_version)

    def test_veto(self, change_id: int, user: str, reason: str,
                  expected_version: int | None = None) -> ChangeView:
        def change(row, actor, now, conn):
            why = rules.require_text(reason, "veto reason")
            _open_veto_issue(conn, row, actor.name, now, why)
            return {"test_result": "veto", "test_reason": why, "tested_by": actor.name,
                    "tested_at": now}
        return self._act(change_id, user, "test_veto", change, expected_version)

    def launch(self, change_id: int, user: str, launched_on: date | str | None = None,
               expected_version: int | None = None) -> ChangeView:
        def change(row, actor, now, conn):
            day = now.date() if launched_on in (None, "") else rules.require_date(
                launched_on, "launch date")
            if day > now.date():
                raise MissingField(f"launch date {day} is in the future")
            return {"launched_on": day}
        return self._act(change_id, user, "launch", change, expected_version)

    def cancel(self, change_id: int, user: str, reason: str,
               expected_version: int | None = None) -> ChangeView:
        def change(row, actor, now, conn):
            why = rules.require_text(reason, "cancellation reason")
            _cancel_veto_issues(conn, row["id"], actor.name, now)
            return {"cancel_reason": why, "cancelled_at": now}
        return self._act(change_id, user, "cancel", change, expected_version)

    def _act(self, change_id: int, user: str, action_name: str,
             change: Callable[[Mapping[str, Any], Actor, datetime, sa.Connection],
                              dict[str, Any]],
             expected_version: int | None) -> ChangeView:
        now = self.now()
        action = CHANGE_ACTIONS[action_name]
        with self.store.begin_write() as conn:
            actor = active_actor(conn, user)
            row = load_change(conn, change_id)
            if actor.role not in action.roles:  # no right at all: say so, whatever the version
                check_change_allowed(action_name, actor, row["state"], row["owner_department"],
                                     change_id)
            if expected_version is not None and row["version"] != expected_version:
                raise ConflictError(
                    f"change {change_id} was changed by {row['updated_by']} at "
                    f"{row['updated_at']} (version {row['version']}, you acted on version "
                    f"{expected_version}); reload it and try again")
            check_change_allowed(action_name, actor, row["state"], row["owner_department"],
                                 change_id)
            changes_ = change(row, actor, now, conn)
            changes_["state"] = action.to_state
            update_change(conn, row, changes_, actor.name, action_name, now)
            return self._view(conn, load_change(conn, change_id))


# -- writing ------------------------------------------------------------------------

def _open_veto_issue(conn: sa.Connection, change: Mapping[str, Any], actor: str,
                     now: datetime, reason: str) -> int:
    """The issue a veto opens for the owner department. Its KPI and region are the change's
    first affected scope (KPI, then region order): that is what it is about, and what the
    closure lists and the ranking already show; `change_id` says it is a veto issue."""
    kpi, region = conn.execute(
        sa.select(change_scopes.c.kpi_code, change_scopes.c.region_code)
        .where(change_scopes.c.change_id == change["id"])
        .order_by(change_scopes.c.kpi_code, change_scopes.c.region_code).limit(1)).one()
    content = {
        "kpi_code": kpi, "region_code": region, "owner_department": change["owner_department"],
        "severity": VETO_SEVERITY, "state": "open", "origin": VETO_ORIGIN, "opened_at": now,
        "step_started_at": now, "reopen_count": 0, "missed_deadlines": 0, "evidence_count": 0,
        "last_breach_day": None, "change_id": change["id"],
    }
    issue_id = conn.execute(issues.insert().values(
        **content, version=1, updated_at=now, updated_by=actor)).inserted_primary_key[0]
    issue_event(conn, issue_id, now, actor, "open", None, "open", content,
                f"experience test veto of change {change['id']} "
                f"({change['title']}): {reason}")
    return issue_id


def _cancel_veto_issues(conn: sa.Connection, change_id: int, actor: str,
                        now: datetime) -> None:
    """A change cancelled while vetoed no longer needs its veto issue fixed."""
    for row in conn.execute(sa.select(issues).where(issues.c.change_id == change_id,
                                                    issues.c.state.in_(ACTIVE_STATES))
                            ).mappings().all():
        update_issue(conn, row, {"state": "cancelled", "cancel_reason": "other",
                                 "cancel_note": f"change {change_id} was cancelled",
                                 "cancelled_at": now}, actor, "cancel", now,
                     f"change {change_id} was cancelled")

