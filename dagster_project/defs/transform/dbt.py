"""The dbt project as Dagster assets: asset key = table name, group from the model's folder.

The main build is `dbt build` of every model, seed and data test (unit tests run in CI).
Its incremental models read their own state from their tables. What dbt cannot tell from
the tables is a change of the project itself: a changed model must not keep rows its
previous SQL wrote. So the manifest of the last completed whole main build is kept per
home (`<home>/dbt-state/manifest.json`, dbt's `--state` artifacts), and a build compares
the project with it (dbt's `state:modified+`): what changed and what depends on it is
rebuilt with `--full-refresh`, the rest incrementally.
"""

import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from ...lib.progress import Count
from ...lib.quality.validate import preload_gx
from ...lib.row_counts import ROW_COUNT, row_counts
from ...lib.settings import DBT_PROJECT_DIR, Settings
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


TRANSLATOR = QualityLoopTranslator()

# The models that rank issue handling read `rem_issues`, which the detection asset writes
# after the KPI marts: they are built by a second dbt invocation.
AFTER_DETECTION_TAG = "after_detection"
AFTER_DETECTION = f"tag:{AFTER_DETECTION_TAG}"

# `qloop run --full-refresh`, or this tag on a run launched from the Dagster UI.
FULL_REFRESH_TAG = "qloop/full_refresh"
# Unit tests run in CI (`make test`), not in every pipeline run: they test the SQL.
BUILD = ("build", "--exclude-resource-type", "unit_test")
# A full build is a few big models (staging parses every delivery, the entities
# de-duplicate tens of millions of keys), each using both cores inside DuckDB while it
# computes, but only about one and a half while it writes its table. Two at a time fill
# the cores; four (profiles.yml, for the ~190 small nodes of a daily build) only compete
# for them and the memory budget: the month's dbt step took 71.6-73.1 s with two threads,
# 96.7-112.5 s with four (docs/performance.md).
FULL_BUILD = (*BUILD, "--full-refresh", "--threads", "2")
# dbt's state selector: the nodes whose definition differs from the state manifest's, and
# every node downstream of them.
CHANGED = "state:modified+"


class _Tally:
    """What a step's dbt invocations produced of what the step was asked for (its selected
    assets and checks), told as progress: `dbt nodes n of N`."""

    def __init__(self, context: dg.AssetExecutionContext, what: str):
        self.context = context
        self.asked = {*context.selected_asset_keys, *context.selected_asset_check_keys}
        self.built: set = set()
        self.count = Count(what, len(self.asked))

    def add(self, event) -> None:
        if isinstance(event, dg.Output):
            key = self.context.asset_key_for_output(event.output_name)
        elif isinstance(event, dg.AssetCheckResult):
            key = dg.AssetCheckKey(event.asset_key, event.check_name)
        else:
            return
        if key in self.asked and key not in self.built:
            self.built.add(key)
            self.count.advance()

    @property
    def missing(self) -> set:
        return self.asked - self.built


def _stream(context: dg.AssetExecutionContext, dbt: DbtCliResource, settings: Settings,
            args: list[str], tally: _Tally, name: str = "", own_selection: bool = False
            ) -> Iterator:
    """One dbt invocation, its events yielded as the step's outputs and check results. Its
    run_results.json is kept with the run's other reports (`<run>.<step>[.<name>].run_results
    .json`). dagster-dbt adds the step's selection to `args` (every node of the step, or
    the subset chosen in the UI); with own_selection, `args` select alone.

    The models' outputs carry their row counts (`dagster/row_count`), counted when dbt's
    process has ended: while it runs it holds the warehouse, which no other process may
    open. So the events are yielded when it has ended (progress is told as they come),
    outputs before check results, as dbt built them; a failed invocation still yields what
    it built before its error is raised."""
    # One target folder per home, reused by every run, so dbt's partial parsing works (a
    # fresh folder costs a full parse each run).
    if own_selection:
        invocation = dbt.cli(args, manifest=dbt_project.manifest_path, raise_on_error=False,
                             dagster_dbt_translator=TRANSLATOR, target_path=settings.dbt_target)
        events = (event for raw in invocation.stream_raw_events()
                  for event in raw.to_default_asset_events(
                      manifest=invocation.manifest, dagster_dbt_translator=TRANSLATOR,
                      context=context, target_path=invocation.target_path))
    else:
        invocation = dbt.cli(args, context=context, target_path=settings.dbt_target,
                             raise_on_error=False)
        events = invocation.stream()
    outputs: list[dg.Output] = []
    others: list = []
    try:
        for event in events:
            tally.add(event)
            (outputs if isinstance(event, dg.Output) else others).append(event)
    finally:
        run_results = settings.dbt_target / "run_results.json"
        if run_results.exists():
            settings.runs.mkdir(parents=True, exist_ok=True)
            suffix = f".{name}" if name else ""
            shutil.copyfile(run_results, settings.runs /
                            f"{context.run_id}.{context.op_def.name}{suffix}.run_results.json")
    tables = {output.output_name: context.asset_key_for_output(output.output_name).path[-1]
              for output in outputs}
    counts = row_counts(settings.warehouse, tables.values())
    for output in outputs:
        table = tables[output.output_name]
        yield (output.with_metadata({**output.metadata, ROW_COUNT: counts[table]})
               if table in counts else output)
    yield from others
    error = invocation.get_error()
    if error is not None:
        raise error


