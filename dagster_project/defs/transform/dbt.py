"""The dbt project as Dagster assets: asset key = table name, group from the model's folder."""

import functools
import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ...lib import unchanged_nodes
from ...lib.dbt_state import BUILD, build_args, project_fingerprint, record_build, start_build
from ...lib.quality.validate import preload_gx
from ...lib.settings import DBT_PROJECT_DIR
from ..resources import QualityLoopPaths

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()



class QualityLoopTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Sources are the landing tables the ingest assets write; models are named tables.
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "ingest"
        # models/marts/quality -> quality, other marts -> reporting; staging,
        # intermediate and seeds -> transform (the defs/ domains).
        # models/marts/remediation, marts/assessment, marts/changes, staging/remediation
        # -> remediation.
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        if {"remediation", "assessment", "changes"} & set(folders):
            return "remediation"
        if folders[:1] == ["marts"]:
            return "quality" if "quality" in folders else "reporting"
        return "transform"


# The models that rank issue handling read `rem_issues`, which the detection asset writes
# after the KPI marts: they are built by a second dbt invocation.
AFTER_DETECTION_TAG = "after_detection"
AFTER_DETECTION = f"tag:{AFTER_DETECTION_TAG}"


def _unchanged_outputs(context: dg.AssetExecutionContext, unchanged: list[str]):
    """The left-out models and seeds are as the last build left them, and current: their
    outputs let the steps that read them run (Dagster skips a step whose input is missing)."""
    manifest = _manifest()
    for unique_id in unchanged:  # parents first
        name = manifest["nodes"][unique_id]["name"]
        yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_key(
            dg.AssetKey(name)), metadata={"qloop/unchanged": dg.MetadataValue.text(
                "not rebuilt: built from the same deliveries and dbt project as before")})


def _carried_over_checks(context: dg.AssetExecutionContext,
                         results: list[unchanged_nodes.LastTestResult]):
    """A left-out test's asset check gets the result of the last build that ran it (what it
    tests has not changed since), marked as carried over. Without a result, Dagster would
    warn on every daily run that a blocking check emitted nothing."""
    check_keys = {spec.key.name: spec.key for spec in context.assets_def.check_specs}
    for result in results:
        key = check_keys.get(result.name)
        if key is None:  # an after-detection test: the other step's check
            continue
        metadata = {"qloop/unchanged": dg.MetadataValue.text(
            f"not run again: what it tests is unchanged since run {result.run_id}, "
            f"whose result ({result.status}) this is")}
        if result.failures is not None:
            metadata["dagster_dbt/failed_row_count"] = result.failures
        yield dg.AssetCheckResult(
            asset_key=key.asset_key, check_name=key.name, passed=result.status == "pass",
            severity=(dg.AssetCheckSeverity.WARN if result.status == "warn"
                      else dg.AssetCheckSeverity.ERROR),
            metadata=metadata)


@functools.cache
def _manifest() -> dict[str, Any]:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def _whole_selection(context: dg.AssetExecutionContext) -> bool:
    """Not a subset chosen in the UI: every asset and check of the dbt op (dagster-dbt's
    own test for a subsetted execution)."""
    assets_def = context.assets_def
    return (assets_def.keys_by_output_name == assets_def.node_keys_by_output_name
            and assets_def.check_specs_by_output_name == assets_def.node_check_specs_by_output_name)


def _dbt_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: QualityLoopPaths,
               incremental_models: bool = False):
    """dbt build of the selected models (unit tests run in CI, not in every pipeline run).
    With incremental_models, decides whether they are rebuilt in full (lib/dbt_state.py)
    and leaves out the nodes whose inputs have not changed (lib/unchanged_nodes.py)."""
    settings = paths.settings
    # One target folder per home, reused by every run, so dbt's partial parsing works
    # (a fresh folder costs a full parse each run). Runs of one home never overlap:
    # the warehouse file admits one writer.
    target = settings.dbt_target
    unchanged: list[str] = []
    carried_over: list[unchanged_nodes.LastTestResult] = []
    if incremental_models:
        args, reason = build_args(settings, context.run.tags)
        if reason:
            context.log.info(f"incremental models rebuilt in full: {reason}")
        manifest, project = _manifest(), project_fingerprint()
        versions = unchanged_nodes.source_versions(settings.warehouse)
        if not reason and _whole_selection(context):
            record = unchanged_nodes.read_record(settings)
            unchanged = unchanged_nodes.unchanged_nodes(manifest, record, versions, project)
            carried_over = unchanged_nodes.last_results_of_left_out_tests(
                manifest, unchanged, record)
            args += unchanged_nodes.leave_out_args(manifest, unchanged, AFTER_DETECTION_TAG)
            if unchanged:
                names = ", ".join(sorted(manifest["nodes"][u]["name"] for u in unchanged))
                context.log.info(f"left out, built from unchanged inputs (with the tests over "
                                 f"them alone): {names}")
        start_build(settings)
    else:
        args = list(BUILD)
    try:
        # First: Dagster wants a multi-asset's outputs in topological order, and a left-out
        # node is built only from left-out nodes.
        yield from _unchanged_outputs(context, unchanged)
        yield from _carried_over_checks(context, carried_over)
        yield from dbt.cli(args, context=context, target_path=target).stream()
        if incremental_models:
            unchanged_nodes.write_record(settings, manifest, versions, project,
                                         target / "run_results.json", context.run_id)
            record_build(settings)
    finally:
        # Keep the per-model timings and test results with the run's other reports.
        run_results = target / "run_results.json"
        if run_results.exists():
            settings.runs.mkdir(parents=True, exist_ok=True)
            step = context.op_def.name
            shutil.copyfile(run_results, settings.runs / f"{context.run_id}.{step}.run_results.json")


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, exclude=AFTER_DETECTION,
            dagster_dbt_translator=QualityLoopTranslator())
def qualityloop_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                           paths: QualityLoopPaths):
    """Staging, entities, the KPI marts, quality marts, breach signals and control charts."""
    # While dbt works in its own process, this one mostly waits: import Great Expectations
    # for the quality step now (not at start-up, where it would slow the run's launch).
    preload_gx()
    yield from _dbt_build(context, dbt, paths, incremental_models=True)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, select=AFTER_DETECTION,
            name="qualityloop_dbt_after_detection", dagster_dbt_translator=QualityLoopTranslator())
def qualityloop_dbt_after_detection(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                                    paths: QualityLoopPaths):
    """The horizontal assessment and the closed issues' satisfaction post-evaluation, over the
    issue copy the detection step refreshed."""
    yield from _dbt_build(context, dbt, paths)


def dbt_resource() -> DbtCliResource:
    """dagster-dbt's resource as documented: the dbt beside this interpreter (a venv that is
    not activated is not on PATH). dbt's debug log file is off (`--log-level-file none`, a
    dbt flag): it formats and writes every query dbt sends; dbt's info-level events still
    reach the run's log through dagster-dbt."""
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=str(Path(sys.executable).with_name("dbt")),
                          global_config_flags=["--log-level-file", "none"])
