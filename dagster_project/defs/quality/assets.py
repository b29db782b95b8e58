"""Data quality after the dbt models: the GX suites, freshness, Data Docs, rejects CSV
(one step), and the asset checks that show each suite and each freshness result on its
raw landing table."""

import json

import dagster as dg

from ...lib.alerts import raise_alert
from ...lib.extracts import ENTITIES
from ...lib.progress import PROGRESS
from ...lib.quality.run import (
    EXPECTATION_RESULTS, FRESHNESS, SUITE_RESULTS, quality_report_path, run_quality,
)
from ...lib.quality.suites import load_suites
from ...lib.warehouse import connect
from ..resources import QualityLoopPaths

SUITES = load_suites()
QUALITY_TABLES = (SUITE_RESULTS, EXPECTATION_RESULTS, FRESHNESS)
# What the suites read: the file reconciliation (over every staging model), the rejects,
# the entity models (one row per key) and the file registry.
UPSTREAM = sorted({"fct_file_reconciliation", "fct_rejected_rows", "raw_files", "raw_deliveries"}
                  | {s.entity_model for s in SUITES})


def _blocking_details(report: dict) -> str:
    """One line per failed blocking expectation (suite, why, files), for the alert."""
    lines = [f"{s['suite']}: {s['error']}" for s in report["suites"] if s.get("error")]
    for s in report["suites"]:
        for e in s["expectations"]:
            if not e["success"] and e["severity"] == "blocking":
                files = ", ".join(str(u.get("file_name")) for u in (e["unexpected"] or [])[:5])
                lines.append(f"{s['suite']}: {e['why']} [{e['column']} {e['kwargs']}]: {files}")
    return "\n".join(lines + [f"data docs: {report.get('data_docs') or '-'}"])


@dg.multi_asset(
    specs=[dg.AssetSpec(t, group_name="quality", kinds={"duckdb"}, deps=UPSTREAM,
                        description="Great Expectations results per run (see docs/quality.md).")
           for t in QUALITY_TABLES],
    can_subset=False,
)
def quality_suites(context: dg.AssetExecutionContext, paths: QualityLoopPaths):
    """Run the suites in expectations/ (GX over DuckDB metric frames), freshness per
    source; build the Data Docs and the run's rejects CSV."""
    settings = paths.settings
    PROGRESS.info(f"quality suites: running {len(SUITES)}")
    con = connect(settings.warehouse)
    try:
        report = run_quality(con, settings.home, settings.runs, context.run_id)
    finally:
        con.close()
    PROGRESS.info(f"quality suites: {report['suite_count']} run, {report['blocking_failed']} "
                  f"blocking and {report['warnings_failed']} warning expectation(s) failed")
    if report["withheld_sources"]:
        message = (f"blocking expectations failed: KPIs of {', '.join(report['withheld_sources'])} "
                   "are not published from this run")
        context.log.warning(message)
        raise_alert(settings, "blocking_check", message, _blocking_details(report), context.run_id)
    meta = {
        "suites": report["suite_count"], "expectations": report["expectation_count"],
        "blocking_failed": report["blocking_failed"], "warnings_failed": report["warnings_failed"],
        "withheld_sources": ", ".join(report["withheld_sources"]) or "none",
        "seconds": report["seconds"]["total"],
        "report": dg.MetadataValue.path(str(quality_report_path(settings.runs, context.run_id))),
        "rejects_csv": dg.MetadataValue.path(report["rejects_csv"]),
    }
    if report["data_docs"]:
        meta["data_docs"] = dg.MetadataValue.url(settings.data_docs_url)
        meta["data_docs_files"] = dg.MetadataValue.path(report["data_docs"])
    for table in QUALITY_TABLES:
        yield dg.MaterializeResult(asset_key=table, metadata=meta)


CHECK_SPECS = [
    dg.AssetCheckSpec("quality_suite", asset=s.name, additional_deps=[SUITE_RESULTS, EXPECTATION_RESULTS],
                      description=f"expectations/{s.name}.json: {len(s.expectations)} expectations "
                                  f"({s.blocking_count} blocking) over the entity's metric frame")
    for s in SUITES
] + [
    dg.AssetCheckSpec("freshness", asset=e.table, additional_deps=[FRESHNESS],
                      description="days (months) missing up to the report date, files that arrived late")
    for e in ENTITIES if e.kind in ("daily", "monthly")
]


def _latest_report(settings, run_id: str) -> dict | None:
    path = quality_report_path(settings.runs, run_id)
    if not path.exists():  # checks run without the suites: the latest report there is
        reports = sorted(settings.runs.glob("*.quality.json"), key=lambda p: p.stat().st_mtime)
        path = reports[-1] if reports else None
    return json.loads(path.read_text(encoding="utf-8")) if path else None


@dg.multi_asset_check(specs=CHECK_SPECS, can_subset=False)
def quality_checks(context: dg.AssetCheckExecutionContext, paths: QualityLoopPaths):
    """Each suite's verdict on its raw table (ERROR when a blocking expectation failed,
    WARN when only warnings did), and each entity's freshness (WARN)."""
    report = _latest_report(paths.settings, context.run.run_id)
    suites = {s["suite"]: s for s in (report or {}).get("suites", [])}
    for spec in CHECK_SPECS:
        if spec.name == "quality_suite":
            s = suites.get(spec.asset_key.to_user_string())
            if s is None:
                yield dg.AssetCheckResult(check_name=spec.name, asset_key=spec.asset_key, passed=False,
                                          severity=dg.AssetCheckSeverity.WARN,
                                          metadata={"note": "no quality results for this run"})
                continue
            failed = [e for e in s["expectations"] if not e["success"]]
            yield dg.AssetCheckResult(
                check_name=spec.name, asset_key=spec.asset_key, passed=s["success"],
                severity=dg.AssetCheckSeverity.ERROR if s["blocking_failed"] else dg.AssetCheckSeverity.WARN,
                metadata={
                    "blocking_failed": s["blocking_failed"],
                    "kpis_withheld_for": ", ".join(s["kpi_sources"]) if s["blocking_failed"] else "none",
                    "files": s["files"],
                    "failing_expectations": dg.MetadataValue.json([
                        {"severity": e["severity"], "expectation": e["expectation"], "column": e["column"],
                         "bounds": e["kwargs"], "why": e["why"], "unexpected_count": e["unexpected_count"],
                         "unexpected": e["unexpected"]} for e in failed]),
                    "unexpected_counts": dg.MetadataValue.json(
                        {f"{e['column']} {e['kwargs']} ({e['severity']})": e["unexpected_count"] for e in failed}),
                    "error": s["error"] or "",
                    "data_docs": (report or {}).get("data_docs") or "",
                },
            )
        else:
            entity = spec.asset_key.to_user_string().removeprefix("raw_")
            f = next((f for f in (report or {}).get("freshness", []) if f["entity"] == entity), None)
            if f is None:
                yield dg.AssetCheckResult(check_name=spec.name, asset_key=spec.asset_key, passed=False,
                                          severity=dg.AssetCheckSeverity.WARN,
                                          metadata={"note": "no freshness results for this run"})
                continue
            yield dg.AssetCheckResult(
                check_name=spec.name, asset_key=spec.asset_key, passed=f["passed"],
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"latest_business_date": f["latest_date"] or "", "report_date": f["report_date"] or "",
                          "missing_count": f["missing_count"],
                          "missing": dg.MetadataValue.json(f["missing"]),
                          "late_files": dg.MetadataValue.json(f["late"])},
            )
