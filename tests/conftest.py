"""Shared fixtures: one `qloop run` of data/sample per test session (it takes ~40 s)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES

from .qloop_cli import SAMPLE, qloop, qloop_run


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A home folder after `qloop run` on the committed sample (warehouse, issues, exports),
    as `make demo` runs it: by the demo's set of per-scope targets. Tests that change
    it must leave its KPI data as they found it."""
    home = tmp_path_factory.mktemp("sample-home")
    result = qloop_run(SAMPLE, home, overrides=DEMO_TARGET_OVERRIDES)
    assert result.returncode == 0, result.stdout + result.stderr
    return home, result


@pytest.fixture(scope="session")
def small_inbox(tmp_path_factory) -> Path:
    """Three days of generated extracts (`qloop generate --days 3`): a quick real run."""
    inbox = tmp_path_factory.mktemp("small-inbox")
    made = qloop("generate", "--out", str(inbox), "--days", "3")
    assert made.returncode == 0, made.stderr
    return inbox


# -- the board, served for real and driven by Debian's chromium --------------------------

import shutil

from .qloop_cli import served_board

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
DEMO_PASSWORD = "demo-pass-2026"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def demo_home(sample_home, folder: Path) -> Path:
    """A copy of the sample home in `folder` with the demo story played: demo users, issues
    in several states."""
    source, _ = sample_home
    home = folder / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.wal", "*.migrate.lock"))
    result = qloop("demo-story", "--home", str(home))
    assert result.returncode == 0, result.stdout + result.stderr
    return home


@pytest.fixture(scope="session")
def board_home(sample_home, tmp_path_factory) -> Path:
    """The board tests' demo home (a copy, so board tests never disturb other tests)."""
    return demo_home(sample_home, tmp_path_factory.mktemp("board-home"))


@pytest.fixture(scope="session")
def board_url(board_home):
    """`qloop board` on a free port (waitress), stopped at the end of the session."""
    with served_board(board_home) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context per test; console errors fail the test; a failing test
    leaves a screenshot in tests/screenshots/."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    if report is not None and report.passed:
        assert errors == [], f"console errors: {errors}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def login(page, base_url: str, user: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


# -- post-evaluation of launched changes (issue 7): one story for the pipeline and board tests

@pytest.fixture(scope="session")
def post_evaluation_story(tmp_path_factory):
    """The KPI fixture run for real, launched changes evaluated and acted on
    (tests/post_evaluation_scenario.py)."""
    from .post_evaluation_scenario import build_scenario

    return build_scenario(tmp_path_factory.mktemp("post-evaluation"))


# -- `make test-fast`: what a developer runs before each commit ---------------------------

# The modules whose tests run the pipeline (`qloop run`), dbt or the board in a browser:
# seconds to minutes each. `make test-fast` (pytest -m "not slow") leaves them out; `make
# test` and CI run everything. A new module that runs the pipeline belongs here.
SLOW_MODULES = frozenset({
    "test_bad_values", "test_board_auth", "test_board_bad_requests", "test_board_change_pages",
    "test_board_hotspots", "test_board_issue_pages", "test_board_kpi_pages",
    "test_board_low_volume", "test_board_post_evaluation", "test_board_scope_targets",
    "test_cli", "test_cli_changes",
    "test_dbt_project", "test_dbt_state", "test_hotspots_cli", "test_incremental",
    "test_incremental_call_days", "test_issue_satisfaction", "test_pipeline_kpis",
    "test_post_evaluation", "test_quality_corpus", "test_quality_suites",
    "test_remediation_pipeline", "test_runs_of_a_home", "test_sample_pipeline",
    "test_scope_targets", "test_security",
})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
