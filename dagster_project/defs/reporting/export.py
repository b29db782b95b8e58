"""The group upload snapshot, written after the KPI marts are built and the data-quality
suites have run (a source whose blocking expectations failed is not published)."""

import json

import dagster as dg

from ...lib.progress import PROGRESS
from ...lib.quality.run import SUITE_RESULTS, withheld_sources
from ...lib.snapshot import export_snapshot
from ...lib.warehouse import connect
from ..resources import QualityLoopPaths


@dg.asset(deps=["fct_kpi_snapshot", "int_as_of", SUITE_RESULTS], group_name="reporting", kinds={"csv"})
def kpi_snapshot_export(context: dg.AssetExecutionContext, paths: QualityLoopPaths) -> dg.MaterializeResult:
    """`kpi_snapshot_<YYYYMMDD>.csv` + `.chk` in <home>/exports/ (atomic rename)."""
    settings = paths.settings
    con = connect(settings.warehouse)
    try:
        withheld = withheld_sources(con, context.run_id)
        files = export_snapshot(con, settings.exports, withheld, run_id=context.run_id)
    finally:
        con.close()
    if files is not None:
        settings.runs.mkdir(parents=True, exist_ok=True)
        (settings.runs / f"{context.run_id}.publication.json").write_text(
            json.dumps({"snapshot": str(files.data), "withheld": files.withheld}, indent=1), encoding="utf-8")
        for source, w in files.withheld.items():
            context.log.warning(f"KPIs {w['kpis']} ({source}) not published from this run: "
                                f"{w['kept_rows']} rows kept from run {w['kept_from_run']}")
    if files is None:
        context.log.warning("no daily extract loaded yet: no as-of time, no snapshot")
        PROGRESS.info("exports: no group snapshot (no daily extract loaded yet)")
        return dg.MaterializeResult(metadata={"written": False})
    PROGRESS.info(f"exports: group snapshot {files.data.name} ({files.rows} rows)")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(files.data)),
        "rows": files.rows, "size_bytes": files.size_bytes, "sha256": files.sha256,
        "withheld_sources": ", ".join(files.withheld) or "none",
    })
