"""A change to the dbt project rebuilds what changed and what depends on it in full (dbt's
`state:modified+` against the manifest of the home's last completed build), the rest
incrementally; a run with no change is one incremental dbt build.

Three real `qloop run` on a small generated inbox, on a copy of the dbt project
(QLOOP_DBT_PROJECT) whose entity model `int_calls` is edited before the third run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


from .dbt_project_copy import project_copy
from .qloop_cli import kpi_values, qloop_run

CHANGED_MODEL = "model.qualityloop.int_calls"
STEP = "qualityloop_dbt_models"


def _run_results(home: Path, run_id: str, name: str = "") -> dict:
    suffix = f".{name}" if name else ""
    return json.loads((home / "runs" / f"{run_id}.{STEP}{suffix}.run_results.json").read_text())


def _ran(results: dict) -> set[str]:
    """The models, seeds and tests an invocation ran (not its on-run-start hooks nor the
    exposures dbt build lists, which run nothing)."""
    return {r["unique_id"] for r in results["results"]
            if r["unique_id"].split(".")[0] in ("model", "seed", "test")}


def _run_id(result) -> str:
    log = next(line for line in result.stdout.splitlines() if line.strip().startswith("run log"))
    return Path(log.split()[-1]).name.removesuffix(".log")


def _downstream(manifest: dict, unique_id: str) -> set[str]:
    """unique_id and every node below it (dbt's `+` graph operator), as the main build runs
    them: no unit tests, no after-detection models nor their tests."""
    found, todo = set(), [unique_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo += manifest["child_map"].get(node, [])

    def after_detection(node: str) -> bool:
        return "after_detection" in manifest["nodes"].get(node, {}).get("tags", [])

    return {n for n in found if n.split(".")[0] in ("model", "seed", "test")
            and not any(map(after_detection, [n, *manifest["nodes"][n]["depends_on"]["nodes"]]))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_inbox):
    root = tmp_path_factory.mktemp("dbt-state")
    inbox, home = small_inbox, root / "home"
    project = project_copy(root / "dbt")
    results = []
    for edit in (False, False, True):
        if edit:  # the model's SQL changes (a comment: the same rows, another definition)
            sql = project / "models" / "intermediate" / "entities" / "int_calls.sql"
            sql.write_text(sql.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
        result = qloop_run(inbox, home, project)
        assert result.returncode == 0, result.stdout + result.stderr
        results.append((_run_id(result), kpi_values(home)))
    return home, results


def test_the_first_build_of_a_home_is_full_and_becomes_its_state(runs):
    home, results = runs
    first = _run_results(home, results[0][0])
    assert first["args"]["full_refresh"] is True
    assert (home / "dbt-state" / "manifest.json").exists()


def test_a_run_without_a_change_is_one_incremental_build_of_everything(runs):
    home, results = runs
    first, second = (_run_results(home, run_id) for run_id, _ in results[:2])
    assert not second["args"].get("full_refresh")
    assert second["args"]["state"].endswith("dbt-state")
    assert _ran(second) == _ran(first)
    assert not (home / "runs" / f"{results[1][0]}.{STEP}.changed.run_results.json").exists()


def test_a_changed_model_and_what_depends_on_it_are_rebuilt_in_full_the_rest_not(runs):
    home, results = runs
    run_id = results[2][0]
    incremental, changed = _run_results(home, run_id), _run_results(home, run_id, "changed")
    manifest = json.loads((home / "dbt-state" / "manifest.json").read_text())
    expected = _downstream(manifest, CHANGED_MODEL)

    assert changed["args"]["full_refresh"] is True
    assert _ran(changed) == expected
    assert {"model.qualityloop.fct_kpi_drilldown", "model.qualityloop.fct_kpi_values"} <= expected
    assert any(manifest["nodes"][n]["attached_node"] == CHANGED_MODEL
               for n in expected if n.startswith("test."))  # its own tests too
    # the others, its parents among them, incrementally, once
    assert not incremental["args"].get("full_refresh")
    assert not _ran(incremental) & expected
    assert {"model.qualityloop.stg_cc__calls", "model.qualityloop.int_surveys",
            "seed.qualityloop.kpi_catalog"} <= _ran(incremental)
    assert _ran(incremental) | _ran(changed) == _ran(_run_results(home, results[1][0]))


def test_the_state_moves_on_and_no_number_changes(runs):
    home, results = runs
    manifest = json.loads((home / "dbt-state" / "manifest.json").read_text())
    assert manifest["nodes"][CHANGED_MODEL]["raw_code"].rstrip().endswith("-- edited")
    assert results[0][1] == results[1][1] == results[2][1]
