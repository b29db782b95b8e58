"""Lineage to the consumers: the dbt exposures name what the board's data package really
queries, and the models' owners are the departments of the KPIs they feed."""

from __future__ import annotations

import json
import re

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.defs.transform.dbt import dbt_project
from dagster_project.lib.publish import BOARD_TABLES
from dagster_project.lib.settings import PROJECT_ROOT

# kpi_catalog.source_system -> the staging folder of that system's extracts
SYSTEM_FOLDERS = {"crm": "crm", "billing": "billing", "call_center": "cc",
                  "field_ops": "fo", "network": "net"}


def _manifest() -> dict:
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))


def _queried_dbt_tables() -> set[str]:
    """Every dbt model or seed named after FROM or JOIN in dashboards/data/."""
    manifest = _manifest()
    dbt_tables = {n["name"] for n in manifest["nodes"].values()
                  if n["resource_type"] in ("model", "seed")}
    found = set()
    for path in (PROJECT_ROOT / "dashboards" / "data").glob("*.py"):
        found |= set(re.findall(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)",
                                path.read_text(encoding="utf-8")))
    return found & dbt_tables


def test_the_board_exposures_name_exactly_what_the_board_queries():
    manifest = _manifest()
    exposed = {manifest["nodes"][u]["name"]
               for e in manifest["exposures"].values() if e["type"] == "dashboard"
               for u in e["depends_on"]["nodes"]}
    queried = _queried_dbt_tables()
    assert "fct_kpi_values" in queried and "fct_hotspots" in queried
    assert exposed == queried


def test_the_board_reads_only_consumer_marts_and_all_of_them_are_published():
    queried = _queried_dbt_tables()
    assert all(table.startswith(("dim_", "fct_")) for table in BOARD_TABLES), BOARD_TABLES
    assert queried <= set(BOARD_TABLES)


def test_the_board_pages_are_assets_downstream_of_the_marts_they_read():
    graph = defs.resolve_asset_graph()
    page = graph.get(dg.AssetKey("board_hotspots"))
    assert not page.is_materializable
    parents = {k.to_user_string() for k in page.parent_keys}
    assert {"board_copy", "fct_hotspots", "fct_contact_baselines"} <= parents
    children = {k.to_user_string() for k in graph.get(dg.AssetKey("fct_kpi_values")).child_keys}
    assert {"board_kpis", "board_issues"} <= children


def test_each_kpis_department_owns_the_models_of_its_source_system():
    graph = defs.resolve_asset_graph()
    manifest = _manifest()
    catalog = (PROJECT_ROOT / "dbt" / "seeds" / "kpi_catalog.csv").read_text(encoding="utf-8")
    header, *rows = [line.split(",") for line in catalog.splitlines()]
    for row in rows:
        kpi = dict(zip(header, row))
        folder = SYSTEM_FOLDERS[kpi["source_system"]]
        models = [n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"
                  and n["fqn"][1:3] == ["staging", folder]]
        owners = {o for m in models for o in graph.get(dg.AssetKey(m)).owners}
        assert f"team:{kpi['owner_department']}" in owners, (kpi["kpi_code"], models, owners)
    assert graph.get(dg.AssetKey("int_calls")).owners == ["team:HOTLINE"]
    assert graph.get(dg.AssetKey("fct_kpi_values")).owners == ["team:QUALITY"]
