"""The Dagster definitions: one connected graph, keys = table names, dbt tests as checks."""

from __future__ import annotations

import dagster as dg

from dagster_project.definitions import PIPELINE_JOB, defs
from dagster_project.lib.extracts import ENTITIES


def test_definitions_load_and_the_pipeline_job_exists():
    assert defs.resolve_job_def(PIPELINE_JOB) is not None


def test_every_dependency_is_an_asset_of_the_graph():
    # A wrong key in deps silently creates a separate, unconnected asset: forbid it.
    graph = defs.resolve_asset_graph()
    materializable = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    for key in materializable:
        assert graph.get(key).parent_keys <= materializable, key


def test_landing_tables_feed_the_staging_models():
    graph = defs.resolve_asset_graph()
    for entity in ENTITIES:
        children = {k.to_user_string() for k in graph.get(dg.AssetKey(entity.table)).child_keys}
        assert any(c.startswith("stg_") for c in children), entity.table


def test_asset_keys_are_table_names_and_groups_follow_the_domains():
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["raw_crm_queue_ticket"] == "ingest"
    assert groups["stg_crm__queue_tickets"] == "transform"
    assert groups["int_kpi_records"] == "transform"
    assert groups["fct_kpi_values"] == "reporting"
    assert groups["fct_rejected_rows"] == "quality"
    assert groups["kpi_snapshot_export"] == "reporting"


def test_dbt_data_tests_are_asset_checks():
    graph = defs.resolve_asset_graph()
    checks = {check.asset_key.to_user_string() for check in graph.asset_check_keys}
    assert {"int_queue_tickets", "fct_kpi_values"} <= checks


def test_the_closed_loop_runs_between_the_kpi_marts_and_the_ranking():
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("rem_issues")).parent_keys}
    assert {"fct_kpi_breach_signals", "fct_kpi_values"} <= parents
    # the dbt source remediation.rem_issues is the detection asset itself
    children = {k.to_user_string() for k in graph.get(dg.AssetKey("rem_issues")).child_keys}
    assert "stg_remediation__issues" in children
    assert graph.get(dg.AssetKey("rem_issues")).group_name == "remediation"
    assert graph.get(dg.AssetKey("fct_horizontal_assessment")).group_name == "remediation"


def test_closure_lists_have_their_own_weekly_job_and_stay_out_of_the_pipeline():
    pipeline = defs.resolve_job_def(PIPELINE_JOB)
    assert "closure_lists" not in {n.name for n in pipeline.all_node_defs}
    schedule = defs.resolve_schedule_def("weekly_closure_lists_monday_0800")
    assert schedule.cron_schedule == "0 8 * * 1"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "weekly_closure_lists"


def test_dbt_runs_through_dagster_dbts_own_resource():
    """No subclass, no overridden method: dagster-dbt's DbtCliResource as documented, with
    the dbt installed beside this interpreter."""
    import sys
    from pathlib import Path

    from dagster_dbt import DbtCliResource

    from dagster_project.defs.transform.dbt import dbt_resource
    from dagster_project.lib.settings import Settings

    settings = Settings(home=Path("/srv/qloop"), inbox=Path("/srv/inbox"))
    resource = dbt_resource(settings)
    assert type(resource) is DbtCliResource
    assert resource.dbt_executable == str(Path(sys.executable).with_name("dbt"))
    # dbt's --state artifacts of the home: the manifest of its last completed build
    assert resource.state_path == "/srv/qloop/dbt-state"
    # dbt's debug log file is off, by dbt's own flag; its info events reach the run log
    assert resource.global_config_flags == ["--log-level-file", "none"]


def test_no_private_dagster_or_dagster_dbt_name_is_used():
    """The project's code imports nothing from dagster._core or a private dagster-dbt module
    and overrides no underscore method of theirs."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    private = re.compile(r"^\s*(from|import)\s+(dagster\._|dagster_dbt\.\S*\b_)|"
                         r"^\s*def _(cli_version|initialize_dbt_core_adapter)\b", re.M)
    for path in [*(root / "dagster_project").rglob("*.py"), *(root / "dashboards").rglob("*.py")]:
        assert not private.search(path.read_text(encoding="utf-8")), path
