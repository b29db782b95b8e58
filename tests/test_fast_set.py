"""`make test-fast` leaves out exactly the modules that run the pipeline, dbt or a browser."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import SLOW_MODULES

TESTS = Path(__file__).resolve().parent
# What makes a module slow: a pipeline home, the qloop command in a subprocess, dbt, a
# served board or a browser.
SLOW_USES = re.compile(r"\b(sample_home|board_home|small_inbox|qloop_run|qloop\(|served_board|"
                       r"sync_playwright|run_pipeline|dbt\(|build_scenario|DBT\b)")


def test_every_slow_module_exists():
    assert SLOW_MODULES <= {p.stem for p in TESTS.glob("test_*.py")}


def test_every_module_that_runs_the_pipeline_is_marked_slow():
    uses = {p.stem for p in TESTS.glob("test_*.py")
            if p.stem != "test_fast_set" and SLOW_USES.search(p.read_text(encoding="utf-8"))}
    assert uses, "the pattern finds the pipeline tests"
    assert uses - SLOW_MODULES == set()
