"""Dagster definitions: ingest -> dbt (transform, quality, reporting marts) -> export,
detection and verification -> dbt (assessment) -> ranking export; weekly closure lists."""

from __future__ import annotations

import dagster as dg

from .defs.automation import AUTOMATION, CLOSURE_LISTS_JOB, PIPELINE_JOB
from .defs.ingest.assets import raw_landing
from .defs.quality.assets import quality_checks, quality_suites
from .defs.remediation.assets import (
    closure_lists, horizontal_assessment_export, rem_issues, rem_post_evaluations,
)
from .defs.reporting.board import board_copy
from .defs.reporting.export import kpi_snapshot_export
from .defs.reporting.exposures import board_page_specs
from .defs.resources import QualityLoopPaths
from .defs.transform.dbt import (
    dbt_project, dbt_resource, qualityloop_dbt_after_detection, qualityloop_dbt_models,
)

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all().materializable() - dg.AssetSelection.assets(closure_lists),
    description="Load the inbox, build every model and check, write the group snapshot, "
                "detect breaches and verify fixes, rank cities and departments.",
    executor_def=dg.in_process_executor,
)

closure_lists_job = dg.define_asset_job(
    CLOSURE_LISTS_JOB,
    selection=dg.AssetSelection.assets(closure_lists),
    description="Write every department's closure list (销项清单) and e-mail it.",
    executor_def=dg.in_process_executor,
)

paths = QualityLoopPaths.from_env()
defs = dg.Definitions(
    assets=[raw_landing, qualityloop_dbt_models, quality_suites, kpi_snapshot_export, rem_issues,
            qualityloop_dbt_after_detection, horizontal_assessment_export, closure_lists,
            rem_post_evaluations, board_copy, *board_page_specs(dbt_project.manifest_path)],
    asset_checks=[quality_checks],
    jobs=[pipeline_job, closure_lists_job],
    **AUTOMATION,
    resources={"paths": paths, "dbt": dbt_resource(paths.settings)},
)
