"""The closed loop's rules as pure functions: states, who may do what, deadlines and
escalation (closed-loop.md sections 2-4). The workflow service applies them."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .schema import ACTIVE_STATES, FINAL_STATES

QUALITY_MANAGER, DEPARTMENT_OWNER, VIEWER = "quality_manager", "department_owner", "viewer"
ROLES = (QUALITY_MANAGER, DEPARTMENT_OWNER, VIEWER)
SYSTEM = "system"

ROOT_CAUSE_CATEGORIES = ("process", "staffing", "system", "network", "partner", "customer",
                         "data", "other")
CANCEL_REASONS = ("false_alarm", "data_error", "duplicate", "other")
SEVERITY_RANK = {"P1": 1, "P2": 2, "P3": 3}  # lower is more severe

# The longest text accepted, in characters, for the CLI and the board alike: the column
# sizes of the store, and a bound on free text, which the audit trail keeps for good.
NAME_MAX = 64  # user names
DISPLAY_NAME_MAX = 128
EMAIL_MAX = 256
RESPONSIBLE_MAX = 128  # issues.responsible
TITLE_MAX = 200  # changes.title
TEXT_MAX = 4000  # root cause, actions, notes, comments, reasons, descriptions
PASSWORD_MIN, PASSWORD_MAX = 8, 1024


class WorkflowError(Exception):
    """An action refused: its message is the one line a user sees."""


class PermissionRefused(WorkflowError):
    pass


class InvalidTransition(WorkflowError):
    pass


class MissingField(WorkflowError):
    pass


class ConflictError(WorkflowError):
    """The issue changed since the version the user acted on."""


class NotFound(WorkflowError):
    pass


class TooLong(WorkflowError):
    pass


@dataclass(frozen=True)
class Action:
    name: str
    from_states: tuple[str, ...]
    to_state: str | None  # None: the state does not change (comment)
    roles: tuple[str, ...]


# Who may take each user action, from which states (closed-loop.md section 3). The system
# transitions (verified, reopened) are not user actions.
ACTIONS = {
    a.name: a for a in (
        Action("acknowledge", ("open",), "acknowledged", (DEPARTMENT_OWNER, QUALITY_MANAGER)),
        Action("plan", ("acknowledged", "reopened"), "in_progress", (DEPARTMENT_OWNER,)),
        Action("claim_fix", ("in_progress",), "verifying", (DEPARTMENT_OWNER,)),
        Action("sign_off", ("verified",), "closed", (QUALITY_MANAGER,)),
        Action("cancel", ACTIVE_STATES, "cancelled", (QUALITY_MANAGER,)),
        Action("comment", ACTIVE_STATES + FINAL_STATES, None,
               (DEPARTMENT_OWNER, QUALITY_MANAGER)),
    )
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    department_code: str | None = None


# A veto issue (opened by a change's pre-launch veto, origin "veto") is not verified by the
# KPI rule: after the fix is claimed it waits in `verifying` for the quality manager, whose
# sign-off is the acceptance of the fix (docs/decisions.md, "change register").
VETO_ORIGIN = "veto"
VETO_SIGN_OFF_FROM = ("verifying",)

# A hotspot (an early warning about what customers contact the operator about) promoted by
# a quality manager: its evidence rule, and the origin. Its issue is verified on
# the hotspot's series, not on a KPI (docs/decisions.md, "Hotspots").
HOTSPOT_RULE = "HS"
HOTSPOT_ORIGIN = "hotspot"


def from_states(action_name: str, origin: str | None = None) -> tuple[str, ...]:
    if action_name == "sign_off" and origin == VETO_ORIGIN:
        return VETO_SIGN_OFF_FROM
    return ACTIONS[action_name].from_states


def check_allowed(action_name: str, actor: Actor, state: str, owner_department: str,
                  origin: str | None = None) -> None:
    """Raise the reason `actor` may not take the action on an issue in `state`."""
    action = ACTIONS[action_name]
    if actor.role not in action.roles:
        allowed = " or ".join(r.replace("_", " ") for r in action.roles)
        raise PermissionRefused(f"{action_name} needs a {allowed}; "
                                f"{actor.name} is a {actor.role.replace('_', ' ')}")
    if actor.role == DEPARTMENT_OWNER and actor.department_code != owner_department:
        raise PermissionRefused(f"{actor.name} owns department {actor.department_code}; "
                                f"this issue belongs to {owner_department}")
    states = from_states(action_name, origin)
    if state not in states:
        raise InvalidTransition(f"cannot {action_name} an issue that is {state} "
                                f"(needs {' or '.join(states)})")


def allowed_actions(actor: Actor, state: str, owner_department: str,
                    origin: str | None = None) -> list[str]:
    allowed = []
    for name in ACTIONS:
        try:
            check_allowed(name, actor, state, owner_department, origin)
        except WorkflowError:
            continue
        allowed.append(name)
    return allowed


@dataclass(frozen=True)
class LoopSettings:
    """The closed loop's numbers marked *(setting)* in the spec, plus deadlines."""

    # severity -> days to acknowledge, to plan, to claim the fix (from opening/reopening)
    deadline_days: dict[str, tuple[int, int, int]] = field(default_factory=lambda: {
        "P1": (1, 2, 7), "P2": (2, 5, 14), "P3": (3, 10, 30)})
    verification_days: int = 7
    reopen_window_days: int = 90
    escalation_days: tuple[int, int] = (7, 14)
    # Breaches older than this (days before T) do not open issues: a first load of a long
    # history should not bury the department in stale alarms.
    detection_lookback_days: int = 28

    @classmethod
    def from_env(cls) -> "LoopSettings":
        def number(name: str, default: int) -> int:
            raw = os.environ.get(name)
            if raw is None or raw == "":
                return default
            if not raw.isdigit():
                raise ValueError(f"{name} must be a whole number of days, got {raw!r}")
            return int(raw)

        return cls(verification_days=number("QLOOP_VERIFICATION_DAYS", 7),
                   reopen_window_days=number("QLOOP_REOPEN_WINDOW_DAYS", 90),
                   detection_lookback_days=number("QLOOP_DETECTION_LOOKBACK_DAYS", 28))


