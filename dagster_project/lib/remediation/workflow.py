"""The workflow service: the one place that writes issues.

Every state transition, permission check, required field, deadline and event goes through
here: the CLI, the board and the pipeline's detection and verification all call it.
Each action runs in one write transaction that re-reads the issue, checks it, updates it
only if its version is unchanged (optimistic locking), and appends the event. An action
refused for any reason raises a WorkflowError and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from . import rules
from .accounts import Accounts, active_actor
from .audit import jsonable as _jsonable
from .events import issue_event, load_change, load_issue, update_change, update_issue
from .reference import departments, kpi_catalog
from .rules import (
    CANCEL_REASONS, QUALITY_MANAGER, ROOT_CAUSE_CATEGORIES, SYSTEM, Actor,
    ConflictError, InvalidTransition, LoopSettings, MissingField, PermissionRefused,
)
from .schema import ACTIVE_STATES, FINAL_STATES, issue_events, issue_evidence, issues
from .store import IssueStore

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
SYSTEM_ACTOR = Actor(SYSTEM, SYSTEM)
# Bookkeeping columns: not part of an issue's replayable content.
BOOKKEEPING = ("id", "version", "updated_at", "updated_by")


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Signal:
    """One breach of fct_kpi_breach_signals: a rule that fired for a KPI, region, period."""

    kpi_code: str
    region_code: str
    rule: str
    severity: str
    period_type: str
    period_start: date
    status: str | None = None
    value: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    detail: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str, date]:
        """A signal is acted on once: a red week and a red Monday share their first day."""
        return (self.kpi_code, self.region_code, self.rule, self.period_type, self.period_start)

    @property
    def breach_day(self) -> date:
        """The last day of the period the breach is about."""
        if self.period_type == "month":
            next_month = (self.period_start.replace(day=28) + timedelta(days=4)).replace(day=1)
            return next_month - timedelta(days=1)
        if self.period_type == "week":
            return self.period_start + timedelta(days=6)
        return self.period_start


@dataclass
class DetectionOutcome:
    opened: list[int] = field(default_factory=list)
    evidence_added: int = 0
    severity_raised: int = 0
    reopened: list[int] = field(default_factory=list)
    already_seen: int = 0
    too_old: int = 0
    warnings: int = 0  # R4 signals: early warnings, an issue only when promoted


@dataclass
class VerificationOutcome:
    verified: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    progressed: int = 0


@dataclass(frozen=True)
class IssueView:
    """An issue as stored, plus what follows from the clock: deadline, overdue, escalation."""

    row: Mapping[str, Any]
    lateness: rules.Lateness
    days_open: int
    verification_required: int

    def __getattr__(self, name: str) -> Any:
        try:
            return self.row[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def met_all_deadlines(self) -> bool:
        return self.row["missed_deadlines"] == 0 and not self.lateness.overdue

    def as_dict(self) -> dict[str, Any]:
        data = {k: _jsonable(v) for k, v in self.row.items()}
        data.update(
            deadline=_jsonable(self.lateness.deadline), overdue=self.lateness.overdue,
            days_overdue=self.lateness.days_overdue,
            escalation_level=self.lateness.escalation_level, days_open=self.days_open,
            met_all_deadlines=self.met_all_deadlines,
            verification_required=self.verification_required,
        )
        return data


def _parse_jsonable(column: sa.Column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    return value


class Workflow:
    def __init__(self, store: IssueStore, settings: LoopSettings | None = None,
                 clock: Callable[[], datetime] = local_now):
        self.store = store
        self.settings = settings or LoopSettings()
        self.clock = clock
        self.accounts = Accounts(store, self.now)

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    # -- users ----------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, department_code: str | None = None,
                 display_name: str | None = None, email: str | None = None,
                 by: str = SYSTEM) -> Actor:
        return self.accounts.add(name, role, password, department_code, display_name, email, by)

    def authenticate(self, name: str, password: str) -> Actor | None:
        return self.accounts.authenticate(name, password)

    def actor(self, name: str) -> Actor:
        with self.store.begin_read() as conn:
            return active_actor(conn, name)

    def users(self) -> list[dict[str, Any]]:
        return self.accounts.users()

    def recipients(self) -> dict[str, list[str]]:
        """Department -> e-mail addresses of its department owners."""
        found: dict[str, list[str]] = {}
        for user in self.users():
            if user["role"] == rules.DEPARTMENT_OWNER and user["email"]:
                found.setdefault(user["department_code"], []).append(user["email"])
        return found

    # -- reading --------------------------------------------------------------------------

    def view(self, row: Mapping[str, Any], now: datetime | None = None) -> IssueView:
        now = now or self.now()
        late = rules.lateness(row["state"], row["severity"], row["step_started_at"], now,
                              self.settings)
        end = row["closed_at"] or row["cancelled_at"] or now
        return IssueView(dict(row), late, rules.days_between(row["opened_at"], end),
                         self._verification_required(row["kpi_code"]))

    def _verification_required(self, kpi_code: str) -> int:
        # A month KPI is verified on its first complete month after the fix; a hotspot
        # issue (its code is no KPI) on complete days, like a day KPI.
        kpi = kpi_catalog().get(kpi_code)
        return 1 if kpi is not None and kpi.grain == "month" else self.settings.verification_days

    def issue(self, issue_id: int) -> IssueView:
        with self.store.begin_read() as conn:
            return self.view(load_issue(conn, issue_id))

    def issues(self, *, state: str | None = None, severity: str | None = None,
               department: str | None = None, region: str | None = None,
               kpi: str | None = None, overdue: bool | None = None,
               active_only: bool = False) -> list[IssueView]:
        if state is not None:
            rules.require_choice(state, ACTIVE_STATES + FINAL_STATES, "state")
        if severity is not None:
            rules.require_choice(severity, tuple(rules.SEVERITY_RANK), "severity")
        for what, value in (("department", department), ("region", region), ("kpi", kpi)):
            if value is not None and not isinstance(value, str):
                raise MissingField(f"{what} must be text")
        query = sa.select(issues).order_by(issues.c.id)
        for column, wanted in ((issues.c.state, state), (issues.c.severity, severity),
                               (issues.c.owner_department, department),
                               (issues.c.region_code, region), (issues.c.kpi_code, kpi)):
            if wanted is not None:
                query = query.where(column == wanted)
        if active_only:
            query = query.where(issues.c.state.in_(ACTIVE_STATES))
        with self.store.begin_read() as conn:
            rows = conn.execute(query).mappings().all()
        now = self.now()
        views = [self.view(r, now) for r in rows]
        return [v for v in views if overdue is None or v.lateness.overdue == overdue]

    def events(self, issue_id: int) -> list[dict[str, Any]]:
        with self.store.begin_read() as conn:
            load_issue(conn, issue_id)
            rows = conn.execute(sa.select(issue_events).where(issue_events.c.issue_id == issue_id)
                                .order_by(issue_events.c.seq)).mappings().all()
        return [{**r, "changes": json.loads(r["changes"])} for r in rows]

    def evidence(self, issue_id: int) -> list[dict[str, Any]]:
        with self.store.begin_read() as conn:
            rows = conn.execute(sa.select(issue_evidence)
                                .where(issue_evidence.c.issue_id == issue_id)
                                .order_by(issue_evidence.c.period_start, issue_evidence.c.rule)
                                ).mappings().all()
        return [dict(r) for r in rows]

    def evidence_periods(self, kpi_code: str, region_code: str | None = None
                         ) -> dict[tuple[str, str, date], int]:
        """(region, period type, period start) -> the issue whose evidence holds a signal of
        that period of the KPI (any rule; the newest issue where two hold one): what the
        board links a red value to, and how it tells that detection acted on it."""
        query = (sa.select(issue_evidence.c.region_code, issue_evidence.c.period_type,
                           issue_evidence.c.period_start, issue_evidence.c.issue_id)
                 .where(issue_evidence.c.kpi_code == kpi_code)
                 .order_by(issue_evidence.c.issue_id))
        if region_code is not None:
            query = query.where(issue_evidence.c.region_code == region_code)
        with self.store.begin_read() as conn:
            return {(region, period_type, start): issue_id
                    for region, period_type, start, issue_id in conn.execute(query)}

    def replay(self, issue_id: int) -> dict[str, Any]:
        """The issue's content rebuilt from its events alone (the audit trail's proof)."""
        state: dict[str, Any] = {c.name: None for c in issues.columns
                                 if c.name not in BOOKKEEPING}
        for event in self.events(issue_id):
            for name, value in event["changes"].items():
                state[name] = _parse_jsonable(issues.c[name], value)
        return state

    @staticmethod
    def content(row: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in BOOKKEEPING}

    # -- user actions ---------------------------------------------------------------------

    def acknowledge(self, issue_id: int, user: str, responsible: str,
                    expected_version: int | None = None) -> IssueView:
        def change(row, now):
            return {"responsible": rules.require_text(responsible, "responsible person",
                                                      rules.RESPONSIBLE_MAX),
                    "acknowledged_at": now}
        return self._act(issue_id, user, "acknowledge", change, expected_version)

    def plan(self, issue_id: int, user: str, root_cause_category: str, root_cause: str,
             actions: str, target_date: date | str, expected_version: int | None = None
             ) -> IssueView:
        def change(row, now):
            target = rules.require_date(target_date, "target date")
            if target < now.date():
                raise MissingField(f"target date {target} is in the past")
            return {"root_cause_category": rules.require_choice(
                        root_cause_category, ROOT_CAUSE_CATEGORIES, "root-cause category"),
                    "root_cause": rules.require_text(root_cause, "root cause"),
                    "corrective_actions": rules.require_text(actions, "corrective actions"),
                    "target_date": target, "planned_at": now}
        return self._act(issue_id, user, "plan", change, expected_version)

    def claim_fix(self, issue_id: int, user: str, fix_date: date | str, note: str,
                  expected_version: int | None = None) -> IssueView:
        def change(row, now):
            fixed = rules.require_date(fix_date, "fix date")
            if fixed > now.date():
                raise MissingField(f"fix date {fixed} is in the future")
            # A veto issue waits for the quality manager, not for a run of green days.
            return {"fix_date": fixed, "fix_note": rules.require_text(note, "what was done"),
                    "fix_claimed_at": now,
                    "verification_days": 0 if row["change_id"] is None else None}
        return self._act(issue_id, user, "claim_fix", change, expected_version)

    def sign_off(self, issue_id: int, user: str, comment: str,
                 expected_version: int | None = None) -> IssueView:
        def change(row, now):
            return {"sign_off_comment": rules.require_text(comment, "sign-off comment"),
                    "closed_at": now}
        return self._act(issue_id, user, "sign_off", change, expected_version)

    def cancel(self, issue_id: int, user: str, reason: str, note: str,
               expected_version: int | None = None) -> IssueView:
        def change(row, now):
            return {"cancel_reason": rules.require_choice(reason, CANCEL_REASONS, "reason"),
                    "cancel_note": rules.require_text(note, "cancellation text"),
                    "cancelled_at": now}
        return self._act(issue_id, user, "cancel", change, expected_version)

    def comment(self, issue_id: int, user: str, text: str,
                expected_version: int | None = None) -> IssueView:
        def change(row, now):
            rules.require_text(text, "comment text")
            return {}
        return self._act(issue_id, user, "comment", change, expected_version,
                         comment=(text or "").strip())

    def allowed_actions(self, issue_id: int, user: str) -> list[str]:
        with self.store.begin_read() as conn:
            actor = active_actor(conn, user)
            row = load_issue(conn, issue_id)
        return rules.allowed_actions(actor, row["state"], row["owner_department"],
                                     row["origin"])

    def _act(self, issue_id: int, user: str, action_name: str,
             change: Callable[[Mapping[str, Any], datetime], dict[str, Any]],
             expected_version: int | None, comment: str | None = None) -> IssueView:
        now = self.now()
        action = rules.ACTIONS[action_name]
        with self.store.begin_write() as conn:
            actor = active_actor(conn, user)
            row = load_issue(conn, issue_id)
            if actor.role not in action.roles:  # no right at all: say so, whatever the version
                rules.check_allowed(action_name, actor, row["state"], row["owner_department"],
                                    row["origin"])
            if expected_version is not None and row["version"] != expected_version:
                raise ConflictError(
                    f"issue {issue_id} was changed by {row['updated_by']} at "
                    f"{row['updated_at']} (version {row['version']}, you acted on version "
                    f"{expected_version}); reload it and try again")
            rules.check_allowed(action_name, actor, row["state"], row["owner_department"],
                                row["origin"])
            changes = change(row, now)
            if action.to_state is not None:
                changes["state"] = action.to_state
            if rules.STEP_OF_STATE.get(row["state"], (None,))[0] == action_name:
                changes["missed_deadlines"] = row["missed_deadlines"] + self._late_step(row, now)
            new_row = update_issue(conn, row, changes, actor.name, action_name, now, comment)
            if new_row["change_id"] is not None and new_row["state"] in rules.FINAL_STATES:
                # Closing (or cancelling) a veto issue releases its change, in the same
                # transaction.
                release_vetoed_change(conn, new_row, now)
        return self.view(new_row, now)

    def _late_step(self, row: Mapping[str, Any], now: datetime) -> int:
        """1 when the step just taken was past its deadline."""
        return int(rules.lateness(row["state"], row["severity"], row["step_started_at"], now,
                                  self.settings).overdue)

    # -- writing --------------------------------------------------------------------------

    def _open(self, conn: sa.Connection, signal: Signal, origin: str, actor: str,
              now: datetime, owner_department: str | None = None) -> int:
        content = {
            "kpi_code": signal.kpi_code, "region_code": signal.region_code,
            "owner_department": owner_department
            or kpi_catalog()[signal.kpi_code].owner_department,
            "severity": signal.severity, "state": "open", "origin": origin, "opened_at": now,
            "step_started_at": now, "reopen_count": 0, "missed_deadlines": 0,
            "evidence_count": 1, "last_breach_day": signal.breach_day,
        }
        issue_id = conn.execute(issues.insert().values(
            **content, version=1, updated_at=now, updated_by=actor)).inserted_primary_key[0]
        issue_event(conn, issue_id, now, actor, "open", None, "open", content,
                    f"{signal.rule} {signal.detail or ''}".strip())
        self._record_evidence(conn, issue_id, signal, now)
        return issue_id

    @staticmethod
    def _record_evidence(conn: sa.Connection, issue_id: int, signal: Signal,
                         now: datetime) -> None:
        conn.execute(issue_evidence.insert().values(
            issue_id=issue_id, kpi_code=signal.kpi_code, region_code=signal.region_code,
            rule=signal.rule, severity=signal.severity, period_type=signal.period_type,
            period_start=signal.period_start, status=signal.status, value=signal.value,
            numerator=signal.numerator, denominator=signal.denominator, detail=signal.detail,
            recorded_at=now))

    def _add_evidence(self, conn: sa.Connection, row: Mapping[str, Any], signal: Signal,
                      actor: str, now: datetime, extra: Mapping[str, Any] | None = None
                      ) -> Mapping[str, Any]:
        changes = {"evidence_count": row["evidence_count"] + 1,
                   "severity": rules.more_severe(row["severity"], signal.severity),
                   "last_breach_day": max(filter(None, (row["last_breach_day"],
                                                        signal.breach_day)))}
        changes.update(extra or {})
        action = "reopen" if changes.get("state") == "reopened" else "evidence"
        new_row = update_issue(conn, row, changes, actor, action, now,
                               f"{signal.rule} {signal.period_start} {signal.detail or ''}".strip())
        self._record_evidence(conn, row["id"], signal, now)
        return new_row

    # -- the pipeline's side: detection and verification ----------------------------------

    def apply_signals(self, signals: Iterable[Signal], as_of: datetime) -> DetectionOutcome:
        """Act on breaches (closed-loop.md section 1); a signal is acted on once, ever.

        Runs in one transaction: a failure leaves the store as it was.
        """
        outcome = DetectionOutcome()
        now = self.now()
        oldest = as_of.date() - timedelta(days=self.settings.detection_lookback_days)
        with self.store.begin_write() as conn:
            seen = {tuple(r) for r in conn.execute(
                sa.select(issue_evidence.c.kpi_code, issue_evidence.c.region_code,
                          issue_evidence.c.rule, issue_evidence.c.period_type,
                          issue_evidence.c.period_start))}
            for signal in sorted(signals, key=lambda s: (s.period_start, s.kpi_code,
                                                         s.region_code, s.rule)):
                if signal.rule == "R4":
                    outcome.warnings += 1
                elif signal.key in seen:
                    outcome.already_seen += 1
                elif signal.breach_day < oldest:
                    outcome.too_old += 1
                else:
                    self._apply_signal(conn, signal, "detection", SYSTEM, now, outcome)
                    seen.add(signal.key)
        return outcome

    def _apply_signal(self, conn: sa.Connection, signal: Signal, origin: str, actor: str,
                      now: datetime, outcome: DetectionOutcome,
                      owner_department: str | None = None) -> int:
        latest = conn.execute(
            sa.select(issues).where(issues.c.kpi_code == signal.kpi_code,
                                    issues.c.region_code == signal.region_code,
                                    issues.c.change_id.is_(None))  # veto issues: not breaches
            .order_by(issues.c.id.desc()).limit(1)).mappings().first()
        if latest is not None and latest["state"] in ACTIVE_STATES:
            new_row = self._add_evidence(conn, latest, signal, actor, now)
            outcome.evidence_added += 1
            outcome.severity_raised += new_row["severity"] != latest["severity"]
            return latest["id"]
        if latest is not None and latest["state"] == "closed":
            window_end = latest["closed_at"].date() + timedelta(
                days=self.settings.reopen_window_days)
            after_fix = latest["fix_date"] is None or signal.breach_day > latest["fix_date"]
            if signal.breach_day <= window_end and after_fix:
                self._add_evidence(conn, latest, signal, actor, now, self._reopening(latest, now))
                outcome.reopened.append(latest["id"])
                return latest["id"]
            if signal.breach_day <= window_end:
                # Late data about a day before the fix: evidence for the record only.
                self._add_evidence(conn, latest, signal, actor, now)
                outcome.evidence_added += 1
                return latest["id"]
        issue_id = self._open(conn, signal, origin, actor, now, owner_department)
        outcome.opened.append(issue_id)
        return issue_id

    @staticmethod
    def _reopening(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        """A reopened issue starts its deadlines again and waits for a new plan."""
        return {"state": "reopened", "reopen_count": row["reopen_count"] + 1,
                "reopened_at": now, "step_started_at": now, "closed_at": None,
                "sign_off_comment": None, "verified_at": None, "verification_days": None,
                "fix_date": None, "fix_note": None, "fix_claimed_at": None}

    def promote_warning(self, user: str, signal: Signal) -> int:
        """A quality manager turns an R4 early warning into an issue (or evidence)."""
        return self._promote(user, signal, "R4", "promoted", "warning")

    def promote_hotspot(self, user: str, signal: Signal, owner_department: str) -> int:
        """A quality manager turns a hotspot into an issue of the department that owns its
        category, or adds it as evidence to that category and region's active issue.

        The signal's KPI code is the category's hotspot issue code (seed hotspot_owners:
        a hotspot has no KPI), its rule HS, its period the hotspot's day; origin "hotspot"."""
        return self._promote(user, signal, rules.HOTSPOT_RULE, rules.HOTSPOT_ORIGIN, "hotspot",
                             owner_department)

    def _promote(self, user: str, signal: Signal, rule: str, origin: str, what: str,
                 owner_department: str | None = None) -> int:
        """An early warning promoted by a quality manager, through the same path as a
        detected breach; each warning once (its evidence key)."""
        now = self.now()
        with self.store.begin_write() as conn:
            actor = active_actor(conn, user)
            if actor.role != QUALITY_MANAGER:
                raise PermissionRefused(f"promoting a {what} needs a quality manager; "
                                        f"{actor.name} is a {actor.role.replace('_', ' ')}")
            if signal.rule != rule:
                raise InvalidTransition(f"only {rule} signals are promoted as a {what}, "
                                        f"not {signal.rule}")
            if owner_department is not None:
                rules.require_choice(owner_department, tuple(departments()), "owner department")
            promoted = conn.execute(sa.select(issue_evidence.c.issue_id).where(
                issue_evidence.c.kpi_code == signal.kpi_code,
                issue_evidence.c.region_code == signal.region_code,
                issue_evidence.c.rule == signal.rule,
                issue_evidence.c.period_start == signal.period_start)).first()
            if promoted:
                raise InvalidTransition(f"the {signal.kpi_code} {signal.region_code} {what} of "
                                        f"{signal.period_start} was promoted already "
                                        f"(issue {promoted[0]})")
            return self._apply_signal(conn, signal, origin, actor.name, now,
                                      DetectionOutcome(), owner_department)

    def verify(self, statuses: Mapping[tuple[str, str], Sequence[tuple[date, str]]]
               ) -> VerificationOutcome:
        """Verification after each run: `statuses` maps (KPI, region) to its complete
        periods (day rows; month rows for month KPIs) with their status."""
        outcome = VerificationOutcome()
        now = self.now()
        with self.store.begin_write() as conn:
            # Veto issues are accepted by a quality manager, not by the KPI rule.
            rows = conn.execute(sa.select(issues).where(issues.c.state == "verifying",
                                                        issues.c.change_id.is_(None))
                                .order_by(issues.c.id)).mappings().all()
            for row in rows:
                after_fix = sorted((day, status) for day, status in
                                   statuses.get((row["kpi_code"], row["region_code"]), ())
                                   if day > row["fix_date"])
                required = self._verification_required(row["kpi_code"])
                verdict, day, held = _verification_verdict(after_fix, required)
                if verdict == "reopen":
                    update_issue(conn, row, self._reopening(row, now), SYSTEM, "reopen", now,
                                 f"red on {day} after the fix date")
                    outcome.reopened.append(row["id"])
                elif verdict == "verified":
                    update_issue(conn, row, {"state": "verified", "verified_at": now,
                                             "verification_days": required}, SYSTEM, "verify",
                                 now, f"at target on {required} complete periods after the "
                                      f"fix, the last on {day}")
                    outcome.verified.append(row["id"])
                elif held != row["verification_days"]:
                    update_issue(conn, row, {"verification_days": held}, SYSTEM,
                                 "verification_progress", now)
                    outcome.progressed += 1
        return outcome


def _verification_verdict(periods: Sequence[tuple[date, str]], required: int
                          ) -> tuple[str, date | None, int]:
    """Walk the complete periods after the fix date in order; the first decisive one wins:
    a red period reopens, a run of `required` green periods verifies. So the outcome does
    not depend on how many periods one run sees. Periods without a value (no_data) neither
    count nor break the run; amber breaks it. Returns (verdict, deciding day, run so far)."""
    held = 0
    for day, status in periods:
        if status == "red":
            return "reopen", day, 0
        if status == "green":
            held += 1
            if held >= required:
                return "verified", day, held
        elif status != "no_data":
            held = 0
    return "pending", None, held


def release_vetoed_change(conn: sa.Connection, issue: Mapping[str, Any], now: datetime) -> None:
    """vetoed -> registered when the change's veto issue is closed or cancelled: the change
    waits for a new experience test (changes.py). No-op for a change in any other state."""
    row = load_change(conn, issue["change_id"])
    if row["state"] != "vetoed":
        return
    update_change(conn, row, {"state": "registered"}, SYSTEM, "release", now,
                  f"issue {issue['id']} {issue['state']}: a new experience test is needed")
