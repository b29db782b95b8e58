"""The group upload snapshot, written after the KPI marts are built."""

import dagster as dg

from ...lib.snapshot import export_snapshot
from ...lib.warehouse import connect
from ..resources import QualityLoopPaths


@dg.asset(deps=["fct_kpi_snapshot", "int_as_of"], group_name="reporting", kinds={"csv"})
def kpi_snapshot_export(context: dg.AssetExecutionContext, paths: QualityLoopPaths) -> dg.MaterializeResult:
    """`kpi_snapshot_<YYYYMMDD>.csv` + `.chk` in <home>/exports/ (atomic rename)."""
    settings = paths.settings
    con = connect(settings.warehouse, read_only=True)
    try:
        files = export_snapshot(con, settings.exports)
    finally:
        con.close()
    if files is None:
        context.log.warning("no daily extract loaded yet: no as-of time, no snapshot")
        return dg.MaterializeResult(metadata={"written": False})
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(files.data)),
        "rows": files.rows, "size_bytes": files.size_bytes, "sha256": files.sha256,
    })
