"""A run says what it is doing as it goes: a real `qloop run` on a small generated inbox."""

from __future__ import annotations

import re

import pytest

from dagster_project.lib.quality.suites import load_suites

from .qloop_cli import qloop

PROGRESS_LINE = re.compile(r"^\d\d:\d\d:\d\d (.*)$")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_inbox):
    root = tmp_path_factory.mktemp("runs-of-a-home")
    alone = qloop("run", "--inbox", str(small_inbox), "--home", str(root / "alone"))
    return {"alone": (root / "alone", alone), "files": len(list(small_inbox.iterdir()))}


def test_a_run_says_what_it_is_doing_as_it_goes(runs):
    _, alone = runs["alone"]
    assert alone.returncode == 0, alone.stdout + alone.stderr
    lines = [m.group(1) for m in map(PROGRESS_LINE.match, alone.stderr.splitlines()) if m]
    milestones = ["files landed", "dbt nodes ", "quality suites: running",
                  f"quality suites: {len(load_suites())} run", "detection:", "exports: group snapshot",
                  "dbt nodes after detection", "exports: ranking", "board published"]
    positions = [next((i for i, line in enumerate(lines) if line.startswith(m)), None)
                 for m in milestones]
    assert None not in positions, (milestones, lines)
    assert positions == sorted(positions), lines
    # counts up to the whole, and the final summary as before, on stdout
    landed = [line for line in lines if line.startswith("files landed")]
    assert landed[-1] == f"files landed {runs['files']} of {runs['files']}" and len(landed) > 1
    built = [line for line in lines if re.fullmatch(r"dbt nodes \d+ of \d+", line)]
    assert len(built) > 1 and built[-1].split()[2] == built[-1].split()[4]
    assert alone.stdout.splitlines()[0].startswith("Files: ")
    assert not any(PROGRESS_LINE.match(line) for line in alone.stdout.splitlines())
