"""The dbt project as Dagster assets: asset key = table name, group from the model's folder."""

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ...lib.settings import DBT_PROJECT_DIR
from ..resources import QualityLoopPaths

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()

# dbt folder -> Dagster group (the defs/ domains).
_GROUP_BY_FOLDER = {"staging": "transform", "intermediate": "transform", "quality": "quality",
                    "kpi": "reporting", "marts": "reporting"}


class QualityLoopTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Sources are the landing tables the ingest assets write; models are named tables.
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        for folder in reversed(folders):
            if folder in _GROUP_BY_FOLDER:
                return _GROUP_BY_FOLDER[folder]
        return "transform"


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=QualityLoopTranslator())
def qualityloop_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                           paths: QualityLoopPaths):
    """dbt build of the selected models (unit tests run in CI, not in every pipeline run)."""
    settings = paths.settings
    target = settings.dbt_target / context.run_id
    try:
        yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"],
                           context=context, target_path=target).stream()
    finally:
        # Keep the per-model timings and test results with the run's other reports.
        run_results = target / "run_results.json"
        if run_results.exists():
            settings.runs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_results, settings.runs / f"{context.run_id}.dbt_run_results.json")
        shutil.rmtree(target, ignore_errors=True)


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter: a venv that is not activated is not on PATH.
    dbt_executable = Path(sys.executable).with_name("dbt")
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=str(dbt_executable))