# The step each state waits for, and which of the three deadlines applies to it.
STEP_OF_STATE = {"open": ("acknowledge", 0), "acknowledged": ("plan", 1),
                 "reopened": ("plan", 1), "in_progress": ("claim_fix", 2)}


def step_deadline(state: str, severity: str, step_started_at: datetime,
                  settings: LoopSettings) -> datetime | None:
    """The deadline of the current step; None when the next step is not a person's."""
    step = STEP_OF_STATE.get(state)
    if step is None:
        return None
    return step_started_at + timedelta(days=settings.deadline_days[severity][step[1]])


@dataclass(frozen=True)
class Lateness:
    deadline: datetime | None
    overdue: bool
    days_overdue: int  # whole days past the deadline (0 when not overdue)
    escalation_level: int  # 0, 1 (department head), 2 (general manager)


def lateness(state: str, severity: str, step_started_at: datetime, now: datetime,
             settings: LoopSettings) -> Lateness:
    deadline = step_deadline(state, severity, step_started_at, settings)
    if deadline is None or now <= deadline:
        return Lateness(deadline, False, 0, 0)
    late_by = now - deadline
    first, second = settings.escalation_days
    level = 2 if late_by > timedelta(days=second) else 1 if late_by > timedelta(days=first) else 0
    return Lateness(deadline, True, late_by.days, level)


def days_between(start: datetime, end: datetime) -> int:
    """Whole days from start to end, counting a started day (an issue opened an hour ago
    has been open 1 day)."""
    return max(0, math.ceil((end - start) / timedelta(days=1)))


def more_severe(a: str, b: str) -> str:
    return a if SEVERITY_RANK[a] <= SEVERITY_RANK[b] else b


def require_text(value: str | None, what: str, max_length: int = TEXT_MAX) -> str:
    text = optional_text(value, what, max_length)
    if text is None:
        raise MissingField(f"{what} is required")
    return text


def optional_text(value: str | None, what: str, max_length: int = TEXT_MAX) -> str | None:
    """The stripped text, or None when empty."""
    if value is not None and not isinstance(value, str):
        raise MissingField(f"{what} must be text")
    text = (value or "").strip()
    return limit_text(text, what, max_length) if text else None


def limit_text(text: str, what: str, max_length: int) -> str:
    if len(text) > max_length:
        raise TooLong(f"{what} is too long: {len(text)} characters, at most {max_length}")
    return text


def require_choice(value: str | None, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise MissingField(f"{what} must be one of {', '.join(choices)} (got {value!r})")
    return value


def require_date(value: date | str | None, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise MissingField(f"{what} must be a date YYYY-MM-DD (got {value!r})") from None


# Ids are 64-bit integers in every database the store runs on.
LARGEST_ID = 2**63 - 1


def require_id(value: object, what: str) -> int:
    """An id as a number the store can hold; anything else names nothing there."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= LARGEST_ID:
        raise NotFound(f"{what} {value!r} does not exist")
    return value
