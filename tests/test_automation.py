"""Schedules, the inbox sensor and alerts (Dagster's own test contexts; real files)."""

from __future__ import annotations

import json
import os

import dagster as dg

from dagster_project.defs.automation import inbox_arrivals
from dagster_project.definitions import defs
from dagster_project.defs.resources import QualityLoopPaths
from dagster_project.lib.alerts import raise_alert, read_alerts
from dagster_project.lib.settings import Settings


def test_the_rhythm_of_the_seeds_in_shanghai_time():
    expected = {"daily_refresh_0600": ("0 6 * * *", "qualityloop_pipeline"),
                "weekly_closure_lists_monday_0800": ("0 8 * * 1", "weekly_closure_lists"),
                "monthly_review_0900": ("0 9 1 * *", "qualityloop_pipeline")}
    for name, (cron, job) in expected.items():
        schedule = defs.resolve_schedule_def(name)
        assert (schedule.cron_schedule, schedule.job_name) == (cron, job)
        assert schedule.execution_timezone == "Asia/Shanghai"


def _evaluate(inbox, cursor=None):
    paths = QualityLoopPaths(home=str(inbox.parent / "home"), inbox=str(inbox))
    # the paths resource is a context manager (a run holds the home's lock while it runs)
    with dg.build_sensor_context(cursor=cursor, resources={"paths": paths}) as context:
        result = inbox_arrivals(context)
        return result, context.cursor


def test_a_delivery_starts_one_run_and_a_redelivery_another(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cc_call_20261101.csv").write_text("a\n")
    (inbox / "notes.txt").write_text("not an extract")
    first, cursor = _evaluate(inbox)
    assert isinstance(first, dg.RunRequest) and first.tags["qloop/files"] == "1"
    # the same deliveries again (e.g. after a restart, with the stored cursor): no run
    again, cursor_again = _evaluate(inbox, cursor)
    assert isinstance(again, dg.SkipReason)
    assert cursor_again == cursor
    # a new file and a re-delivery of the first (new size and mtime): one new run
    (inbox / "cc_call_20261102.csv").write_text("b\n")
    (inbox / "cc_call_20261101.csv").write_text("a, corrected\n")
    os.utime(inbox / "cc_call_20261101.csv", ns=(1, 1_700_000_000_000_000_000))
    second, cursor2 = _evaluate(inbox, cursor)
    assert isinstance(second, dg.RunRequest) and second.tags["qloop/files"] == "2"
    assert second.run_key != first.run_key
    assert set(json.loads(cursor2)) == {"cc_call_20261101.csv", "cc_call_20261102.csv"}


def test_alerts_are_logged_and_mailed_only_when_configured(tmp_path):
    settings = Settings(home=tmp_path, inbox=tmp_path)
    alert = raise_alert(settings, "run_failure", "run x failed", "step dbt failed", "run-x",
                        environ={})
    assert alert.mailed is False and alert.mail_error is None
    # SMTP configured but unreachable: still logged, with the mail error
    alert = raise_alert(settings, "run_failure", "run y failed", "boom", "run-y",
                        environ={"QLOOP_SMTP_HOST": "127.0.0.1", "QLOOP_SMTP_PORT": "9",
                                 "QLOOP_ALERT_TO": "de@example.com"})
    assert alert.mailed is False and "connect" in alert.mail_error
    logged = read_alerts(settings)
    assert [a["run_id"] for a in logged] == ["run-x", "run-y"]
