"""The issue store with several writing processes (closed-loop.md: several users, one list).

Real processes (multiprocessing, 'spawn': a fresh interpreter each, nothing shared but the
SQLite file), released together by a Barrier right before they act. Each acting worker
has already opened its store and read the issue, so the race is in the action itself; the
migrating workers start from a fresh file and are released right before migrating.
"""

from __future__ import annotations

import multiprocessing
import traceback
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dagster_project.lib.remediation.store import open_store

from .test_workflow import OWNER, PASSWORD, QM, T0, USERS, Env, sig

SPAWN = multiprocessing.get_context("spawn")
ROUNDS = 3
TIMEOUT = 120


def _act_worker(url: str, issue_id: int, user: str, action: str,
                expected_version: int | None, now_iso: str, barrier, results) -> None:
    from dagster_project.lib.remediation.rules import WorkflowError
    from dagster_project.lib.remediation.workflow import Workflow

    store = open_store(url)
    now = datetime.fromisoformat(now_iso)
    wf = Workflow(store, clock=lambda: now)
    wf.issue(issue_id)  # connected and warmed up before the start
    try:
        barrier.wait(TIMEOUT)
        if action == "acknowledge":
            view = wf.acknowledge(issue_id, user, f"responsible named by {user}",
                                  expected_version=expected_version)
        else:
            view = wf.comment(issue_id, user, f"comment by {user}",
                              expected_version=expected_version)
        results.put((user, "ok", view.version))
    except WorkflowError as error:
        results.put((user, type(error).__name__, str(error)))
    except Exception as error:  # anything else is a failure the test must see
        results.put((user, "crash", "".join(traceback.format_exception(error))[-3000:]))
    finally:
        store.dispose()


def _detect_worker(url: str, now_iso: str, barrier, results) -> None:
    from dagster_project.lib.remediation.workflow import Workflow

    store = open_store(url)
    now = datetime.fromisoformat(now_iso)
    wf = Workflow(store, clock=lambda: now)
    wf.issues()
    try:
        barrier.wait(TIMEOUT)
        outcome = wf.apply_signals([sig("K01", "GZ", "R1", date(2026, 11, 1)),
                                    sig("K01", "GZ", "R2", date(2026, 11, 1))], as_of=now)
        results.put(("ok", len(outcome.opened), outcome.evidence_added,
                     outcome.already_seen))
    except Exception as error:
        results.put(("crash", "".join(traceback.format_exception(error))[-3000:]))
    finally:
        store.dispose()


def _migrate_worker(url: str, barrier, results) -> None:
    from dagster_project.lib.remediation.store import IssueStore

    try:
        store = IssueStore(url)  # open_store() = IssueStore(url) + migrate(); no file access
        barrier.wait(TIMEOUT)
        store.migrate()
        results.put(("ok", store.current_revision(), store.head_revision()))
        store.dispose()
    except Exception as error:
        results.put(("crash", "".join(traceback.format_exception(error))[-3000:]))


def run_together(target, argsets: list[tuple]) -> list[tuple]:
    barrier = SPAWN.Barrier(len(argsets))
    results = SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*args, barrier, results))
                 for args in argsets]
    try:
        for process in processes:
            process.start()
        found = [results.get(timeout=TIMEOUT) for _ in processes]
        for process in processes:
            process.join(TIMEOUT)
            assert process.exitcode == 0
        return found
    finally:
        for process in processes:  # only if something went wrong above
            if process.is_alive():
                process.kill()
                process.join()


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path / "issues.sqlite", T0)
    for name, role, department in USERS:
        e.wf.add_user(name, role, PASSWORD, department)
    yield e
    e.close()


@pytest.mark.parametrize("action,actors", [("comment", (QM, OWNER)),
                                           ("acknowledge", (QM, OWNER))])
def test_same_expected_version_one_wins_the_other_conflicts(action, actors, env):
    for round_ in range(ROUNDS):
        issue_id = env.detect(sig("K01", f"R{round_}")).opened[0]
        version = env.row(issue_id)["version"]
        events_before = env.wf.events(issue_id)
        results = run_together(_act_worker, [
            (env.url, issue_id, user, action, version, "2026-11-02T10:00:00")
            for user in actors])
        outcomes = sorted(r[1] for r in results)
        assert outcomes == ["ConflictError", "ok"], results
        (winner,) = [r for r in results if r[1] == "ok"]
        (loser,) = [r for r in results if r[1] == "ConflictError"]
        assert winner[2] == version + 1
        assert f"issue {issue_id} was changed by {winner[0]}" in loser[2]
        assert f"you acted on version {version}" in loser[2]
        row = env.row(issue_id)
        assert (row["version"], row["updated_by"]) == (version + 1, winner[0])
        events = env.wf.events(issue_id)
        assert events[:len(events_before)] == events_before
        assert len(events) == len(events_before) + 1
        assert (events[-1]["actor"], events[-1]["action"], events[-1]["seq"]) == \
               (winner[0], action, len(events))
        if action == "acknowledge":
            assert row["state"] == "acknowledged"
            assert row["responsible"] == f"responsible named by {winner[0]}"


def test_two_acknowledgements_without_a_version_one_is_refused(env):
    for round_ in range(ROUNDS):
        issue_id = env.detect(sig("K01", f"R{round_}")).opened[0]
        results = run_together(_act_worker, [
            (env.url, issue_id, user, "acknowledge", None, "2026-11-02T10:00:00")
            for user in (QM, OWNER)])
        assert sorted(r[1] for r in results) == ["InvalidTransition", "ok"], results
        (loser,) = [r for r in results if r[1] == "InvalidTransition"]
        assert "cannot acknowledge an issue that is acknowledged" in loser[2]
        events = env.wf.events(issue_id)
        assert [e["action"] for e in events] == ["open", "acknowledge"]
        assert env.row(issue_id)["version"] == 2


def test_concurrent_detection_opens_one_issue(env):
    results = run_together(_detect_worker, [(env.url, "2026-11-02T10:00:00")] * 3)
    assert all(r[0] == "ok" for r in results), results
    # one process opened the issue and added the R2 evidence; the others saw both signals
    assert sorted(r[1:] for r in results) == [(0, 0, 2), (0, 0, 2), (1, 1, 0)]
    found = env.wf.issues()
    assert len(found) == 1
    assert (found[0].severity, found[0].evidence_count) == ("P1", 2)
    assert len(env.wf.evidence(found[0].id)) == 2
    assert len(env.wf.events(found[0].id)) == 2


def test_migration_from_processes_starting_at_once(tmp_path):
    # Before the fix in IssueStore.migrate, most rounds failed with "database is locked"
    # (switching a fresh file to WAL); five rounds make a regression all but certain to show.
    for round_ in range(5):
        url = f"sqlite:///{tmp_path / f'fresh{round_}.sqlite'}"
        results = run_together(_migrate_worker, [(url,)] * 2)
        assert all(r[0] == "ok" for r in results), results
        # every process ends at the newest migration (0005: evidence keyed by period type)
        assert all(r[1] == r[2] == "0005" for r in results), results
        store = open_store(url)
        with store.begin_read() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            versions = conn.exec_driver_sql("select version_num from alembic_version").all()
        store.dispose()
        assert {"users", "issues", "issue_events", "issue_evidence", "login_throttle",
                "board_sessions", "user_events"} <= tables
        assert versions == [("0005",)]
