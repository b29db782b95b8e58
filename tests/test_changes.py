"""The change register and its pre-launch veto (前置体验一票否决) against a real SQLite store.

Like test_workflow.py: every test has its own store copied from a session template (users
are slow to create: argon2id), a clock moved by hand, and brings changes into each state by
driving the services, never by writing SQL. Expected values come by hand from the state
table in docs/decisions.md ("Change register"):

    test_pass / test_veto   registered            quality manager
    launch                  passed                quality manager, owner of the department
    cancel                  registered/passed/vetoed   quality manager, owner of the dept
    register                -                     quality manager, owner of the department
    vetoed -> registered    by the system when the veto issue is closed or cancelled
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from dagster_project.lib.remediation.changes import CHANGE_ACTIONS, ChangeRegister
from dagster_project.lib.remediation.loop import detect_and_verify
from dagster_project.lib.remediation.rules import (
    ConflictError, InvalidTransition, MissingField, NotFound, PermissionRefused,
    WorkflowError,
)
from dagster_project.lib.remediation.schema import (
    change_events, change_scopes, changes, issue_events, issue_evidence, issues, users,
)
from dagster_project.lib.remediation.store import IssueStore, _alembic_config, open_store
from dagster_project.lib.remediation.warehouse_io import closure_row, write_change_copy
from dagster_project.lib.remediation.workflow import Signal, Workflow
from dagster_project.lib.settings import Settings
from dagster_project.lib.warehouse import REMEDIATION_DDL

T0 = datetime(2026, 11, 2, 9, 0, 0)
PASSWORD = "correct horse battery"
QM, OWNER, OTHER, VIEWER = "qm", "owner", "other_owner", "viewer"
USERS = ((QM, "quality_manager", None), (OWNER, "department_owner", "HOTLINE"),
         (OTHER, "department_owner", "CHANNEL"), (VIEWER, "viewer", None))
ROLE_USERS = (QM, OWNER, OTHER, VIEWER)
STATES = ("registered", "passed", "vetoed", "launched", "cancelled")
ACTIONS = ("test_pass", "test_veto", "launch", "cancel")
# action -> (states it is taken from, users who may take it on a HOTLINE change), by hand
ALLOWED = {
    "test_pass": ({"registered"}, {QM}),
    "test_veto": ({"registered"}, {QM}),
    "launch": ({"passed"}, {QM, OWNER}),
    "cancel": ({"registered", "passed", "vetoed"}, {QM, OWNER}),
}
TO_STATE = {"test_pass": "passed", "test_veto": "vetoed", "launch": "launched",
            "cancel": "cancelled"}
TABLES = (changes, change_scopes, change_events, issues, issue_events, issue_evidence, users)


def copy_db(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    if Path(f"{src}-wal").exists():
        shutil.copyfile(f"{src}-wal", f"{dst}-wal")


class Env:
    def __init__(self, path: Path, now: datetime):
        self.store = open_store(f"sqlite:///{path}")
        self.now = [now]
        self.wf = Workflow(self.store, clock=lambda: self.now[0])
        self.reg = ChangeRegister(self.wf)

    @property
    def today(self) -> date:
        return self.now[0].date()

    def snapshot(self) -> dict[str, list[tuple]]:
        with self.store.begin_read() as conn:
            return {t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
                    for t in TABLES}

    def register(self, user: str = OWNER, affects="K02:WX,K02:NJ,K03:NJ", **override):
        args = dict(title="5G 畅享套餐 new tariff", change_type="tariff",
                    owner_department="HOTLINE", planned_launch_date=self.today + timedelta(10),
                    affects=affects, description="new plan with a new IVR menu")
        args.update(override)
        return self.reg.register(user, **args)

    def drive(self, target: str) -> int:
        """Register a HOTLINE change and bring it to `target` (quality manager acting)."""
        change_id = self.register().id
        if target == "registered":
            return change_id
        if target == "vetoed":
            self.reg.test_veto(change_id, QM, "the IVR menu hides the tariff's cancel option")
            return change_id
        if target == "cancelled":
            self.reg.cancel(change_id, QM, "postponed to next year")
            return change_id
        self.reg.test_pass(change_id, QM, "customers understood the plan")
        if target == "launched":
            self.reg.launch(change_id, OWNER)
        return change_id

    def close(self) -> None:
        self.store.dispose()


def call(reg: ChangeRegister, action: str, change_id: int, user: str, **override):
    args = {"test_pass": dict(reason="fine"), "test_veto": dict(reason="confusing bill"),
            "launch": dict(), "cancel": dict(reason="postponed")}[action]
    args.update(override)
    return getattr(reg, action)(change_id, user, **args)


@dataclass
class Templates:
    users: Path
    states: Path
    ids: dict[str, int]


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Templates:
    base = tmp_path_factory.mktemp("change_templates")
    env = Env(base / "users.sqlite", T0)
    for name, role, department in USERS:
        env.wf.add_user(name, role, PASSWORD, department)
    env.close()
    copy_db(base / "users.sqlite", base / "states.sqlite")
    env = Env(base / "states.sqlite", T0)
    ids = {state: env.drive(state) for state in STATES}
    assert {s: env.reg.change(i).state for s, i in ids.items()} == {s: s for s in STATES}
    env.close()
    return Templates(base / "users.sqlite", base / "states.sqlite", ids)


@pytest.fixture
def env(templates, tmp_path):
    copy_db(templates.users, tmp_path / "issues.sqlite")
    e = Env(tmp_path / "issues.sqlite", T0)
    yield e
    e.close()


@pytest.fixture
def states_env(templates, tmp_path):
    copy_db(templates.states, tmp_path / "issues.sqlite")
    e = Env(tmp_path / "issues.sqlite", T0)
    yield e
    e.close()


# ------------------------------------------------------------------ the state machine


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("user", ROLE_USERS)
@pytest.mark.parametrize("action", ACTIONS)
def test_permission_matrix(action, user, state, states_env, templates):
    env = states_env
    change_id = templates.ids[state]
    states, who = ALLOWED[action]
    before = env.snapshot()
    version = env.reg.change(change_id).version
    # what the board offers is what the service allows
    offered = env.reg.allowed_actions(change_id, user)
    assert set(offered) <= set(ACTIONS)
    assert (action in offered) == (state in states and user in who)
    if state in states and user in who:
        view = call(env.reg, action, change_id, user)
        assert view.state == TO_STATE[action]
        assert (view.version, view.updated_by) == (version + 1, user)
        last = env.reg.events(change_id)[-1]
        assert (last["actor"], last["action"], last["from_state"], last["to_state"]) == \
               (user, action, state, TO_STATE[action])
        after = env.snapshot()
        assert after["change_events"][:len(before["change_events"])] == before["change_events"]
        assert [r for r in after["changes"] if r[0] != change_id] == \
               [r for r in before["changes"] if r[0] != change_id]
        assert after["change_scopes"] == before["change_scopes"]
        assert after["users"] == before["users"]
    else:
        expected = InvalidTransition if user in who else PermissionRefused
        with pytest.raises(WorkflowError) as info:
            call(env.reg, action, change_id, user)
        assert type(info.value) is expected
        if expected is PermissionRefused:
            assert user in str(info.value)
        else:
            assert f"is {state}" in str(info.value) or "cannot launch" in str(info.value)
        assert env.snapshot() == before


def test_the_matrix_names_every_action():
    assert set(CHANGE_ACTIONS) == set(ACTIONS)


@pytest.mark.parametrize("user,department,allowed", [
    (QM, "HOTLINE", True), (QM, "NETWORK", True), (OWNER, "HOTLINE", True),
    (OWNER, "CHANNEL", False), (OTHER, "HOTLINE", False), (VIEWER, "HOTLINE", False)])
def test_who_may_register(user, department, allowed, env):
    before = env.snapshot()
    if allowed:
        view = env.register(user, owner_department=department)
        assert (view.state, view.owner_department, view.registered_by, view.version) == \
               ("registered", department, user, 1)
        assert view.scopes == (("K02", "NJ"), ("K02", "WX"), ("K03", "NJ"))
        (event,) = env.reg.events(view.id)
        assert (event["actor"], event["action"], event["to_state"]) == (user, "register",
                                                                         "registered")
        assert event["changes"]["affects"] == ["K02:NJ", "K02:WX", "K03:NJ"]
    else:
        with pytest.raises(PermissionRefused):
            env.register(user, owner_department=department)
        assert env.snapshot() == before


@pytest.mark.parametrize("override,field_name", [
    (dict(title="  "), "title"), (dict(change_type="price"), "change type"),
    (dict(owner_department="NOPE"), "owner department"),
    (dict(planned_launch_date="2026-13-01"), "planned launch date"),
    (dict(affects=""), "KPIs and regions"), (dict(affects="K99:NJ"), "unknown KPI"),
    (dict(affects="K02:nanjing city"), "not a region code"), (dict(affects="K02"), "KPI:REGION"),
])
def test_bad_registration_refused_naming_the_field(override, field_name, env):
    before = env.snapshot()
    with pytest.raises(MissingField) as info:
        env.register(QM, **override)
    assert field_name in str(info.value)
    assert env.snapshot() == before


def test_scope_parsing_dedupes_and_accepts_lower_case(env):
    view = env.register(QM, affects=" k02:nj , K02:NJ,K01:JS,")
    assert view.scopes == (("K01", "JS"), ("K02", "NJ"))


# ------------------------------------------------------------------ veto, issue, release


def test_veto_opens_an_issue_for_the_owner_department(env):
    change_id = env.register().id
    view = env.reg.test_veto(change_id, QM, "the IVR menu hides the cancel option")
    assert (view.state, view.test_result, view.test_reason, view.tested_by, view.tested_at) == \
           ("vetoed", "veto", "the IVR menu hides the cancel option", QM, T0)
    issue = env.wf.issue(view.veto_issue_id)
    # first scope in KPI, region order: K02 NJ (registered as K02:WX,K02:NJ,K03:NJ)
    assert (issue.kpi_code, issue.region_code, issue.owner_department, issue.state,
            issue.origin, issue.change_id, issue.severity, issue.evidence_count) == \
           ("K02", "NJ", "HOTLINE", "open", "veto", change_id, "P2", 0)
    (opened,) = env.wf.events(issue.id)
    assert opened["actor"] == QM and "the IVR menu hides the cancel option" in opened["comment"]
    assert f"change {change_id}" in opened["comment"]
    # the replay of the issue's events rebuilds it, the link included
    assert env.wf.replay(issue.id) == env.wf.content(issue.row)


def test_the_closure_list_row_of_a_veto_issue_names_the_change(env):
    change_id = env.register().id
    issue_id = env.reg.test_veto(change_id, QM, "no").veto_issue_id
    env.wf.acknowledge(issue_id, OWNER, "Wang Wu")
    env.wf.plan(issue_id, OWNER, "process", "x", "y", env.today + timedelta(days=3))
    env.wf.claim_fix(issue_id, OWNER, env.today, "done")
    row = closure_row(env.wf.issue(issue_id), {"NJ": ("南京", "Nanjing")})
    assert (row.kpi_code, row.region_name_en, row.state) == ("K02", "Nanjing", "verifying")
    assert row.kpi_name_en == \
        f"Hotline agent connect rate (change #{change_id} vetoed before launch)"
    assert row.kpi_name_zh == f"10000号人工接通率（变更#{change_id} 前置体验否决）"
    assert row.verification_days is None  # no 7-day count for a veto issue
    assert closure_row(env.wf.issue(issue_id), {}).region_name_en == "NJ"


@pytest.mark.parametrize("state,message", [
    ("vetoed", "it is vetoed by its experience test"),
    ("registered", "has not passed its experience test yet"),
])
def test_launch_refused_when_vetoed_or_untested(state, message, states_env, templates):
    change_id = templates.ids[state]
    before = states_env.snapshot()
    for user in (QM, OWNER):
        with pytest.raises(InvalidTransition) as info:
            states_env.reg.launch(change_id, user)
        assert message in str(info.value) and f"change {change_id}" in str(info.value)
    assert states_env.snapshot() == before


def test_veto_issue_closed_returns_the_change_to_registered_then_a_new_test(env):
    change_id = env.register().id
    issue_id = env.reg.test_veto(change_id, QM, "bill text unclear").veto_issue_id
    wf = env.wf
    wf.acknowledge(issue_id, OWNER, "Wang Wu")
    wf.plan(issue_id, OWNER, "process", "bill text written by IT", "rewrite with the hotline",
            env.today + timedelta(days=5))
    wf.claim_fix(issue_id, OWNER, env.today, "bill text rewritten")
    assert wf.issue(issue_id).state == "verifying"
    assert env.reg.change(change_id).state == "vetoed"  # held until the issue is closed
    # no KPI verification for a veto issue: seven green days do not verify it
    greens = [(env.today + timedelta(days=i), "green") for i in range(1, 9)]
    assert wf.verify({("K02", "NJ"): greens}).verified == []
    assert wf.allowed_actions(issue_id, QM) == ["sign_off", "cancel", "comment"]
    with pytest.raises(PermissionRefused):
        wf.sign_off(issue_id, OWNER, "done")
    with pytest.raises(InvalidTransition):
        env.reg.launch(change_id, QM)
    wf.sign_off(issue_id, QM, "re-tested the bill with five customers: clear")
    view = env.reg.change(change_id)
    assert (view.state, view.version) == ("registered", 3)
    release = env.reg.events(change_id)[-1]
    assert (release["actor"], release["action"], release["from_state"], release["to_state"]) \
        == ("system", "release", "vetoed", "registered")
    assert f"issue {issue_id} closed" in release["comment"]
    with pytest.raises(InvalidTransition):  # registered again: a new test is needed first
        env.reg.launch(change_id, OWNER)
    env.reg.test_pass(change_id, QM, "re-test passed")
    launched = env.reg.launch(change_id, OWNER, env.today - timedelta(days=1))
    assert (launched.state, launched.launched_on) == ("launched", date(2026, 11, 1))
    assert [e["action"] for e in env.reg.events(change_id)] == \
           ["register", "test_veto", "release", "test_pass", "launch"]


def test_a_second_veto_opens_a_second_issue(env):
    change_id = env.register().id
    first = env.reg.test_veto(change_id, QM, "first").veto_issue_id
    env.wf.cancel(first, QM, "other", "the test was wrong")  # cancelling releases it too
    assert env.reg.change(change_id).state == "registered"
    second = env.reg.test_veto(change_id, QM, "second").veto_issue_id
    assert second != first
    assert [i["id"] for i in env.reg.change(change_id).linked_issues] == [first, second]


def test_cancelling_a_vetoed_change_cancels_its_issue(env):
    change_id = env.register().id
    issue_id = env.reg.test_veto(change_id, QM, "no").veto_issue_id
    view = env.reg.cancel(change_id, OWNER, "the tariff is dropped")
    assert (view.state, view.cancel_reason, view.cancelled_at) == \
           ("cancelled", "the tariff is dropped", T0)
    issue = env.wf.issue(issue_id)
    assert (issue.state, issue.cancel_reason, issue.updated_by) == ("cancelled", "other", OWNER)
    assert [e["action"] for e in env.reg.events(change_id)] == \
           ["register", "test_veto", "cancel"]  # no release event after the cancellation


def test_veto_issues_stay_out_of_breach_detection(env):
    change_id = env.register(affects="K02:NJ").id
    veto_issue = env.reg.test_veto(change_id, QM, "no").veto_issue_id
    signal = Signal("K02", "NJ", "R1", "P2", "day", env.today - timedelta(days=1), "red", 0.7)
    outcome = env.wf.apply_signals([signal], as_of=env.now[0])
    # a breach issue of its own, beside the active veto issue of the same KPI and region
    assert len(outcome.opened) == 1 and outcome.opened[0] != veto_issue
    assert outcome.evidence_added == 0
    assert env.wf.issue(veto_issue).evidence_count == 0
    # and a second active breach issue for K02 NJ is still refused by the database
    with pytest.raises(sa.exc.IntegrityError), env.store.begin_write() as conn:
        row = dict(env.wf.issue(outcome.opened[0]).row)
        row.pop("id")
        conn.execute(issues.insert().values(**row))


def test_launch_date_defaults_to_today_and_may_not_be_in_the_future(states_env, templates):
    env = states_env
    change_id = templates.ids["passed"]
    before = env.snapshot()
    with pytest.raises(MissingField, match="in the future"):
        env.reg.launch(change_id, OWNER, env.today + timedelta(days=1))
    with pytest.raises(MissingField, match="launch date"):
        env.reg.launch(change_id, OWNER, "yesterday")
    assert env.snapshot() == before
    assert env.reg.launch(change_id, OWNER).launched_on == env.today


def test_stale_version_is_a_conflict_and_changes_nothing(states_env, templates):
    env = states_env
    change_id = templates.ids["registered"]
    version = env.reg.change(change_id).version
    before = env.snapshot()
    with pytest.raises(ConflictError, match=f"version {version}"):
        env.reg.test_veto(change_id, QM, "no", expected_version=version - 1)
    assert env.snapshot() == before
    assert env.reg.test_pass(change_id, QM, "ok", expected_version=version).version == \
        version + 1
    with pytest.raises(ConflictError):  # the other user's page still shows the old version
        env.reg.cancel(change_id, OWNER, "late", expected_version=version)


def test_a_viewer_is_refused_before_the_version_is_looked_at(states_env, templates):
    with pytest.raises(PermissionRefused):
        states_env.reg.test_pass(templates.ids["registered"], VIEWER, expected_version=99)


def test_unknown_change_and_unknown_user(states_env, templates):
    with pytest.raises(NotFound, match="change 999"):
        states_env.reg.change(999)
    with pytest.raises(NotFound, match="change 999"):
        states_env.reg.test_pass(999, QM)
    with pytest.raises(NotFound, match="nobody"):
        states_env.reg.test_pass(templates.ids["registered"], "nobody")


def test_lists_filter_by_state_and_department(states_env, templates):
    reg = states_env.reg
    assert [v.id for v in reg.changes(state="vetoed")] == [templates.ids["vetoed"]]
    assert len(reg.changes(department="HOTLINE")) == len(STATES)
    assert reg.changes(department="CHANNEL") == []


# ------------------------------------------------------------------ migration 0002 -> 0003


def test_migration_from_0002_keeps_the_issues_and_links_nothing(tmp_path):
    from alembic import command

    store = IssueStore(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with store.engine.connect() as conn:
        conn = conn.execution_options(immediate=True)
        with conn.begin():
            command.upgrade(_alembic_config(conn), "0002")
    assert store.current_revision() == "0002"
    with store.begin_write() as conn:  # an issue as a 0002 store holds it (no change_id)
        conn.execute(sa.text(
            "insert into users (name, display_name, role, department_code, password_hash, "
            "created_at) values ('o', 'o', 'department_owner', 'CHANNEL', 'x', :t)"), {"t": T0})
        conn.execute(sa.text(
            "insert into issues (kpi_code, region_code, owner_department, severity, state, "
            "origin, opened_at, step_started_at, reopen_count, missed_deadlines, "
            "evidence_count, version, updated_at, updated_by) values ('K01', 'NJ', 'CHANNEL', "
            "'P2', 'open', 'detection', :t, :t, 0, 0, 1, 1, :t, 'system')"), {"t": T0})
    store.migrate()
    assert store.current_revision() == "0005" == store.head_revision()
    wf = Workflow(store, clock=lambda: T0)
    (issue,) = wf.issues()
    assert (issue.id, issue.kpi_code, issue.state, issue.change_id) == (1, "K01", "open", None)
    assert wf.acknowledge(1, "o", "Zhao").state == "acknowledged"
    with store.begin_read() as conn:
        index_sql = conn.execute(sa.text("select sql from sqlite_master where name = "
                                         "'uq_issues_active_kpi_region'")).scalar_one()
    assert "change_id IS NULL" in index_sql
    assert ChangeRegister(wf).changes() == []
    # no way back past 0004 (it protects the audit trail): refused, nothing changed
    with pytest.raises(NotImplementedError, match="not downgraded"):
        with store.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                command.downgrade(_alembic_config(conn), "0002")
    assert store.current_revision() == "0005"
    assert [v.state for v in wf.issues()] == ["acknowledged"]
    store.dispose()


def test_migration_0003_downgrades_to_0002_without_the_register(tmp_path):
    from alembic import command

    store = IssueStore(f"sqlite:///{tmp_path / 'old.sqlite'}")
    for revision, step in (("0003", command.upgrade), ("0002", command.downgrade)):
        with store.engine.connect() as conn:
            conn = conn.execution_options(immediate=True)
            with conn.begin():
                step(_alembic_config(conn), revision)
    with store.begin_read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert store.current_revision() == "0002"
    assert "changes" not in tables and "issues" in tables
    store.dispose()


# ------------------------------------------------------------------ the warehouse copy


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(REMEDIATION_DDL)
    return con


def test_warehouse_copy_replaces_both_tables(states_env, templates):
    con = _warehouse()
    snap = datetime(2026, 11, 2, 10, 0)
    views = states_env.reg.changes()
    assert write_change_copy(con, views, snap) == (5, 15)
    rows = con.execute("select change_id, state, owner_department, change_type, "
                       "planned_launch_date, launched_on, snapshot_at from rem_changes "
                       "order by change_id").fetchall()
    expected_states = dict((i, s) for s, i in templates.ids.items())
    assert [(r[0], r[1]) for r in rows] == sorted(expected_states.items())
    assert {r[2:5] for r in rows} == {("HOTLINE", "tariff", date(2026, 11, 12))}
    assert [r[5] for r in rows if r[1] == "launched"] == [T0.date()]
    assert {r[6] for r in rows} == {snap}
    assert con.execute("select kpi_code, region_code, count(*) from rem_change_scopes "
                       "group by all order by all").fetchall() == \
        [("K02", "NJ", 5), ("K02", "WX", 5), ("K03", "NJ", 5)]
    # the next copy replaces (here: only the launched change is left)
    launched = [v for v in views if v.state == "launched"]
    assert write_change_copy(con, launched, snap) == (1, 3)
    assert con.execute("select count(*) from rem_change_scopes").fetchone() == (3,)


def test_a_failing_copy_leaves_the_previous_one(states_env):
    con = _warehouse()
    views = states_env.reg.changes()
    write_change_copy(con, views[:1], T0)
    with pytest.raises(duckdb.ConstraintException):
        write_change_copy(con, views + views[:1], T0)  # a duplicate change id
    assert con.execute("select change_id from rem_changes").fetchall() == [(views[0].id,)]
    assert con.execute("select count(*) from rem_change_scopes").fetchone() == (3,)


def test_detect_and_verify_copies_the_register(states_env, tmp_path, monkeypatch):
    """The pipeline's step on a warehouse with no data yet (no as-of): nothing to detect,
    but the issues and the register are copied."""
    monkeypatch.delenv("QLOOP_ISSUES_URL", raising=False)
    settings = Settings(home=tmp_path / "home", inbox=tmp_path)
    con = duckdb.connect(str(settings.warehouse.parent.mkdir(parents=True) or
                             settings.warehouse))
    con.execute(REMEDIATION_DDL)
    con.execute("create table int_as_of (as_of_at timestamp, as_of_date date)")
    con.close()
    run = detect_and_verify(settings, states_env.wf)
    assert (run.changes_copied, run.change_scopes_copied, run.issues_copied) == (5, 15, 1)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    assert con.execute("select count(*) from rem_changes where state = 'vetoed'").fetchone() \
        == (1,)
    con.close()



# ------------------------------------------------------------------ two processes at once


def _change_worker(url: str, change_id: int, user: str, action: str, version: int,
                   barrier, results) -> None:
    from dagster_project.lib.remediation.changes import ChangeRegister
    from dagster_project.lib.remediation.workflow import Workflow

    store = open_store(url)
    reg = ChangeRegister(Workflow(store, clock=lambda: T0))
    reg.change(change_id)  # connected and warmed up before the start
    try:
        barrier.wait(120)
        view = (reg.test_veto(change_id, user, f"veto by {user}", expected_version=version)
                if action == "test_veto" else
                reg.cancel(change_id, user, f"cancel by {user}", expected_version=version))
        results.put((user, action, "ok", view.version))
    except WorkflowError as error:
        results.put((user, action, type(error).__name__, str(error)))
    except Exception as error:  # anything else is a failure the test must see
        results.put((user, action, "crash", repr(error)))
    finally:
        store.dispose()


def test_veto_and_cancel_on_the_same_version_one_wins(env):
    from .test_workflow_concurrency import run_together

    url = str(env.store.url)
    for _ in range(3):
        change_id = env.register().id
        results = run_together(_change_worker, [(url, change_id, QM, "test_veto", 1),
                                                (url, change_id, OWNER, "cancel", 1)])
        assert sorted(r[2] for r in results) == ["ConflictError", "ok"], results
        (winner,) = [r for r in results if r[2] == "ok"]
        view = env.reg.change(change_id)
        assert (view.version, view.state) == (2, TO_STATE[winner[1]])
        # the loser left no trace: no veto issue after a cancel, one after a veto
        assert len(view.linked_issues) == (1 if winner[1] == "test_veto" else 0)
        assert [e["action"] for e in env.reg.events(change_id)] == ["register", winner[1]]
