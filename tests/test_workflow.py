"""The closed loop's workflow service against a real SQLite issue store (closed-loop.md).

Every test gets its own store in tmp_path and a clock it moves by hand. Issues are brought
into each state by driving the workflow (detection, user actions, verification), never by
writing SQL. Two session templates (migrated store + users; the same plus one issue in
each of the eight states) are built once that way and copied per test, because password
hashing (scrypt) makes creating users slow.

Expected values are worked out by hand from the spec table and the decided readings:
plan/claim_fix by the owning department's owner; acknowledge by that owner or a quality
manager; sign_off and cancel by a quality manager; comment by quality managers and the
owning department's owners; viewers nothing. Deadlines count from step_started_at.
Cross-process concurrency is in test_workflow_concurrency.py.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from dagster_project.lib.remediation import rules
from dagster_project.lib.remediation.rules import (
    Actor,
    ConflictError,
    InvalidTransition,
    LoopSettings,
    MissingField,
    NotFound,
    PermissionRefused,
    WorkflowError,
)
from dagster_project.lib.remediation.schema import issue_events, issue_evidence, issues, users
from dagster_project.lib.remediation.store import open_store
from dagster_project.lib.remediation.workflow import Signal, Workflow

T0 = datetime(2026, 11, 2, 9, 0, 0)
PASSWORD = "correct horse battery"
QM, OWNER, OTHER, VIEWER = "qm", "owner", "other_owner", "viewer"
USERS = (
    (QM, "quality_manager", None),
    (OWNER, "department_owner", "CHANNEL"),  # K01 belongs to CHANNEL
    (OTHER, "department_owner", "HOTLINE"),
    (VIEWER, "viewer", None),
)
SEVERITY_OF_RULE = {"R1": "P2", "R2": "P1", "R3": "P3", "R4": "P3"}
STATES = ("open", "acknowledged", "in_progress", "verifying", "verified", "closed",
          "reopened", "cancelled")
ACTIVE = ("open", "acknowledged", "in_progress", "verifying", "verified", "reopened")
ACTION_NAMES = ("acknowledge", "plan", "claim_fix", "sign_off", "cancel", "comment")
ROLE_USERS = (QM, OWNER, OTHER, VIEWER)
S = LoopSettings()

# action -> (states it is taken from, users who may take it on a CHANNEL issue), by hand
# from closed-loop.md section 3 and the decided readings.
ALLOWED = {
    "acknowledge": ({"open"}, {QM, OWNER}),
    "plan": ({"acknowledged", "reopened"}, {OWNER}),
    "claim_fix": ({"in_progress"}, {OWNER}),
    "sign_off": ({"verified"}, {QM}),
    "cancel": (set(ACTIVE), {QM}),
    "comment": (set(STATES), {QM, OWNER}),
}
TO_STATE = {"acknowledge": "acknowledged", "plan": "in_progress", "claim_fix": "verifying",
            "sign_off": "closed", "cancel": "cancelled", "comment": None}


# --------------------------------------------------------------------------- helpers


def sig(kpi: str = "K01", region: str = "GZ", rule: str = "R1", day: date = date(2026, 11, 1),
        severity: str | None = None, period_type: str = "day") -> Signal:
    return Signal(kpi_code=kpi, region_code=region, rule=rule,
                  severity=severity or SEVERITY_OF_RULE[rule], period_type=period_type,
                  period_start=day, status="red", value=0.8, numerator=80, denominator=100,
                  detail=f"{rule} on {day}")


def greens(fix: date, n: int) -> list[tuple[date, str]]:
    return [(fix + timedelta(days=i), "green") for i in range(1, n + 1)]


def copy_db(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    for suffix in ("-wal",):
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")


class Env:
    """A store, a workflow on it and the clock it reads."""

    def __init__(self, path: Path, now: datetime):
        self.path = path
        self.url = f"sqlite:///{path}"
        self.store = open_store(self.url)
        self.now = [now]
        self.wf = Workflow(self.store, clock=lambda: self.now[0])

    def at(self, when: datetime) -> datetime:
        self.now[0] = when
        return when

    def later(self, **delta) -> datetime:
        self.now[0] += timedelta(**delta)
        return self.now[0]

    @property
    def today(self) -> date:
        return self.now[0].date()

    def row(self, issue_id: int) -> dict:
        return dict(self.wf.issue(issue_id).row)

    def snapshot(self) -> dict[str, list[tuple]]:
        with self.store.begin_read() as conn:
            return {t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(t.c.id))]
                    for t in (issues, issue_events, issue_evidence, users)}

    def detect(self, *signals: Signal, as_of: datetime | None = None):
        return self.wf.apply_signals(list(signals), as_of=as_of or self.now[0])

    def close(self) -> None:
        self.store.dispose()


def call(wf: Workflow, action: str, issue_id: int, user: str, today: date, **override):
    """Take `action` with valid arguments unless overridden."""
    args = {
        "acknowledge": dict(responsible="Li Si"),
        "plan": dict(root_cause_category="process", root_cause="too few windows at peak",
                     actions="open two more windows 10:00-12:00",
                     target_date=today + timedelta(days=10)),
        "claim_fix": dict(fix_date=today, note="two windows opened"),
        "sign_off": dict(comment="held for seven days"),
        "cancel": dict(reason="false_alarm", note="the store was closed for renovation"),
        "comment": dict(text="looking into it"),
    }[action]
    args.update(override)
    return getattr(wf, action)(issue_id, user, **args)


def drive(env: Env, target: str, kpi: str = "K01", region: str = "GZ", rule: str = "R1",
          owner: str = OWNER, signal: Signal | None = None) -> int:
    """Open an issue by detection at the current clock and drive it into `target`.

    Timeline (s = clock at the start): signal for day s-1 opens it at s; acknowledge, plan
    and claim the fix (fix date = s's date) at s; verified at s+8d by seven green days;
    signed off at s+8d; reopened at s+9d by a red day s+8d (after the fix, within 90 days).
    """
    wf = env.wf
    start = env.now[0]
    fix = start.date()
    outcome = env.detect(signal or sig(kpi, region, rule, start.date() - timedelta(days=1)))
    assert len(outcome.opened) == 1
    issue_id = outcome.opened[0]
    if target == "open":
        return issue_id
    if target == "cancelled":
        wf.cancel(issue_id, QM, "false_alarm", "store closed for renovation")
        return issue_id
    wf.acknowledge(issue_id, QM, "Zhang San")
    if target == "acknowledged":
        return issue_id
    wf.plan(issue_id, owner, "process", "too few windows at peak", "open two more windows",
            start.date() + timedelta(days=20))
    if target == "in_progress":
        return issue_id
    wf.claim_fix(issue_id, owner, fix, "two windows opened")
    if target == "verifying":
        return issue_id
    env.at(start + timedelta(days=8))
    assert wf.verify({(kpi, region): greens(fix, 7)}).verified == [issue_id]
    if target == "verified":
        return issue_id
    wf.sign_off(issue_id, QM, "held for seven days")
    if target == "closed":
        return issue_id
    env.later(days=1)
    outcome = env.detect(sig(kpi, region, "R1", env.today - timedelta(days=1)))
    assert outcome.reopened == [issue_id]
    assert target == "reopened"
    return issue_id


@dataclass
class Templates:
    users: Path
    states: Path
    ids: dict[str, int]
    end: datetime


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Templates:
    base = tmp_path_factory.mktemp("workflow_templates")
    env = Env(base / "users.sqlite", T0)
    for name, role, department in USERS:
        env.wf.add_user(name, role, PASSWORD, department, email=f"{name}@example.com")
    env.close()
    copy_db(base / "users.sqlite", base / "states.sqlite")
    env = Env(base / "states.sqlite", T0)
    ids = {}
    for number, state in enumerate(STATES):
        ids[state] = drive(env, state, region=f"C{number}")
    for state, issue_id in ids.items():
        assert env.wf.issue(issue_id).state == state
    end = env.now[0]
    env.close()
    return Templates(base / "users.sqlite", base / "states.sqlite", ids, end)


@pytest.fixture
def env(templates, tmp_path):
    """A store with the four users and no issue; clock at T0."""
    copy_db(templates.users, tmp_path / "issues.sqlite")
    e = Env(tmp_path / "issues.sqlite", T0)
    yield e
    e.close()


@pytest.fixture
def states_env(templates, tmp_path):
    """A store with one K01 issue in each state (ids in templates.ids)."""
    copy_db(templates.states, tmp_path / "issues.sqlite")
    e = Env(tmp_path / "issues.sqlite", templates.end)
    yield e
    e.close()


# --------------------------------------------------------------------------- 1. permissions


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("user", ROLE_USERS)
@pytest.mark.parametrize("action", ACTION_NAMES)
def test_permission_matrix(action, user, state, states_env, templates):
    env = states_env
    issue_id = templates.ids[state]
    states, who = ALLOWED[action]
    before = env.snapshot()
    row = env.row(issue_id)
    assert row["state"] == state and row["owner_department"] == "CHANNEL"
    # what the board offers is what the service allows
    offered = env.wf.allowed_actions(issue_id, user)
    assert set(offered) <= set(ACTION_NAMES)
    assert (action in offered) == (state in states and user in who)
    if state in states and user in who:
        view = call(env.wf, action, issue_id, user, env.today)
        expected_state = TO_STATE[action] or state
        assert view.state == expected_state
        assert view.version == row["version"] + 1
        assert view.updated_by == user
        after = env.snapshot()
        # only this issue's row changed; one event appended; evidence and users untouched
        assert [r for r in after["issues"] if r[0] != issue_id] == \
               [r for r in before["issues"] if r[0] != issue_id]
        assert after["issue_events"][:len(before["issue_events"])] == before["issue_events"]
        assert len(after["issue_events"]) == len(before["issue_events"]) + 1
        assert after["issue_evidence"] == before["issue_evidence"]
        assert after["users"] == before["users"]
        events = env.wf.events(issue_id)
        last = events[-1]
        assert (last["actor"], last["action"], last["from_state"], last["to_state"]) == \
               (user, action, state, expected_state)
        assert last["seq"] == len(events) == events[-2]["seq"] + 1
    else:
        expected = InvalidTransition if user in who else PermissionRefused
        with pytest.raises(WorkflowError) as info:
            call(env.wf, action, issue_id, user, env.today)
        assert type(info.value) is expected
        if expected is PermissionRefused:
            assert user in str(info.value)
        else:
            assert f"is {state}" in str(info.value)
        assert env.snapshot() == before


def test_the_matrix_names_every_user_action():
    # the system's transitions (verify, reopen, ...) are not user actions
    assert set(rules.ACTIONS) == set(ACTION_NAMES)


def test_a_hotline_owner_acts_on_hotline_issues_only(env):
    hotline = drive(env, "acknowledged", kpi="K02", region="GZ", owner=OTHER)  # K02: HOTLINE
    assert env.wf.issue(hotline).state == "acknowledged"
    with pytest.raises(PermissionRefused, match="belongs to HOTLINE"):
        call(env.wf, "plan", hotline, OWNER, env.today)
    view = call(env.wf, "plan", hotline, OTHER, env.today)
    assert view.state == "in_progress" and view.owner_department == "HOTLINE"


def test_stale_expected_version_is_a_conflict_and_changes_nothing(states_env, templates):
    env = states_env
    issue_id = templates.ids["open"]
    version = env.row(issue_id)["version"]
    env.wf.comment(issue_id, OWNER, "first", expected_version=version)
    before = env.snapshot()
    with pytest.raises(ConflictError, match=f"issue {issue_id} was changed by {OWNER}"):
        env.wf.acknowledge(issue_id, QM, "Li Si", expected_version=version)
    assert env.snapshot() == before
    view = env.wf.acknowledge(issue_id, QM, "Li Si", expected_version=version + 1)
    assert view.version == version + 2


def test_unknown_issue_and_unknown_user(states_env, templates):
    before = states_env.snapshot()
    with pytest.raises(NotFound, match="issue 999"):
        states_env.wf.comment(999, QM, "hello")
    with pytest.raises(NotFound, match="nobody"):
        states_env.wf.comment(templates.ids["open"], "nobody", "hello")
    with pytest.raises(NotFound):
        states_env.wf.events(999)
    assert states_env.snapshot() == before


# --------------------------------------------------------------------------- 2. required fields

FIELD_CASES = [
    ("acknowledge", "open", OWNER, {"responsible": ""}, "responsible person"),
    ("acknowledge", "open", QM, {"responsible": "   "}, "responsible person"),
    ("acknowledge", "open", OWNER, {"responsible": None}, "responsible person"),
    ("plan", "acknowledged", OWNER, {"root_cause_category": "weather"}, "root-cause category"),
    ("plan", "acknowledged", OWNER, {"root_cause_category": None}, "root-cause category"),
    ("plan", "acknowledged", OWNER, {"root_cause_category": "Process"}, "root-cause category"),
    ("plan", "acknowledged", OWNER, {"root_cause": ""}, "root cause"),
    ("plan", "acknowledged", OWNER, {"root_cause": " \n "}, "root cause"),
    ("plan", "acknowledged", OWNER, {"actions": ""}, "corrective actions"),
    ("plan", "acknowledged", OWNER, {"target_date": "yesterday"}, "target date"),
    ("plan", "acknowledged", OWNER, {"target_date": "2026-02-30"}, "target date"),
    ("plan", "acknowledged", OWNER, {"target_date": "next week"}, "target date"),
    ("plan", "acknowledged", OWNER, {"target_date": None}, "target date"),
    ("plan", "reopened", OWNER, {"root_cause_category": ""}, "root-cause category"),
    ("plan", "reopened", OWNER, {"target_date": "yesterday"}, "target date"),
    ("claim_fix", "in_progress", OWNER, {"fix_date": "tomorrow"}, "fix date"),
    ("claim_fix", "in_progress", OWNER, {"fix_date": "2026/11/01"}, "fix date"),
    ("claim_fix", "in_progress", OWNER, {"fix_date": None}, "fix date"),
    ("claim_fix", "in_progress", OWNER, {"note": ""}, "what was done"),
    ("sign_off", "verified", QM, {"comment": ""}, "sign-off comment"),
    ("sign_off", "verified", QM, {"comment": "   "}, "sign-off comment"),
    ("cancel", "open", QM, {"reason": "not_needed"}, "reason"),
    ("cancel", "verifying", QM, {"reason": None}, "reason"),
    ("cancel", "open", QM, {"note": ""}, "cancellation text"),
    ("comment", "open", OWNER, {"text": ""}, "comment text"),
    ("comment", "closed", QM, {"text": "  "}, "comment text"),
]


@pytest.mark.parametrize("action,state,user,override,field_name", FIELD_CASES)
def test_required_field_refused_naming_it(action, state, user, override, field_name,
                                          states_env, templates):
    env = states_env
    relative = {"yesterday": env.today - timedelta(days=1),
                "tomorrow": env.today + timedelta(days=1)}
    override = {k: relative.get(v, v) if isinstance(v, str) else v
                for k, v in override.items()}
    issue_id = templates.ids[state]
    before = env.snapshot()
    with pytest.raises(MissingField) as info:
        call(env.wf, action, issue_id, user, env.today, **override)
    assert isinstance(info.value, WorkflowError)
    assert str(info.value).startswith(field_name)
    if override.get("target_date") == env.today - timedelta(days=1):
        assert "in the past" in str(info.value)
    if override.get("fix_date") == env.today + timedelta(days=1):
        assert "in the future" in str(info.value)
    assert env.snapshot() == before


def test_boundary_dates_accepted_and_stored(states_env, templates):
    env = states_env
    today = env.today
    view = env.wf.plan(templates.ids["acknowledged"], OWNER, "network", " fibre cut ",
                       " re-route ", today.isoformat())
    assert view.state == "in_progress"
    assert view.target_date == today  # today is not in the past
    assert (view.root_cause, view.corrective_actions) == ("fibre cut", "re-route")  # stripped
    view = env.wf.claim_fix(templates.ids["in_progress"], OWNER, today, "done")
    assert view.fix_date == today and view.verification_days == 0  # today is not the future
    view = env.wf.cancel(templates.ids["open"], QM, "duplicate", " same as #1 ")
    assert (view.cancel_reason, view.cancel_note, view.cancelled_at) == \
           ("duplicate", "same as #1", env.now[0])


def test_every_listed_category_and_reason_accepted(env):
    for number, category in enumerate(rules.ROOT_CAUSE_CATEGORIES):
        issue_id = drive(env, "acknowledged", region=f"P{number}")
        assert env.wf.plan(issue_id, OWNER, category, "why", "what",
                           env.today).root_cause_category == category
    assert rules.ROOT_CAUSE_CATEGORIES == ("process", "staffing", "system", "network",
                                           "partner", "customer", "data", "other")
    for number, reason in enumerate(("false_alarm", "data_error", "duplicate", "other")):
        issue_id = drive(env, "open", region=f"Q{number}")
        assert env.wf.cancel(issue_id, QM, reason, "because").cancel_reason == reason


# --------------------------------------------------------------------------- 3. deadlines

# severity -> (acknowledge, plan, claim fix) deadlines for an issue opened at T0, by hand
DEADLINES = {
    "P1": (datetime(2026, 11, 3, 9), datetime(2026, 11, 4, 9), datetime(2026, 11, 9, 9)),
    "P2": (datetime(2026, 11, 4, 9), datetime(2026, 11, 7, 9), datetime(2026, 11, 16, 9)),
    "P3": (datetime(2026, 11, 5, 9), datetime(2026, 11, 12, 9), datetime(2026, 12, 2, 9)),
}
RULE_OF_SEVERITY = {"P1": "R2", "P2": "R1", "P3": "R3"}
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize("severity", ["P1", "P2", "P3"])
def test_pure_step_deadlines(severity):
    ack, plan, fix = DEADLINES[severity]
    for state, deadline in (("open", ack), ("acknowledged", plan), ("reopened", plan),
                            ("in_progress", fix)):
        assert rules.step_deadline(state, severity, T0, S) == deadline
        at = rules.lateness(state, severity, T0, deadline, S)
        assert (at.deadline, at.overdue, at.days_overdue, at.escalation_level) == \
               (deadline, False, 0, 0)
        after = rules.lateness(state, severity, T0, deadline + SECOND, S)
        assert (after.overdue, after.days_overdue, after.escalation_level) == (True, 0, 0)
    for state in ("verifying", "verified", "closed", "cancelled"):
        assert rules.step_deadline(state, severity, T0, S) is None
        late = rules.lateness(state, severity, T0, T0 + timedelta(days=400), S)
        assert (late.deadline, late.overdue, late.escalation_level) == (None, False, 0)


@pytest.mark.parametrize("severity", ["P1", "P2", "P3"])
def test_acknowledge_deadline_boundary_through_the_workflow(severity, env):
    issue_id = env.detect(sig(rule=RULE_OF_SEVERITY[severity])).opened[0]
    view = env.wf.issue(issue_id)
    assert (view.severity, view.opened_at, view.step_started_at) == (severity, T0, T0)
    deadline = DEADLINES[severity][0]
    env.at(deadline)
    view = env.wf.issue(issue_id)
    assert view.lateness.deadline == deadline and not view.lateness.overdue
    assert env.wf.issues(overdue=True) == []
    env.at(deadline + SECOND)
    view = env.wf.issue(issue_id)
    assert view.lateness.overdue and view.lateness.days_overdue == 0
    assert [v.id for v in env.wf.issues(overdue=True)] == [issue_id]
    assert view.as_dict()["overdue"] is True and view.as_dict()["deadline"] == \
        deadline.isoformat(sep=" ")


def test_escalation_levels_at_7_and_14_days(env):
    issue_id = env.detect(sig(rule="R1")).opened[0]  # P2, acknowledge by 2026-11-04 09:00
    cases = [
        (datetime(2026, 11, 4, 9, 0, 0), False, 0, 0),
        (datetime(2026, 11, 4, 9, 0, 1), True, 0, 0),
        (datetime(2026, 11, 11, 9, 0, 0), True, 7, 0),   # exactly 7 days late: not yet
        (datetime(2026, 11, 11, 9, 0, 1), True, 7, 1),
        (datetime(2026, 11, 18, 9, 0, 0), True, 14, 1),  # exactly 14 days late: still 1
        (datetime(2026, 11, 18, 9, 0, 1), True, 14, 2),
        (datetime(2027, 1, 1, 0, 0, 0), True, 57, 2),
    ]
    for now, overdue, days, level in cases:
        env.at(now)
        late = env.wf.issue(issue_id).lateness
        assert (late.overdue, late.days_overdue, late.escalation_level) == \
               (overdue, days, level), now


def test_each_step_has_its_deadline_counted_from_the_opening(env):
    issue_id = env.detect(sig(rule="R2")).opened[0]  # P1 at T0
    ack, plan, fix = DEADLINES["P1"]
    assert env.wf.issue(issue_id).lateness.deadline == ack
    env.at(T0 + timedelta(hours=20))
    view = env.wf.acknowledge(issue_id, OWNER, "Li Si")
    # the plan deadline is 2 days from the opening, not from the acknowledgement
    assert view.lateness.deadline == plan == datetime(2026, 11, 4, 9)
    assert view.step_started_at == T0 and view.acknowledged_at == T0 + timedelta(hours=20)
    view = env.wf.plan(issue_id, OWNER, "system", "queue system down", "replace it",
                       env.today + timedelta(days=3))
    assert view.lateness.deadline == fix == datetime(2026, 11, 9, 9)
    view = env.wf.claim_fix(issue_id, OWNER, env.today, "replaced")
    assert view.lateness.deadline is None
    env.at(datetime(2027, 6, 1))
    late = env.wf.issue(issue_id).lateness
    assert (late.deadline, late.overdue, late.escalation_level) == (None, False, 0)
    assert env.wf.issue(issue_id).missed_deadlines == 0


def test_missed_deadlines_counted_when_a_step_is_done_late(env):
    issue_id = env.detect(sig(rule="R1")).opened[0]  # P2 at T0: 11-04, 11-07, 11-16 09:00
    env.at(datetime(2026, 11, 4, 9, 0, 0))  # exactly at the deadline: in time
    view = env.wf.acknowledge(issue_id, QM, "Li Si")
    assert view.missed_deadlines == 0 and view.met_all_deadlines
    env.at(datetime(2026, 11, 7, 9, 0, 1))  # one second late
    assert env.wf.issue(issue_id).lateness.overdue
    view = env.wf.plan(issue_id, OWNER, "staffing", "sick leave", "hire", env.today)
    assert view.missed_deadlines == 1 and not view.met_all_deadlines
    assert not view.lateness.overdue  # the claim-fix deadline (11-16) is not reached
    env.at(datetime(2026, 11, 16, 9, 0, 1))
    view = env.wf.claim_fix(issue_id, OWNER, env.today, "hired two agents")
    assert view.missed_deadlines == 2
    # a comment is not a step: it neither counts nor resets
    env.wf.comment(issue_id, QM, "late again")
    assert env.wf.issue(issue_id).missed_deadlines == 2
    events = env.wf.events(issue_id)
    assert [e["changes"].get("missed_deadlines") for e in events[1:]] == [None, 1, 2, None]


def test_deadlines_restart_at_reopening(env):
    issue_id = drive(env, "closed")  # P2; closed at T0 + 8 days
    assert env.row(issue_id)["closed_at"] == datetime(2026, 11, 10, 9)
    reopen_at = env.at(datetime(2026, 12, 1, 15, 30, 0))
    assert env.detect(sig(day=date(2026, 11, 30))).reopened == [issue_id]
    view = env.wf.issue(issue_id)
    assert (view.state, view.step_started_at, view.reopened_at) == \
           ("reopened", reopen_at, reopen_at)
    plan_deadline = datetime(2026, 12, 6, 15, 30, 0)  # P2 plan: 5 days from the reopening
    assert view.lateness.deadline == plan_deadline
    env.at(plan_deadline)
    assert not env.wf.issue(issue_id).lateness.overdue
    env.at(plan_deadline + SECOND)
    assert env.wf.issue(issue_id).lateness.overdue
    view = env.wf.plan(issue_id, OWNER, "process", "again", "again", env.today)
    assert view.missed_deadlines == 1
    assert view.lateness.deadline == datetime(2026, 12, 15, 15, 30, 0)  # 14 days from reopen


def test_reopening_by_verification_restarts_deadlines(env):
    issue_id = drive(env, "verifying")  # P2, fix date 2026-11-02
    reopen_at = env.at(datetime(2026, 11, 6, 10, 0, 0))
    outcome = env.wf.verify({("K01", "GZ"): [(date(2026, 11, 3), "green"),
                                             (date(2026, 11, 4), "red")]})
    assert outcome.reopened == [issue_id]
    view = env.wf.issue(issue_id)
    assert (view.state, view.step_started_at, view.reopen_count) == ("reopened", reopen_at, 1)
    assert view.lateness.deadline == datetime(2026, 11, 11, 10, 0, 0)


def test_severity_raised_by_evidence_shortens_the_deadline(env):
    issue_id = env.detect(sig(rule="R1", day=date(2026, 11, 1))).opened[0]  # P2 at T0
    env.at(datetime(2026, 11, 3, 10, 0, 0))
    view = env.wf.issue(issue_id)
    assert view.lateness.deadline == datetime(2026, 11, 4, 9) and not view.lateness.overdue
    outcome = env.detect(sig(rule="R2", day=date(2026, 11, 2)))
    assert outcome.severity_raised == 1 and outcome.opened == []
    view = env.wf.issue(issue_id)
    assert view.severity == "P1" and view.step_started_at == T0
    # P1: acknowledge within 1 day of the opening -> 11-03 09:00, an hour ago
    assert view.lateness.deadline == datetime(2026, 11, 3, 9)
    assert view.lateness.overdue


# --------------------------------------------------------------------------- 4. detection


def test_detection_opens_one_issue_per_kpi_and_region(env):
    outcome = env.detect(
        sig("K01", "GZ", "R1", date(2026, 11, 1)),
        sig("K01", "GZ", "R3", date(2026, 11, 1)),
        sig("K01", "SZ", "R1", date(2026, 11, 1)),
        sig("K02", "GZ", "R2", date(2026, 10, 31)),
    )
    assert len(outcome.opened) == 3 and outcome.evidence_added == 1
    assert outcome.reopened == [] and outcome.too_old == outcome.warnings == 0
    found = {(v.kpi_code, v.region_code): v for v in env.wf.issues()}
    assert set(found) == {("K01", "GZ"), ("K01", "SZ"), ("K02", "GZ")}
    gz = found[("K01", "GZ")]
    assert (gz.severity, gz.state, gz.origin, gz.owner_department, gz.evidence_count,
            gz.opened_at, gz.step_started_at, gz.reopen_count, gz.missed_deadlines,
            gz.last_breach_day, gz.version) == \
           ("P2", "open", "detection", "CHANNEL", 2, T0, T0, 0, 0, date(2026, 11, 1), 2)
    assert found[("K02", "GZ")].owner_department == "HOTLINE"
    assert found[("K02", "GZ")].severity == "P1"
    assert found[("K01", "SZ")].evidence_count == 1
    assert {e["rule"] for e in env.wf.evidence(gz.id)} == {"R1", "R3"}
    events = env.wf.events(gz.id)
    assert [(e["action"], e["actor"], e["from_state"], e["to_state"]) for e in events] == \
           [("open", "system", None, "open"), ("evidence", "system", "open", "open")]
    # listing filters
    assert [v.id for v in env.wf.issues(department="HOTLINE")] == [found[("K02", "GZ")].id]
    assert {v.id for v in env.wf.issues(kpi="K01")} == {gz.id, found[("K01", "SZ")].id}
    assert [v.id for v in env.wf.issues(region="SZ")] == [found[("K01", "SZ")].id]
    assert [v.id for v in env.wf.issues(severity="P1")] == [found[("K02", "GZ")].id]
    assert len(env.wf.issues(state="open", active_only=True)) == 3


def test_evidence_raises_severity_never_lowers(env):
    issue_id = env.detect(sig(rule="R1", day=date(2026, 10, 30))).opened[0]
    assert env.row(issue_id)["severity"] == "P2"
    outcome = env.detect(sig(rule="R2", day=date(2026, 10, 31)))
    assert (outcome.opened, outcome.evidence_added, outcome.severity_raised) == ([], 1, 1)
    row = env.row(issue_id)
    assert (row["severity"], row["evidence_count"], row["last_breach_day"]) == \
           ("P1", 2, date(2026, 10, 31))
    assert env.wf.events(issue_id)[-1]["changes"] == {
        "evidence_count": 2, "severity": "P1", "last_breach_day": "2026-10-31"}
    outcome = env.detect(sig(rule="R3", day=date(2026, 11, 1)),
                         sig(rule="R1", day=date(2026, 10, 29)))
    assert (outcome.opened, outcome.evidence_added, outcome.severity_raised) == ([], 2, 0)
    row = env.row(issue_id)
    # still P1; the last breach day is the latest one, not the last one seen
    assert (row["severity"], row["evidence_count"], row["last_breach_day"]) == \
           ("P1", 4, date(2026, 11, 1))
    assert len(env.wf.evidence(issue_id)) == 4
    assert "severity" not in env.wf.events(issue_id)[-1]["changes"]


def test_evidence_on_a_verifying_issue_keeps_its_state(env):
    issue_id = drive(env, "verifying")
    outcome = env.detect(sig(rule="R2", day=date(2026, 11, 2)))
    assert outcome.opened == [] and outcome.reopened == []
    row = env.row(issue_id)
    assert (row["state"], row["severity"], row["evidence_count"]) == ("verifying", "P1", 2)


def test_detection_is_idempotent(env):
    batch = [
        sig("K01", "GZ", "R1", date(2026, 11, 1)),
        sig("K01", "GZ", "R2", date(2026, 11, 1)),
        sig("K01", "SZ", "R3", date(2026, 10, 30)),
        sig("K02", "GZ", "R4", date(2026, 11, 1)),  # warning
        sig("K03", "GZ", "R1", date(2026, 10, 1)),  # too old (before 2026-10-05)
        sig("K01", "GZ", "R1", date(2026, 11, 1)),  # duplicate within the batch
    ]
    first = env.detect(*batch)
    assert (len(first.opened), first.evidence_added, first.warnings, first.too_old,
            first.already_seen) == (2, 1, 1, 1, 1)
    before = env.snapshot()
    assert len(before["issues"]) == 2 and len(before["issue_evidence"]) == 3
    assert len(before["issue_events"]) == 3
    env.later(hours=5)
    second = env.detect(*batch, as_of=T0)
    assert (second.opened, second.evidence_added, second.reopened, second.already_seen) == \
           ([], 0, [], 4)
    assert env.snapshot() == before
    env.detect(*reversed(batch), as_of=T0)
    assert env.snapshot() == before


def test_signals_seen_before_never_reopen_a_closed_issue(env):
    issue_id = drive(env, "closed")  # opened by K01 GZ R1 2026-11-01
    before = env.snapshot()
    outcome = env.detect(sig(rule="R1", day=date(2026, 11, 1)))
    assert outcome.already_seen == 1 and outcome.reopened == []
    assert env.snapshot() == before
    assert env.row(issue_id)["state"] == "closed"


def test_r4_is_a_warning_until_a_quality_manager_promotes_it(env):
    warning = sig("K05", "FS", "R4", date(2026, 11, 1))
    outcome = env.detect(warning)
    assert outcome.warnings == 1 and outcome.opened == []
    assert env.wf.issues() == []
    before = env.snapshot()
    for user in (OWNER, OTHER, VIEWER):
        with pytest.raises(PermissionRefused, match="quality manager"):
            env.wf.promote_warning(user, warning)
    with pytest.raises(InvalidTransition, match="only R4"):
        env.wf.promote_warning(QM, sig("K05", "FS", "R1", date(2026, 11, 1)))
    assert env.snapshot() == before
    issue_id = env.wf.promote_warning(QM, warning)
    view = env.wf.issue(issue_id)
    assert (view.kpi_code, view.region_code, view.severity, view.state, view.origin,
            view.owner_department, view.updated_by) == \
           ("K05", "FS", "P3", "open", "promoted", "SERVICE", QM)
    assert env.wf.events(issue_id)[0]["actor"] == QM
    after = env.snapshot()
    with pytest.raises(InvalidTransition, match="promoted already"):
        env.wf.promote_warning(QM, warning)
    assert env.detect(warning).opened == []
    assert env.snapshot() == after


def test_promoting_a_warning_on_an_active_issue_adds_evidence(env):
    issue_id = env.detect(sig(rule="R1")).opened[0]
    assert env.wf.promote_warning(QM, sig(rule="R4", day=date(2026, 11, 1))) == issue_id
    row = env.row(issue_id)
    assert (row["evidence_count"], row["severity"], row["origin"]) == (2, "P2", "detection")
    assert len(env.wf.issues()) == 1


def test_signals_older_than_the_lookback_are_ignored(env):
    # T0 is 2026-11-02: the oldest day acted on is 2026-11-02 - 28 days = 2026-10-05
    outcome = env.detect(sig("K01", "GZ", "R1", date(2026, 10, 4)),
                         sig("K01", "SZ", "R1", date(2026, 10, 5)))
    assert outcome.too_old == 1 and len(outcome.opened) == 1
    assert [v.region_code for v in env.wf.issues()] == ["SZ"]
    # a month signal counts from the month's last day: September ends 2026-09-30
    september = sig("K06", "GZ", "R1", date(2026, 9, 1), period_type="month")
    assert september.breach_day == date(2026, 9, 30)
    assert env.detect(september, as_of=datetime(2026, 10, 29)).too_old == 1
    assert env.detect(september, as_of=datetime(2026, 10, 28)).opened != []
    assert {v.kpi_code for v in env.wf.issues()} == {"K01", "K06"}
    assert env.row(env.wf.issues(kpi="K06")[0].id)["last_breach_day"] == date(2026, 9, 30)


@pytest.mark.parametrize("days_after_closure,reopens", [(1, True), (90, True), (91, False)])
def test_reopen_window_is_90_days(days_after_closure, reopens, env):
    issue_id = drive(env, "closed")
    closed_at = env.row(issue_id)["closed_at"]
    assert closed_at == datetime(2026, 11, 10, 9)
    day = closed_at.date() + timedelta(days=days_after_closure)
    env.at(datetime.combine(day + timedelta(days=1), datetime.min.time()) +
           timedelta(hours=6))
    outcome = env.detect(sig(rule="R2", day=day))
    if reopens:
        assert outcome.reopened == [issue_id] and outcome.opened == []
        assert [v.id for v in env.wf.issues()] == [issue_id]
        row = env.row(issue_id)
        assert (row["state"], row["reopen_count"], row["severity"], row["evidence_count"]) == \
               ("reopened", 1, "P1", 2)
    else:
        assert outcome.reopened == [] and len(outcome.opened) == 1
        new = env.row(outcome.opened[0])
        assert new["id"] != issue_id
        assert (new["state"], new["reopen_count"], new["evidence_count"]) == ("open", 0, 1)
        old = env.row(issue_id)
        assert (old["state"], old["reopen_count"], old["evidence_count"]) == ("closed", 0, 1)


def test_reopening_clears_the_closure_and_fix_fields(env):
    issue_id = drive(env, "closed")
    closed = env.row(issue_id)
    assert closed["fix_date"] == date(2026, 11, 2) and closed["verification_days"] == 7
    assert closed["sign_off_comment"] and closed["verified_at"] and closed["fix_claimed_at"]
    reopen_at = env.at(datetime(2026, 11, 20, 8))
    env.detect(sig(rule="R1", day=date(2026, 11, 19)))
    row = env.row(issue_id)
    assert (row["state"], row["reopen_count"], row["reopened_at"], row["step_started_at"]) == \
           ("reopened", 1, reopen_at, reopen_at)
    for name in ("closed_at", "sign_off_comment", "verified_at", "verification_days",
                 "fix_date", "fix_note", "fix_claimed_at"):
        assert row[name] is None, name
    # what the issue was about stays
    assert (row["opened_at"], row["responsible"], row["acknowledged_at"]) == \
           (T0, "Zhang San", T0)
    event = env.wf.events(issue_id)[-1]
    assert (event["action"], event["from_state"], event["to_state"], event["actor"]) == \
           ("reopen", "closed", "reopened", "system")
    # a second reopening counts 2
    env.wf.plan(issue_id, OWNER, "process", "again", "again", env.today)
    env.wf.claim_fix(issue_id, OWNER, env.today, "done")
    env.at(datetime(2026, 11, 28, 8))
    env.wf.verify({("K01", "GZ"): greens(date(2026, 11, 20), 7)})
    env.wf.sign_off(issue_id, QM, "ok")
    env.at(datetime(2026, 12, 1, 8))
    assert env.detect(sig(rule="R1", day=date(2026, 11, 30))).reopened == [issue_id]
    assert env.row(issue_id)["reopen_count"] == 2


@pytest.mark.parametrize("offset,reopens", [(-1, False), (0, False), (1, True)])
def test_no_reopening_for_a_breach_on_or_before_the_fix_date(offset, reopens, env):
    issue_id = drive(env, "closed")  # fix date 2026-11-02, closed 2026-11-10
    fix = env.row(issue_id)["fix_date"]
    assert fix == date(2026, 11, 2)
    outcome = env.detect(sig(rule="R2", day=fix + timedelta(days=offset)))
    row = env.row(issue_id)
    if reopens:
        assert outcome.reopened == [issue_id]
        assert (row["state"], row["reopen_count"]) == ("reopened", 1)
    else:
        assert outcome.reopened == []
        assert (row["state"], row["reopen_count"], row["closed_at"]) == \
               ("closed", 0, datetime(2026, 11, 10, 9))
        # the implementation's reading: late data about a day the closed issue already
        # covered is recorded on it as evidence, and opens nothing new
        assert outcome.opened == [] and len(env.wf.issues()) == 1
        assert row["evidence_count"] == 2


def test_a_cancelled_issue_does_not_block_a_new_one(env):
    cancelled = drive(env, "cancelled")
    outcome = env.detect(sig(rule="R3", day=date(2026, 11, 2)))
    assert outcome.reopened == [] and len(outcome.opened) == 1
    new = outcome.opened[0]
    assert new != cancelled
    assert env.row(cancelled)["state"] == "cancelled"
    assert (env.row(new)["state"], env.row(new)["severity"]) == ("open", "P3")
    # and the next breach goes to the new, active one
    assert env.detect(sig(rule="R1", day=date(2026, 11, 3))).evidence_added == 1
    assert env.row(new)["evidence_count"] == 2 and env.row(cancelled)["evidence_count"] == 1


def test_database_allows_one_active_issue_per_kpi_and_region(env):
    issue_id = env.detect(sig()).opened[0]
    with env.store.begin_read() as conn:
        sql = conn.exec_driver_sql("select sql from sqlite_master where type = 'index' and "
                                   "name = 'uq_issues_active_kpi_region'").scalar_one()
    assert "UNIQUE" in sql.upper() and "WHERE" in sql.upper()
    row = {k: v for k, v in env.row(issue_id).items() if k != "id"}
    with pytest.raises(sa.exc.IntegrityError):
        with env.store.begin_write() as conn:
            conn.execute(issues.insert().values(**{**row, "state": "acknowledged"}))
    # the index covers active states only: a closed and a cancelled one may coexist
    with env.store.begin_write() as conn:
        conn.execute(issues.insert().values(**{**row, "state": "closed"}))
        conn.execute(issues.insert().values(**{**row, "state": "cancelled"}))
    assert len(env.wf.issues(kpi="K01", region="GZ")) == 3
    assert len(env.wf.issues(kpi="K01", region="GZ", active_only=True)) == 1


def test_a_signal_is_acted_on_once_by_the_database_too(env):
    issue_id = env.detect(sig()).opened[0]
    evidence = env.wf.evidence(issue_id)[0]
    with pytest.raises(sa.exc.IntegrityError):
        with env.store.begin_write() as conn:
            conn.execute(issue_evidence.insert().values(
                {k: v for k, v in evidence.items() if k != "id"}))


def test_a_failing_detection_batch_changes_nothing(env):
    env.detect(sig("K01", "SZ"))
    before = env.snapshot()
    with pytest.raises(Exception):  # an unknown KPI fails after the first signal was applied
        env.detect(sig("K01", "GZ", day=date(2026, 10, 30)), sig("K99", "GZ"))
    assert env.snapshot() == before


# --------------------------------------------------------------------------- 5. verification


def test_verified_after_seven_green_days_not_six(env):
    issue_id = drive(env, "verifying")  # fix date 2026-11-02
    env.at(datetime(2026, 11, 9, 6))
    days = greens(date(2026, 11, 2), 6) + [(date(2026, 11, 2), "red"),
                                           (date(2026, 10, 30), "red")]  # on/before the fix
    outcome = env.wf.verify({("K01", "GZ"): days, ("K01", "SZ"): [(date(2026, 11, 5), "red")]})
    assert (outcome.verified, outcome.reopened, outcome.progressed) == ([], [], 1)
    row = env.row(issue_id)
    assert (row["state"], row["verification_days"]) == ("verifying", 6)
    assert env.wf.issue(issue_id).verification_required == 7
    verify_at = env.at(datetime(2026, 11, 10, 6))
    outcome = env.wf.verify({("K01", "GZ"): greens(date(2026, 11, 2), 7)})
    assert outcome.verified == [issue_id]
    row = env.row(issue_id)
    assert (row["state"], row["verification_days"], row["verified_at"]) == \
           ("verified", 7, verify_at)
    event = env.wf.events(issue_id)[-1]
    assert (event["action"], event["actor"], event["from_state"], event["to_state"]) == \
           ("verify", "system", "verifying", "verified")
    # nothing more happens to a verified issue, even on a red day
    before = env.snapshot()
    assert env.wf.verify({("K01", "GZ"): [(date(2026, 11, 10), "red")]}).reopened == []
    assert env.snapshot() == before


def test_amber_resets_the_run(env):
    issue_id = drive(env, "verifying")
    fix = date(2026, 11, 2)
    days = [(fix + timedelta(days=i), s) for i, s in
            enumerate(["green"] * 5 + ["amber"] + ["green"] * 4, start=1)]
    outcome = env.wf.verify({("K01", "GZ"): days})
    assert outcome.verified == [] and env.row(issue_id)["verification_days"] == 4
    days += [(fix + timedelta(days=11), "green"), (fix + timedelta(days=12), "green")]
    assert env.wf.verify({("K01", "GZ"): days}).verified == []
    assert env.row(issue_id)["verification_days"] == 6
    days += [(fix + timedelta(days=13), "green")]
    assert env.wf.verify({("K01", "GZ"): days}).verified == [issue_id]


def test_a_run_of_seven_counts_even_when_an_amber_day_follows(env):
    # A fix date in the past: the first verification sees all days since at once. Days
    # 1-7 after the fix were green, day 8 amber: the run reached 7, as a daily run would
    # have seen on day 7, so the issue is verified (the outcome must not depend on how
    # many days one run sees).
    issue_id = drive(env, "verifying")
    fix = date(2026, 11, 2)
    days = greens(fix, 7) + [(fix + timedelta(days=8), "amber"),
                             (fix + timedelta(days=9), "green")]
    assert env.wf.verify({("K01", "GZ"): days}).verified == [issue_id]
    assert env.row(issue_id)["verification_days"] == 7
    # likewise a red day after a completed run of 7: verified (a daily run would have
    # verified it on day 7); a red day inside the run reopens
    other = drive(env, "verifying", region="SZ")
    assert env.wf.verify({("K01", "SZ"): greens(fix, 7) + [(fix + timedelta(days=8), "red")]}
                         ).verified == [other]
    third = drive(env, "verifying", region="NJ")
    days = greens(fix, 6) + [(fix + timedelta(days=7), "red")] + [
        (fix + timedelta(days=d), "green") for d in range(8, 16)]
    assert env.wf.verify({("K01", "NJ"): days}).reopened == [third]


def test_no_data_days_are_skipped(env):
    issue_id = drive(env, "verifying")
    fix = date(2026, 11, 2)
    statuses = ["green", "green", "no_data", "green", "green", "no_data", "green", "green",
                "green"]
    days = [(fix + timedelta(days=i), s) for i, s in enumerate(statuses, start=1)]
    assert env.wf.verify({("K01", "GZ"): days[:8]}).verified == []
    assert env.row(issue_id)["verification_days"] == 6
    assert env.wf.verify({("K01", "GZ"): days}).verified == [issue_id]
    # out-of-order input is sorted by day first
    other = drive(env, "verifying", region="SZ")
    fix2 = env.row(other)["fix_date"]
    shuffled = greens(fix2, 7)[::-1]
    assert env.wf.verify({("K01", "SZ"): shuffled}).verified == [other]


def test_a_red_day_after_the_fix_reopens(env):
    issue_id = drive(env, "verifying")
    fix = date(2026, 11, 2)
    env.wf.verify({("K01", "GZ"): greens(fix, 3)})
    reopen_at = env.at(datetime(2026, 11, 7, 7))
    days = greens(fix, 3) + [(fix + timedelta(days=4), "red")] + \
        [(fix + timedelta(days=i), "green") for i in range(5, 12)]
    outcome = env.wf.verify({("K01", "GZ"): days})
    assert outcome.reopened == [issue_id] and outcome.verified == []
    row = env.row(issue_id)
    assert (row["state"], row["reopen_count"], row["reopened_at"], row["fix_date"],
            row["verification_days"]) == ("reopened", 1, reopen_at, None, None)
    event = env.wf.events(issue_id)[-1]
    assert (event["action"], event["from_state"], event["to_state"]) == \
           ("reopen", "verifying", "reopened")
    assert "2026-11-06" in event["comment"]


@pytest.mark.parametrize("fix_day,verified", [(date(2026, 10, 31), True),
                                              (date(2026, 11, 1), False),
                                              (date(2026, 11, 2), False)])
def test_month_kpi_verified_by_one_green_month(fix_day, verified, env):
    env.wf.add_user("svc", "department_owner", PASSWORD, "SERVICE")
    october = sig("K06", "GZ", "R1", date(2026, 10, 1), period_type="month")
    issue_id = drive(env, "in_progress", kpi="K06", owner="svc", signal=october)
    assert env.row(issue_id)["last_breach_day"] == date(2026, 10, 31)
    env.wf.claim_fix(issue_id, "svc", fix_day, "complaint desk staffed")
    assert env.wf.issue(issue_id).verification_required == 1
    # November starts 2026-11-01: it counts only when the fix was before that day
    outcome = env.wf.verify({("K06", "GZ"): [(date(2026, 10, 1), "red"),
                                             (date(2026, 11, 1), "green")]})
    row = env.row(issue_id)
    if verified:
        assert outcome.verified == [issue_id]
        assert (row["state"], row["verification_days"]) == ("verified", 1)
    else:
        assert outcome.verified == [] and outcome.reopened == []
        assert (row["state"], row["verification_days"]) == ("verifying", 0)
        env.at(datetime(2027, 1, 2, 8))
        assert env.wf.verify({("K06", "GZ"): [(date(2026, 11, 1), "green"),
                                              (date(2026, 12, 1), "green")]}
                             ).verified == [issue_id]
        assert env.row(issue_id)["verification_days"] == 1


def test_month_kpi_red_month_after_the_fix_reopens(env):
    env.wf.add_user("billing", "department_owner", PASSWORD, "BILLING")
    october = sig("K09", "GZ", "R1", date(2026, 10, 1), period_type="month")
    issue_id = drive(env, "in_progress", kpi="K09", owner="billing", signal=october)
    env.wf.claim_fix(issue_id, "billing", date(2026, 10, 31), "tariff table corrected")
    outcome = env.wf.verify({("K09", "GZ"): [(date(2026, 11, 1), "red")]})
    assert outcome.reopened == [issue_id]


def test_progress_written_only_when_it_changes(env):
    issue_id = drive(env, "verifying")
    fix = date(2026, 11, 2)
    events = len(env.wf.events(issue_id))
    assert env.wf.verify({}).progressed == 0  # 0 -> 0: nothing to write
    assert len(env.wf.events(issue_id)) == events
    assert env.wf.verify({("K01", "GZ"): greens(fix, 3)}).progressed == 1
    row = env.row(issue_id)
    assert row["verification_days"] == 3
    event = env.wf.events(issue_id)[-1]
    assert (event["action"], event["changes"], event["from_state"], event["to_state"]) == \
           ("verification_progress", {"verification_days": 3}, "verifying", "verifying")
    before = env.snapshot()
    assert env.wf.verify({("K01", "GZ"): greens(fix, 3)}).progressed == 0
    assert env.snapshot() == before
    assert env.wf.verify({("K01", "GZ"): greens(fix, 4)}).progressed == 1
    assert len(env.wf.events(issue_id)) == events + 2
    # an amber day drops progress back to 0, and that change is written too
    assert env.wf.verify({("K01", "GZ"): greens(fix, 4) + [(date(2026, 11, 7), "amber")]}
                         ).progressed == 1
    assert env.row(issue_id)["verification_days"] == 0
    assert len(env.wf.events(issue_id)) == events + 3


# --------------------------------------------------------------------------- 6. replay


def test_replay_of_a_full_life_equals_the_issue(env):
    wf = env.wf
    history: list[list[dict]] = []

    def step() -> None:
        assert wf.replay(issue_id) == Workflow.content(wf.issue(issue_id).row)
        events = wf.events(issue_id)
        for earlier in history:  # append-only: every earlier history is a prefix, unchanged
            assert events[:len(earlier)] == earlier
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        history.append(events)

    issue_id = env.detect(sig(rule="R1", day=date(2026, 11, 1))).opened[0]
    step()
    env.later(hours=2)
    env.detect(sig(rule="R2", day=date(2026, 11, 2)))
    step()
    env.later(hours=1)
    wf.acknowledge(issue_id, OWNER, "王五")
    step()
    env.later(hours=3)
    wf.plan(issue_id, OWNER, "staffing", "两名坐席病假", "临时调配, \"高峰\"加班",
            "2026-11-20")
    step()
    env.at(datetime(2026, 11, 4, 17, 45, 12, 999_999))  # microseconds are dropped
    wf.claim_fix(issue_id, OWNER, "2026-11-04", "调配完成")
    step()
    env.at(datetime(2026, 11, 8, 6))
    wf.verify({("K01", "GZ"): greens(date(2026, 11, 4), 3)})
    step()
    env.at(datetime(2026, 11, 12, 6))
    wf.verify({("K01", "GZ"): greens(date(2026, 11, 4), 7)})
    step()
    env.later(hours=4)
    wf.sign_off(issue_id, QM, "销项")
    step()
    env.at(datetime(2026, 12, 1, 6))
    env.detect(sig(rule="R1", day=date(2026, 11, 30)))
    step()
    env.later(hours=1)
    wf.plan(issue_id, OWNER, "system", "排队机故障", "更换排队机", "2026-12-10")
    step()
    env.later(minutes=5)
    wf.comment(issue_id, QM, "  请尽快  ")
    step()

    row = env.row(issue_id)
    assert (row["state"], row["reopen_count"], row["severity"], row["version"]) == \
           ("in_progress", 1, "P1", 11)
    assert row["fix_claimed_at"] is None and row["closed_at"] is None
    assert row["planned_at"] == datetime(2026, 12, 1, 7)
    assert row["root_cause"] == "排队机故障"
    events = history[-1]
    assert [e["action"] for e in events] == [
        "open", "evidence", "acknowledge", "plan", "claim_fix", "verification_progress",
        "verify", "sign_off", "reopen", "plan", "comment"]
    assert [e["to_state"] for e in events] == [
        "open", "open", "acknowledged", "in_progress", "verifying", "verifying", "verified",
        "closed", "reopened", "in_progress", "in_progress"]
    assert [e["actor"] for e in events] == [
        "system", "system", OWNER, OWNER, OWNER, "system", "system", QM, "system", OWNER, QM]
    assert events[4]["changes"]["fix_claimed_at"] == "2026-11-04 17:45:12"
    assert events[-1]["comment"] == "请尽快" and events[-1]["changes"] == {}
    assert events[-1]["at"] == datetime(2026, 12, 1, 7, 5)
    # the trail keeps what the reopening cleared
    assert events[7]["changes"]["sign_off_comment"] == "销项"
    assert events[8]["changes"]["sign_off_comment"] is None


# --------------------------------------------------------------------------- 8. users


def test_add_user_validation(env):
    before = env.snapshot()
    cases = [
        (dict(name="d1", role="department_owner", password=PASSWORD), "department"),
        (dict(name="d2", role="department_owner", password=PASSWORD,
              department_code="SALES"), "department"),
        (dict(name="d3", role="department_owner", password=PASSWORD,
              department_code="channel"), "department"),
        (dict(name="v1", role="viewer", password=PASSWORD, department_code="SALES"),
         "department"),
        (dict(name="a1", role="admin", password=PASSWORD), "role"),
        (dict(name="a2", role="", password=PASSWORD), "role"),
        (dict(name="p1", role="viewer", password="1234567"), "password"),
        (dict(name="p2", role="viewer", password=""), "password"),
        (dict(name="p3", role="viewer", password=None), "password"),
        (dict(name="  ", role="viewer", password=PASSWORD), "user name"),
    ]
    for kwargs, word in cases:
        with pytest.raises(MissingField) as info:
            env.wf.add_user(**kwargs)
        assert str(info.value).startswith(word), (kwargs, str(info.value))
    with pytest.raises(WorkflowError, match=f"user {OWNER} exists already"):
        env.wf.add_user(OWNER, "viewer", PASSWORD)
    assert env.snapshot() == before
    actor = env.wf.add_user("field", "department_owner", "12345678", "FIELD")
    assert actor == Actor("field", "department_owner", "FIELD")
    assert env.wf.actor("field") == actor
    assert env.wf.add_user("qm2", "quality_manager", PASSWORD, "CHANNEL").department_code \
        == "CHANNEL"
    assert [u["name"] for u in env.wf.users()] == sorted(
        [QM, OWNER, OTHER, VIEWER, "field", "qm2"])


def test_authenticate_and_hashed_passwords(env):
    assert env.wf.authenticate(OWNER, PASSWORD) == Actor(OWNER, "department_owner", "CHANNEL")
    assert env.wf.authenticate(QM, PASSWORD) == Actor(QM, "quality_manager", None)
    assert env.wf.authenticate(OWNER, PASSWORD + "x") is None
    assert env.wf.authenticate(OWNER, PASSWORD.upper()) is None
    assert env.wf.authenticate(OWNER, "") is None
    assert env.wf.authenticate("nobody", PASSWORD) is None
    with env.store.begin_read() as conn:
        hashes = dict(conn.execute(sa.select(users.c.name, users.c.password_hash)).all())
    assert len(hashes) == 4
    for stored in hashes.values():
        assert PASSWORD not in stored and stored.startswith("$argon2id$")
    assert len(set(hashes.values())) == 4  # same password, different salts
    assert all("password_hash" not in u for u in env.wf.users())
    assert env.wf.recipients() == {"CHANNEL": ["owner@example.com"],
                                   "HOTLINE": ["other_owner@example.com"]}
