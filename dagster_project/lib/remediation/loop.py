"""The closed loop's steps as the pipeline and the CLI run them (no Dagster here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from ..settings import Settings
from ..warehouse import connect
from . import warehouse_io
from .closure_list import ClosureListFiles, write_department_lists
from .hotspot_digest import add_week_sheets, mail_sections, read_week_hotspots
from .hotspots import hotspot_statuses
from .mailer import DeliveryResult, SmtpConfig, send_closure_lists
from .reference import departments
from .rules import LoopSettings
from .changes import ChangeRegister
from .store import open_store
from .workflow import DetectionOutcome, IssueView, VerificationOutcome, Workflow

CLOSED_RECENTLY_DAYS = 30  # closure lists keep closed and cancelled issues this long


def open_workflow(settings: Settings) -> Workflow:
    return Workflow(open_store(settings.issues_url), LoopSettings.from_env())


@contextmanager
def workflow_session(settings: Settings) -> Iterator[Workflow]:
    """The workflow service for one step; its store's connections are closed after."""
    workflow = open_workflow(settings)
    try:
        yield workflow
    finally:
        workflow.store.dispose()


@dataclass
class LoopRun:
    as_of: datetime | None
    detection: DetectionOutcome = field(default_factory=DetectionOutcome)
    verification: VerificationOutcome = field(default_factory=VerificationOutcome)
    issues_copied: int = 0
    changes_copied: int = 0
    change_scopes_copied: int = 0
    active: int = 0
    overdue: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat(sep=" ") if self.as_of else None
        return data


def detect_and_verify(settings: Settings, workflow: Workflow) -> LoopRun:
    """After the KPI models: act on new breaches, verify fixes, refresh `rem_issues` and
    the change register's copy (`rem_changes`, `rem_change_scopes`)."""
    con = connect(settings.warehouse)
    try:
        as_of = warehouse_io.as_of(con)
        run = LoopRun(as_of)
        if as_of is not None:
            run.detection = workflow.apply_signals(warehouse_io.read_signals(con), as_of)
            run.verification = verify_fixes(con, workflow)
        views = workflow.issues()
        run.issues_copied = warehouse_io.write_issue_copy(con, views, workflow.now())
        run.changes_copied, run.change_scopes_copied = warehouse_io.write_change_copy(
            con, ChangeRegister(workflow).changes(), workflow.now())
    finally:
        con.close()
    active = [v for v in views if v.state not in ("closed", "cancelled")]
    run.active, run.overdue = len(active), sum(v.lateness.overdue for v in active)
    return run


def verify_fixes(con: duckdb.DuckDBPyConnection, workflow: Workflow) -> VerificationOutcome:
    """Verify (or reopen) every issue in `verifying` against the warehouse's statuses (a
    promoted hotspot's: its category's days in its region, lib/remediation/hotspots.py)."""
    verifying = workflow.issues(state="verifying")
    pairs = [(v.kpi_code, v.region_code) for v in verifying if v.change_id is None]
    statuses = warehouse_io.read_statuses(con, pairs)
    statuses.update(hotspot_statuses(con, pairs))
    return workflow.verify(statuses)


def closure_list_issues(workflow: Workflow, department: str) -> list[IssueView]:
    """A department's issues that are open, or were closed or cancelled in the last 30 days."""
    since = workflow.now() - timedelta(days=CLOSED_RECENTLY_DAYS)
    return [v for v in workflow.issues(department=department)
            if (v.closed_at or v.cancelled_at or since) >= since]


def _region_names(settings: Settings) -> dict[str, tuple[str, str]]:
    try:
        con = connect(settings.warehouse, read_only=True)
    except duckdb.Error:
        return {}  # no warehouse yet (or a run holds it): the lists show region codes
    try:
        return warehouse_io.region_names(con)
    except duckdb.Error:
        return {}
    finally:
        con.close()


def _satisfaction(settings: Settings) -> dict:
    """The closed issues' satisfaction post-evaluation, empty when the warehouse cannot be
    read (none yet, a run holds it, or built before the mart existed): the lists then
    leave the satisfaction cells empty rather than fail."""
    try:
        con = connect(settings.warehouse, read_only=True)
    except duckdb.Error:
        return {}
    try:
        return warehouse_io.read_satisfaction(con)
    except duckdb.Error:
        return {}
    finally:
        con.close()


@dataclass
class ClosureListRun:
    files: list[ClosureListFiles]
    deliveries: list[DeliveryResult]


def write_closure_lists(settings: Settings, workflow: Workflow, out_dir: Path | None = None,
                        send: bool = True) -> ClosureListRun:
    """Every department's closure list (xlsx + csv), e-mailed when SMTP is configured, with
    the department's hotspots of the week (a workbook sheet and a section of the mail)."""
    names = _region_names(settings)
    satisfaction = _satisfaction(settings)
    rows = {code: [warehouse_io.closure_row(v, names, satisfaction)
                   for v in closure_list_issues(workflow, code)] for code in departments()}
    now = workflow.now()
    files = write_department_lists(rows, list(departments().values()),
                                   out_dir or settings.closure_lists / now.strftime("%Y%m%d"), now)
    week = read_week_hotspots(settings)
    add_week_sheets(files, week)
    config = SmtpConfig.from_env() if send else None
    deliveries = (send_closure_lists(config, files, workflow.recipients(), as_of_date=now.date(),
                                     sections=mail_sections(files, week))
                  if config is not None else [])
    return ClosureListRun(files, deliveries)
