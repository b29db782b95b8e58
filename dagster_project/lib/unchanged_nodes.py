"""The dbt nodes a daily build leaves out because nothing they are built from has changed.

Most days only the daily extracts arrive. The reference files (cities, districts, stores,
teams, agents), the monthly ones (subscribers, bill runs) and the seeds stay as they were,
and so do the 22 models and seeds built from them alone and the 70 tests over those only:
92 of the build's 210 nodes, each costing dbt ~30-60 ms of its own work on the two
cores, and Dagster a few events.

A model or seed is left out of an incremental build when
- the last build that ran it succeeded with the same dbt project (its fingerprint);
- every landing table it is built from (the sources among its ancestors) holds the same
  deliveries as then: the same files in force, with the same content hash and landing time.
  The landing writes a file's rows and its `raw_files` row in one transaction, so the
  deliveries in force version the table;
- it reads no other source: `raw_files`, the unparsed records and the issue store change
  with every delivery or run (every incremental model reads `raw_files`, so they all run);
- every model and seed it is built from is left out too.
A test is left out when every node it tests is left out. A test across a left-out node and
a built one (`int_calls.agent_id` -> `int_agents`) still runs: the build selects with
dbt's "cautious" indirect selection, which leaves out only the tests whose every parent is
left out, and names the after-detection tests too (which the main build never runs).

A full build (dbt_state.full_refresh_reason) leaves nothing out. Each successful build
records, per model and seed it ran, the project and the versions it was built from, and
per test its result: a left-out test's asset check carries that result over (its nodes
are as they were then), so Dagster does not warn on every daily run that a blocking
check emitted nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .extracts import ENTITIES
from .settings import Settings

VERSIONED_SOURCES = frozenset(entity.table for entity in ENTITIES)
BUILT_NODES = ("model", "seed")
# 2: the tests' results are recorded too. A record of another format counts as none, so
# the first build after an upgrade runs (and records) every node.
RECORD_FORMAT = 2


@dataclass(frozen=True)
class LastTestResult:
    """A test's result as the last build that ran it recorded."""
    name: str
    status: str  # dbt's: pass, warn, fail
    failures: int | None
    run_id: str


def record_path(settings: Settings) -> Path:
    return settings.dbt_target / "qloop_nodes_built_from.json"


def source_versions(warehouse: Path) -> dict[str, str]:
    """Each landing table's version: a digest of the deliveries in force (file name,
    content hash, landing time). A table with no delivery has the version ""."""
    versions = dict.fromkeys(VERSIONED_SOURCES, "")
    if not warehouse.exists():
        return versions
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute("select count(*) from duckdb_tables() "
                           "where table_name = 'raw_files'").fetchone()[0]:
            return versions
        rows = con.execute(
            "select entity, string_agg(concat_ws(' ', file_name, sha256, loaded_at), '\n' "
            "order by file_name) from raw_files group by entity").fetchall()
    for entity, deliveries in rows:
        versions[f"raw_{entity}"] = hashlib.sha256(deliveries.encode()).hexdigest()
    return versions


def _sources_of(manifest: Mapping[str, Any], unique_id: str, memo: dict) -> frozenset[str]:
    """The source tables among a node's ancestors (their identifiers, e.g. raw_ref_city)."""
    if unique_id not in memo:
        found: set[str] = set()
        for parent in manifest["parent_map"].get(unique_id, ()):
            if parent.startswith("source."):
                found.add(manifest["sources"][parent]["identifier"])
            else:
                found |= _sources_of(manifest, parent, memo)
        memo[unique_id] = frozenset(found)
    return memo[unique_id]


def built_from(manifest: Mapping[str, Any], unique_id: str, versions: Mapping[str, str],
               project: str, memo: dict) -> dict | None:
    """What a node is built from, as recorded; None when it reads an unversioned source."""
    sources = _sources_of(manifest, unique_id, memo)
    if not sources <= VERSIONED_SOURCES:
        return None
    return {"project": project, "sources": {s: versions[s] for s in sorted(sources)}}


