"""Dagster definitions: ingest -> dbt (transform, quality, reporting marts) -> export."""

from __future__ import annotations

import dagster as dg

from .defs.ingest.assets import raw_landing
from .defs.reporting.export import kpi_snapshot_export
from .defs.resources import QualityLoopPaths
from .defs.transform.dbt import dbt_resource, qualityloop_dbt_models

PIPELINE_JOB = "qualityloop_pipeline"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Load the inbox, build every model and check, write the group snapshot.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[raw_landing, qualityloop_dbt_models, kpi_snapshot_export],
    jobs=[pipeline_job],
    resources={"paths": QualityLoopPaths.from_env(), "dbt": dbt_resource()},
)
