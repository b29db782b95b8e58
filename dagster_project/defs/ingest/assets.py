"""Ingestion: every inbox file lands in its raw table (one multi-asset, one pass over the inbox)."""

import json
from collections import Counter
from dataclasses import asdict

import dagster as dg

from ...lib.extracts import ENTITIES
from ...lib.ingest import load_inbox
from ...lib.warehouse import DELIVERIES_TABLE, FILES_TABLE, UNPARSED_TABLE, connect
from ..resources import QualityLoopPaths

LANDING_TABLES = [e.table for e in ENTITIES] + [FILES_TABLE, DELIVERIES_TABLE, UNPARSED_TABLE]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table, group_name="ingest", kinds={"duckdb"},
                     description="Landing table: values as delivered, with file and line.")
        for table in LANDING_TABLES
    ],
    can_subset=False,
)
def raw_landing(context: dg.AssetExecutionContext, paths: QualityLoopPaths):
    """Load new and re-delivered inbox files; write the per-file report of this run."""
    settings = paths.settings
    con = connect(settings.warehouse)
    try:
        results = load_inbox(con, settings.inbox, context.run_id)
        landed = dict(con.execute(
            "select entity, sum(rows_landed) from raw_files group by entity").fetchall())
    finally:
        con.close()

    report = settings.runs / f"{context.run_id}.ingest.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1))
    outcomes = Counter(r.outcome for r in results)
    for r in results:
        if r.outcome in ("rejected", "failed", "ignored"):
            context.log.warning(f"{r.file_name}: {r.outcome}: {r.reason}")
    context.log.info(f"inbox {settings.inbox}: {dict(outcomes)}")
    for entity in ENTITIES:
        yield dg.MaterializeResult(
            asset_key=entity.table,
            metadata={
                "rows_in_force": int(landed.get(entity.prefix) or 0),
                "files_this_run": sum(1 for r in results if r.entity == entity.prefix
                                      and r.outcome in ("loaded", "replaced")),
            },
        )
    for table in (FILES_TABLE, DELIVERIES_TABLE, UNPARSED_TABLE):
        yield dg.MaterializeResult(
            asset_key=table,
            metadata={f"files_{k}": v for k, v in outcomes.items()} | {"report": str(report)},
        )