def unchanged_nodes(manifest: Mapping[str, Any], record: Mapping[str, dict],
                    versions: Mapping[str, str], project: str) -> list[str]:
    """The unique ids of the models and seeds built from exactly what they were built from
    by the last build that ran them, as were all the models and seeds they are built from;
    parents before children (the order Dagster wants their outputs in)."""
    memo: dict = {}
    unchanged: dict[str, None] = {}  # an ordered set
    remaining = {u for u, n in manifest["nodes"].items() if n["resource_type"] in BUILT_NODES}
    while remaining:  # parents first: a node is decided once all its parents are
        ready = {u for u in remaining
                 if not any(p in remaining for p in manifest["parent_map"].get(u, ()))}
        if not ready:  # a cycle: dbt refuses those, but never loop on one
            break
        for unique_id in sorted(ready):
            now = built_from(manifest, unique_id, versions, project, memo)
            parents = [p for p in manifest["parent_map"].get(unique_id, ())
                       if not p.startswith("source.")]
            if now is not None and record.get(unique_id) == now and all(
                    p in unchanged for p in parents):
                unchanged[unique_id] = None
        remaining -= ready
    return list(unchanged)


def left_out_tests(manifest: Mapping[str, Any], unchanged: Collection[str]) -> set[str]:
    """The tests whose every parent is an unchanged node."""
    unchanged = set(unchanged)
    return {u for u, n in manifest["nodes"].items()
            if n["resource_type"] == "test" and n["depends_on"]["nodes"]
            and set(n["depends_on"]["nodes"]) <= unchanged}


def leave_out_args(manifest: Mapping[str, Any], unchanged: Collection[str],
                   after_detection_tag: str) -> list[str]:
    """dbt arguments that leave the unchanged nodes and their tests out of the build."""
    if not unchanged:
        return []
    after_detection = {u for u, n in manifest["nodes"].items()
                       if after_detection_tag in n.get("tags", ())}
    tests_of_after_detection = {
        u for u, n in manifest["nodes"].items()
        if n["resource_type"] == "test" and after_detection & set(n["depends_on"]["nodes"])}
    names = sorted(manifest["nodes"][u]["name"]
                   for u in set(unchanged) | left_out_tests(manifest, unchanged)
                   | tests_of_after_detection)
    return ["--indirect-selection", "cautious", "--exclude", " ".join(names)]


def last_results_of_left_out_tests(manifest: Mapping[str, Any], unchanged: Collection[str],
                                   record: Mapping[str, dict]) -> list[LastTestResult]:
    """The left-out tests' results, as the last build that ran them recorded them."""
    return [LastTestResult(manifest["nodes"][u]["name"], record[u]["status"],
                           record[u]["failures"], record[u]["run_id"])
            for u in sorted(left_out_tests(manifest, unchanged)) if u in record]


def read_record(settings: Settings) -> dict[str, dict]:
    path = record_path(settings)
    data = json.loads(path.read_text()) if path.exists() else {}
    return data.get("nodes", {}) if data.get("format") == RECORD_FORMAT else {}


def write_record(settings: Settings, manifest: Mapping[str, Any], versions: Mapping[str, str],
                 project: str, run_results: Path, run_id: str) -> None:
    """After a successful build: what each model and seed it ran was built from, and the
    result of each test it ran."""
    record = read_record(settings)
    memo: dict = {}
    for result in json.loads(run_results.read_text())["results"]:
        unique_id = result["unique_id"]
        node = manifest["nodes"].get(unique_id)
        if node is not None and node["resource_type"] == "test":
            record[unique_id] = {"status": result["status"], "failures": result.get("failures"),
                                 "run_id": run_id}
            continue
        if node is None or node["resource_type"] not in BUILT_NODES:
            continue
        now = built_from(manifest, unique_id, versions, project, memo)
        if result["status"] == "success" and now is not None:
            record[unique_id] = now
        else:
            record.pop(unique_id, None)
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"format": RECORD_FORMAT, "nodes": record}, indent=1, sort_keys=True))
    tmp.replace(path)
