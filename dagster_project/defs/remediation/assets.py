"""The closed loop in the asset graph: detection + verification after the KPI marts,
the issue copy dbt ranks on, the closure lists and the monthly assessment export."""

import json

import dagster as dg

from ...lib.progress import PROGRESS
from ...lib.row_counts import ROW_COUNT
from ...lib.remediation.assessment import export_assessment
from ...lib.remediation.loop import detect_and_verify, workflow_session, write_closure_lists
from ...lib.remediation.post_evaluation import LOG_TABLE, act_on_post_evaluations
from ...lib.warehouse import CHANGE_SCOPES_COPY_TABLE, CHANGES_COPY_TABLE, connect
from ..resources import QualityLoopPaths


@dg.multi_asset(
    specs=[
        dg.AssetSpec("rem_issues", deps=["fct_kpi_breach_signals", "fct_kpi_values", "int_cities",
                                         "int_kpi_complete_through",
                                         # a promoted hotspot's fix is verified on it
                                         "fct_contact_baselines"],
                     group_name="remediation", kinds={"sqlite", "duckdb"},
                     description="The issue store's issues, copied into the warehouse."),
        dg.AssetSpec(CHANGES_COPY_TABLE, group_name="remediation", kinds={"sqlite", "duckdb"},
                     description="The change register, copied into the warehouse."),
        dg.AssetSpec(CHANGE_SCOPES_COPY_TABLE, group_name="remediation",
                     kinds={"sqlite", "duckdb"},
                     description="Each registered change's KPIs and regions."),
    ],
)
def rem_issues(context: dg.AssetExecutionContext, paths: QualityLoopPaths):
    """Detection (R1-R3 open issues, R4 warnings), verification of fixes, reopening; then
    the issue store's issues and change register copied into the warehouse."""
    settings = paths.settings
    PROGRESS.info("detection: breaches and fixes checked against the issue store")
    with workflow_session(settings) as workflow:
        run = detect_and_verify(settings, workflow)
    report = settings.runs / f"{context.run_id}.remediation.json"
    report.write_text(json.dumps(run.as_dict(), indent=2), encoding="utf-8")
    d, v = run.detection, run.verification
    PROGRESS.info(f"detection: {len(d.opened)} issue(s) opened, {len(v.verified)} verified, "
                  f"{len(d.reopened) + len(v.reopened)} reopened; {run.active} active")
    yield dg.MaterializeResult(asset_key="rem_issues", metadata={
        "opened": len(d.opened), "evidence_added": d.evidence_added,
        "severity_raised": d.severity_raised, "reopened": len(d.reopened) + len(v.reopened),
        "verified": len(v.verified), "warnings_r4": d.warnings, "active_issues": run.active,
        "overdue_issues": run.overdue, "issues_copied": run.issues_copied,
        "issue_store": dg.MetadataValue.text(settings.issues_url),
        ROW_COUNT: run.issues_copied,
    })
    yield dg.MaterializeResult(asset_key=CHANGES_COPY_TABLE, metadata={
        "changes_copied": run.changes_copied,
        "issue_store": dg.MetadataValue.text(settings.issues_url),
        ROW_COUNT: run.changes_copied,
    })
    yield dg.MaterializeResult(asset_key=CHANGE_SCOPES_COPY_TABLE, metadata={
        "change_scopes_copied": run.change_scopes_copied,
        ROW_COUNT: run.change_scopes_copied,
    })


@dg.asset(deps=["fct_horizontal_assessment"], group_name="remediation", kinds={"csv"})
def horizontal_assessment_export(paths: QualityLoopPaths) -> dg.MaterializeResult:
    """The monthly ranking of cities and departments as CSV in <home>/exports/."""
    settings = paths.settings
    con = connect(settings.warehouse, read_only=True)
    try:
        files = export_assessment(con, settings.exports)
    finally:
        con.close()
    PROGRESS.info(f"exports: ranking of {len(files)} month(s)"
                  + (f", latest {max(files).name}" if files else ""))
    return dg.MaterializeResult(metadata={"files": [str(f) for f in files]})


# After the satisfaction post-evaluation (dbt, after detection): the lists show it, and the
# department's hotspots of the week.
@dg.asset(deps=["rem_issues", "fct_issue_satisfaction_evaluation", "fct_hotspots",
                "fct_hotspot_changes"], group_name="remediation", kinds={"excel", "email"})
def closure_lists(context: dg.AssetExecutionContext, paths: QualityLoopPaths) -> dg.MaterializeResult:
    """Each department's closure list (销项清单), xlsx + csv, e-mailed when SMTP is set."""
    settings = paths.settings
    with workflow_session(settings) as workflow:
        result = write_closure_lists(settings, workflow)
    for delivery in result.deliveries:
        if not delivery.ok:
            context.log.warning(f"closure list {delivery.department_code} not sent: {delivery.error}")
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(result.files[0].xlsx.parent)) if result.files else "",
        "rows": sum(f.rows for f in result.files),
        "overdue": sum(f.overdue for f in result.files),
        "sent": sum(d.ok for d in result.deliveries),
        "not_sent": sum(not d.ok for d in result.deliveries),
    })


@dg.asset(key=LOG_TABLE, deps=["fct_change_post_evaluation"], group_name="remediation",
          kinds={"sqlite", "duckdb", "excel", "email"})
def rem_post_evaluations(context: dg.AssetExecutionContext,
                         paths: QualityLoopPaths) -> dg.MaterializeResult:
    """Post-evaluation of launched changes acted on: an issue (rule PE) for each worse
    verdict, new or changed verdicts sent to the change's owner department (csv + xlsx in
    <home>/exports/post_evaluation/, e-mailed when SMTP is set)."""
    settings = paths.settings
    with workflow_session(settings) as workflow:
        run = act_on_post_evaluations(settings, workflow)
    PROGRESS.info(f"exports: post-evaluation, {run.notified} verdict(s) sent, "
                  f"{len(run.detection.opened)} issue(s) opened")
    for delivery in run.deliveries:
        if not delivery.ok:
            context.log.warning(f"post-evaluation of {delivery.department_code} not mailed: "
                                f"{delivery.error}")
    return dg.MaterializeResult(metadata={
        "worse": run.worse_signals, "issues_opened": len(run.detection.opened),
        "evidence_added": run.detection.evidence_added,
        "too_old": run.detection.too_old, "verdicts_sent": run.notified,
        "files": [str(f.csv) for f in run.files],
        "mailed": sum(d.ok for d in run.deliveries),
    })
