"""The hotspot page (/hotspots) through the real server and a real browser, on the committed
sample (its planted spikes: docs/sample-data.md) after `make demo`'s story: the day's
hotspots as `qloop hotspots` lists them, the trend and the complaints behind a spike (paged),
the link between a hotspot and the demo's launched change on both pages, a quality
manager's promotion (viewers get no button), both languages.

Its own home: a copy of the demo-story home run once more, as `make demo` does, so the
change register's copy and the hotspot-change links are built (the shared board home is
not run again after its story)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES

from .conftest import DEMO_PASSWORD, login
from .qloop_cli import SAMPLE, qloop, qloop_run, served_board

TIMEOUT = 15_000  # ms
LATEST = "2026-11-08"
BILLING_DAY = "2026-10-26"  # two days after the demo's billing-rule launch (2026-10-24)


@pytest.fixture(scope="module")
def hotspot_home(board_home, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("hotspot-board") / "home"
    shutil.copytree(board_home, home, ignore=shutil.ignore_patterns("*.wal", "*.migrate.lock"))
    result = qloop_run(SAMPLE, home, overrides=DEMO_TARGET_OVERRIDES)
    assert result.returncode == 0, result.stdout + result.stderr
    for name, role in (("hotspot_viewer", "viewer"), ("hotspot_qm", "quality_manager")):
        added = qloop("users", "add", name, "--role", role, "--password-stdin", "--home",
                      str(home), input_text=DEMO_PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    return home


@pytest.fixture(scope="module")
def url(hotspot_home):
    with served_board(hotspot_home) as base:
        yield base


def cli_hotspots(home: Path, day: str) -> list[dict]:
    result = qloop("hotspots", "--json", "--day", day, "--home", str(home))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def launched_change(home: Path) -> int:
    changes = json.loads(qloop("changes", "list", "--json", "--state", "launched",
                               "--home", str(home)).stdout)
    return next(c["id"] for c in changes if "rollover" in c["title"])


def hotspot_rows(page) -> set[tuple[str, str, str, str]]:
    return {tuple(row) for row in page.locator("#hotspot-movers tr.is-hotspot").evaluate_all(
        "rows => rows.map(r => [r.dataset.source, r.dataset.category, r.dataset.channel,"
        " r.dataset.region])")}


def test_the_latest_day_shows_what_the_command_lists(page, url, hotspot_home):
    login(page, url, "hotspot_viewer")
    page.goto(f"{url}/hotspots")
    page.wait_for_selector("#hotspot-movers", timeout=TIMEOUT)
    expected = cli_hotspots(hotspot_home, LATEST)
    assert {(h["source"], h["category"], h["channel"] or "", h["region"]) for h in expected} == \
        hotspot_rows(page) == {("call", "mobile", "", "CZ"),
                               ("complaint", "mobile_network", "hotline", "CZ"),
                               ("complaint", "mobile_network", "hotline", "JS")}
    assert page.get_attribute("#hotspot-count", "data-count") == "3"
    page.wait_for_selector("#hotspot-heatmap .main-svg", timeout=TIMEOUT)
    # the top mover is chosen: its trend (band, expected, observed) and a call has no text
    page.wait_for_selector("#hotspot-trend .main-svg", timeout=TIMEOUT)
    traces = page.evaluate("document.querySelector('#hotspot-trend .js-plotly-plot')"
                           ".data.map(t => t.name || '')")
    assert len(traces) == 4 and {"预期量", "实际量", "预期区间"} <= set(traces)
    assert "CZ" in page.inner_text("#hotspot-details-title")
    assert page.locator("#hotspot-promote").count() == 0  # a viewer cannot promote


def test_complaints_behind_a_spike_are_paged(page, url, hotspot_home):
    login(page, url, "hotspot_viewer")
    page.goto(f"{url}/hotspots?day={BILLING_DAY}&source=complaint&category=billing"
              "&channel=hotline&region=JS")
    page.wait_for_selector("#hotspot-details[data-hotspot='1']", timeout=TIMEOUT)
    [spike] = [h for h in cli_hotspots(hotspot_home, BILLING_DAY)
               if (h["category"], h["region"]) == ("billing", "JS")]
    count = page.locator("#hotspot-complaints-count")
    assert count.get_attribute("data-total") == str(spike["observed"])
    assert page.locator("tr.hotspot-complaint").count() == 10
    page.click("#hotspot-complaints-next")
    page.wait_for_selector("#hotspot-complaints-count[data-page='2']", timeout=TIMEOUT)
    assert page.locator("tr.hotspot-complaint").count() == spike["observed"] - 10
    summaries = page.locator("tr.hotspot-complaint td.summary").all_inner_texts()
    page.click("#hotspot-complaints-prev")
    page.wait_for_selector("#hotspot-complaints-count[data-page='1']", timeout=TIMEOUT)
    summaries += page.locator("tr.hotspot-complaint td.summary").all_inner_texts()
    assert len(summaries) == spike["observed"]
    assert sum("结转" in s for s in summaries) >= 10  # the planted rollover complaints


def test_a_hotspot_and_its_change_link_each_other(page, url, hotspot_home):
    change_id = launched_change(hotspot_home)
    login(page, url, "hotspot_viewer")
    page.goto(f"{url}/hotspots?day=2026-10-25&source=call&category=billing&region=NJ")
    page.wait_for_selector("#hotspot-details[data-hotspot='1']", timeout=TIMEOUT)
    assert page.get_attribute("#hotspot-changes li", "data-change") == str(change_id)
    page.click(f"#hotspot-changes a[href='/changes/{change_id}']")
    page.wait_for_selector("#change-hotspots", timeout=TIMEOUT)
    linked = page.locator("#change-hotspots li.change-hotspot").evaluate_all(
        "items => items.map(i => [i.dataset.category, i.dataset.region])")
    assert ["billing", "NJ"] in linked and ["billing", "JS"] in linked
    page.click("#change-hotspots a[href*='region=NJ']")
    page.wait_for_selector("#hotspot-details[data-hotspot='1']", timeout=TIMEOUT)
    assert "NJ" in page.inner_text("#hotspot-details-title")


def test_a_quality_manager_promotes_a_hotspot(page, url, hotspot_home):
    login(page, url, "hotspot_qm")
    page.goto(f"{url}/hotspots?day={LATEST}&source=call&category=mobile&region=CZ")
    page.wait_for_selector("#hotspot-promote", timeout=TIMEOUT)
    page.click("#hotspot-promote")
    page.wait_for_selector("#hotspot-promoted-issue", timeout=TIMEOUT)
    issue_id = int(page.inner_text("#hotspot-promoted-issue").lstrip("#"))
    issue = json.loads(qloop("issue", str(issue_id), "show", "--home",
                             str(hotspot_home)).stdout)
    assert (issue["kpi_code"], issue["region_code"], issue["owner_department"],
            issue["origin"], issue["updated_by"]) == ("HSH-MOB", "CZ", "NETWORK", "hotspot",
                                                      "hotspot_qm")
    page.click("#hotspot-promoted-issue")
    page.wait_for_selector("#issue-title", timeout=TIMEOUT)
    assert "HSH-MOB" in page.inner_text("#issue-title")
    assert "热点" in page.inner_text("#issue-title")
    page.click("#issue-hotspot-link")
    page.wait_for_selector("#hotspot-details[data-hotspot='1']", timeout=TIMEOUT)
    # promoting it again is refused with the reason
    page.click("#hotspot-promote")
    page.wait_for_selector("#hotspot-promote-message .msg-refused", timeout=TIMEOUT)
    assert f"issue {issue_id}" in page.inner_text("#hotspot-promote-message")


def test_in_english(page, url):
    login(page, url, "hotspot_viewer")
    page.goto(f"{url}/lang/en")
    page.goto(f"{url}/hotspots")
    page.wait_for_selector("#hotspot-movers", timeout=TIMEOUT)
    assert page.inner_text("h2") == "Complaint and call hotspots"
    assert page.inner_text("#nav-nav_hotspots") == "Hotspots"
    assert "Mobile calls" in page.inner_text("#hotspot-movers")
