"""The board's pages as assets of the graph, from the dbt exposures of type dashboard
(dbt/models/marts/_exposures.yml): the Dagster UI then shows which marts each page reads.
The other exposures (the group snapshot, closure lists, ranking export) are the Dagster
assets that write them (kpi_snapshot_export, closure_lists, horizontal_assessment_export).
They are not materialized: the board reads its published copy (board_copy) when asked."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from .board import board_copy


def board_page_specs(manifest_path: Path) -> list[dg.AssetSpec]:
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    names = {unique_id: node["name"]
             for unique_id, node in {**manifest["nodes"], **manifest["sources"]}.items()}
    return [
        dg.AssetSpec(
            exposure["name"], group_name="board", kinds={"dash"},
            description=f"{exposure['label']} ({exposure['url']}): {exposure['description']}",
            deps=[board_copy.key, *sorted(names[u] for u in exposure["depends_on"]["nodes"])],
            owners=["team:QUALITY"], metadata={"url": dg.MetadataValue.url(exposure["url"])})
        for exposure in sorted(manifest["exposures"].values(), key=lambda e: e["name"])
        if exposure["type"] == "dashboard"
    ]