def _save_state(dbt: DbtCliResource, settings: Settings) -> None:
    """The manifest of the build that just completed becomes the home's state (atomically:
    a build killed meanwhile leaves the previous one)."""
    state = Path(dbt.state_path)
    state.mkdir(parents=True, exist_ok=True)
    tmp = state / f".manifest.json.{os.getpid()}.tmp"
    shutil.copyfile(settings.dbt_target / "manifest.json", tmp)
    tmp.replace(state / "manifest.json")


def _main_build(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: QualityLoopPaths):
    settings = paths.settings
    whole = (context.selected_asset_keys == qualityloop_dbt_models.keys
             and context.selected_asset_check_keys
             == {spec.key for spec in qualityloop_dbt_models.check_specs})
    asked = context.run.tags.get(FULL_REFRESH_TAG, "").lower() == "true"
    state = [] if asked else list(dbt.get_state_args())  # [] until a build has completed here
    tally = _Tally(context, "dbt nodes")
    if not state:
        context.log.info("dbt build in full (--full-refresh): " + (
            "asked for" if asked else "no completed build of this home to compare the dbt "
                                      "project with"))
        yield from _stream(context, dbt, settings, list(FULL_BUILD), tally)
    else:
        # What the project did not change, incrementally; what it changed is left out ...
        yield from _stream(context, dbt, settings, [*BUILD, *state, "--exclude", CHANGED], tally)
        changed = tally.missing
        if changed and whole:
            # ... and rebuilt in full after its parents (nothing left out above depends on
            # it: a node downstream of a changed one is itself in state:modified+).
            context.log.info(f"the dbt project changed since the last completed build: "
                             f"{len(changed)} nodes (what changed and what depends on it) are "
                             "rebuilt in full (--full-refresh)")
            yield from _stream(context, dbt, settings,
                               [*FULL_BUILD, *state, "--select", CHANGED, "--exclude",
                                AFTER_DETECTION], tally, name="changed", own_selection=True)
        elif changed:
            names = ", ".join(sorted(key.to_user_string() for key in changed))
            context.log.warning(
                f"not built: {names}: the dbt project changed since the last completed build "
                "of this home, and a selection of the dbt assets does not rebuild what changed "
                f"in full. Run the whole job, or launch this selection with the tag "
                f"{FULL_REFRESH_TAG}=true.")
    if whole:
        _save_state(dbt, settings)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, exclude=AFTER_DETECTION,
            dagster_dbt_translator=TRANSLATOR)
def qualityloop_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                           paths: QualityLoopPaths):
    """Staging, entities, the KPI marts, quality marts, breach signals and control charts."""
    # While dbt works in its own process, this one mostly waits: import Great Expectations
    # for the quality step now (not at start-up, where it would slow the run's launch).
    preload_gx()
    yield from _main_build(context, dbt, paths)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, select=AFTER_DETECTION,
            name="qualityloop_dbt_after_detection", dagster_dbt_translator=TRANSLATOR)
def qualityloop_dbt_after_detection(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                                    paths: QualityLoopPaths):
    """The horizontal assessment and the closed issues' satisfaction post-evaluation, over the
    issue copy the detection step refreshed (tables, rebuilt whole every run)."""
    yield from _stream(context, dbt, paths.settings, list(BUILD),
                       _Tally(context, "dbt nodes after detection"))


def dbt_resource(settings: Settings) -> DbtCliResource:
    """dagster-dbt's resource as documented: the dbt beside this interpreter (a venv that is
    not activated is not on PATH), the home's state folder for `--state`. dbt's debug log
    file is off (`--log-level-file none`, a dbt flag): it formats and writes every query dbt
    sends; dbt's info-level events still reach the run's log through dagster-dbt."""
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=str(Path(sys.executable).with_name("dbt")),
                          state_path=str(settings.dbt_state),
                          global_config_flags=["--log-level-file", "none"])
