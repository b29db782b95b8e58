"""Ingestion: every inbox file lands in its raw table (one multi-asset, one pass over the inbox)."""

import json
from collections import Counter
from dataclasses import asdict
from datetime import date

import dagster as dg

from ...lib.extracts import ENTITIES
from ...lib.ingest import Backfill, load_inbox
from ...lib.progress import Count
from ...lib.row_counts import ROW_COUNT, row_counts
from ...lib.warehouse import DELIVERIES_TABLE, FILES_TABLE, UNPARSED_TABLE, connect
from ..resources import QualityLoopPaths

LANDING_TABLES = [e.table for e in ENTITIES] + [FILES_TABLE, DELIVERIES_TABLE, UNPARSED_TABLE]


class LandingConfig(dg.Config):
    """Backfill a date range: set both (YYYY-MM-DD) to land the inbox files of those
    business dates again, even when unchanged; their KPIs are computed again downstream."""

    backfill_from: str = ""
    backfill_to: str = ""

    def backfill(self) -> Backfill | None:
        if not self.backfill_from and not self.backfill_to:
            return None
        try:
            return Backfill(date.fromisoformat(self.backfill_from), date.fromisoformat(self.backfill_to))
        except ValueError as err:
            raise dg.Failure(f"backfill_from / backfill_to: {err} (both needed, YYYY-MM-DD, "
                             "from <= to)") from None


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table, group_name="ingest", kinds={"duckdb"},
                     description="Landing table: values as delivered, with file and line.")
        for table in LANDING_TABLES
    ],
    can_subset=False,
)
def raw_landing(context: dg.AssetExecutionContext, config: LandingConfig, paths: QualityLoopPaths):
    """Load new and re-delivered inbox files (and, in a backfill, every file of its dates);
    write the per-file report of this run."""
    settings = paths.settings
    backfill = config.backfill()
    if backfill:
        context.log.info(f"backfill: the inbox files of {backfill.first} .. {backfill.last} are landed again")
    con = connect(settings.warehouse)
    try:
        results = load_inbox(con, settings.inbox, context.run_id, backfill,
                             progress=Count("files landed").update)
        landed = dict(con.execute(
            "select entity, sum(rows_landed) from raw_files group by entity").fetchall())
    finally:
        con.close()
    counts = row_counts(settings.warehouse,
                        [e.table for e in ENTITIES] + [FILES_TABLE, DELIVERIES_TABLE, UNPARSED_TABLE])

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
                ROW_COUNT: counts.get(entity.table, 0),
            },
        )
    for table in (FILES_TABLE, DELIVERIES_TABLE, UNPARSED_TABLE):
        yield dg.MaterializeResult(
            asset_key=table,
            metadata={f"files_{k}": v for k, v in outcomes.items()}
            | {"report": str(report), ROW_COUNT: counts.get(table, 0)},
        )
