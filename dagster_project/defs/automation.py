"""The rhythm of the seeds: schedules, the inbox sensor, and the run-failure alert.

All in Asia/Shanghai. They start stopped unless `QLOOP_AUTOMATION=on` (a demo or a test
should not start runs by itself); turn them on in the Dagster UI or with that setting.
"""

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from ..lib.alerts import raise_alert
from ..lib.extracts import match_file_name
from .resources import QualityLoopPaths

TIMEZONE = "Asia/Shanghai"
PIPELINE_JOB = "qualityloop_pipeline"
CLOSURE_LISTS_JOB = "weekly_closure_lists"


def _default_status() -> dg.DefaultScheduleStatus:
    on = os.environ.get("QLOOP_AUTOMATION", "").lower() in ("1", "on", "true", "yes")
    return dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED


def _sensor_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus(_default_status().value)


daily_refresh = dg.ScheduleDefinition(
    name="daily_refresh_0600", job_name=PIPELINE_JOB, cron_schedule="0 6 * * *",
    execution_timezone=TIMEZONE, default_status=_default_status(),
    tags={"qloop/trigger": "daily_refresh"},
    description="Daily refresh: yesterday's extracts in, KPIs, detection, board.")

weekly_closure_lists = dg.ScheduleDefinition(
    name="weekly_closure_lists_monday_0800", job_name=CLOSURE_LISTS_JOB,
    cron_schedule="0 8 * * 1", execution_timezone=TIMEZONE, default_status=_default_status(),
    description="Weekly tracking: every department's closure list out on Monday morning.")

monthly_review = dg.ScheduleDefinition(
    name="monthly_review_0900", job_name=PIPELINE_JOB, cron_schedule="0 9 1 * *",
    execution_timezone=TIMEZONE, default_status=_default_status(),
    tags={"qloop/trigger": "monthly_review"},
    description="Monthly review: the month's KPIs final (monthly files in) and the ranking.")


def inbox_deliveries(inbox: Path) -> dict[str, str]:
    """Every file of the inbox whose name the spec knows -> its delivery key
    (name, size, mtime): a re-delivery under the same name has a new key."""
    found = {}
    for path in sorted(inbox.iterdir()) if inbox.is_dir() else []:
        if path.is_file() and match_file_name(path.name) is not None:
            stat = path.stat()
            found[path.name] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return found


@dg.sensor(name="inbox_arrivals", job_name=PIPELINE_JOB, minimum_interval_seconds=60,
           default_status=_sensor_status())
def inbox_arrivals(context: dg.SensorEvaluationContext, paths: QualityLoopPaths):
    """A new or re-delivered file starts one run; the cursor (the deliveries already seen)
    lives in Dagster's storage, so a restart does not start runs again."""
    seen = json.loads(context.cursor) if context.cursor else {}
    current = inbox_deliveries(Path(paths.inbox))
    new = {name: key for name, key in current.items() if seen.get(name) != key}
    if not new:
        return dg.SkipReason(f"no new delivery among {len(current)} files")
    batch = json.dumps(sorted(new.items()))
    run_key = hashlib.sha256(batch.encode()).hexdigest()[:24]
    context.update_cursor(json.dumps({**seen, **new}, sort_keys=True))
    return dg.RunRequest(run_key=run_key, tags={"qloop/trigger": "inbox_arrivals",
                                                "qloop/files": str(len(new))})


@dg.run_failure_sensor(name="run_failure_alert", default_status=_sensor_status(),
                       monitor_all_code_locations=False)
def run_failure_alert(context: dg.RunFailureSensorContext):
    """A failed run is told to the data engineers (alerts.jsonl, and e-mail when set up)."""
    settings = QualityLoopPaths.from_env().settings
    run = context.dagster_run
    raise_alert(settings, "run_failure", f"run {run.run_id[:8]} of {run.job_name} failed",
                context.failure_event.message or "", run.run_id)


AUTOMATION = dict(schedules=[daily_refresh, weekly_closure_lists, monthly_review],
                  sensors=[inbox_arrivals, run_failure_alert])
