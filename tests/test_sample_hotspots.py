"""The generator's planted contact spikes (tools/sample_hotspots.py): rows appended at the end
of their days' files and nothing else, positioned from the window's end, never in a file
with a whole-file fault, in proportion to the scale."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from tools.sample_data import generate

START = date(2026, 9, 22)
DAYS = 30  # ends 2026-10-21: every spike has two weeks of history before it
SCALE = 0.001


def _records(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    text = data.decode("gb18030" if path.name.startswith("crm_") else "utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory):
    with_spikes, without = tmp_path_factory.mktemp("with"), tmp_path_factory.mktemp("without")
    summary = generate(with_spikes, start=START, days=DAYS, scale=SCALE, seed=11)
    plain = generate(without, start=START, days=DAYS, scale=SCALE, seed=11, hotspots=False)
    return with_spikes, without, summary, plain


def test_spikes_are_only_appended_rows(inboxes):
    with_spikes, without, summary, plain = inboxes
    assert plain["hotspots"] == [] and plain["faults"] == summary["faults"]
    changed = []
    for path in sorted(without.glob("*.csv")):
        before, after = path.read_bytes(), (with_spikes / path.name).read_bytes()
        if before != after:
            assert after.startswith(before), path.name
            changed.append(path.name)
    assert sorted(p.name for p in with_spikes.glob("*.csv")) == sorted(
        p.name for p in without.glob("*.csv"))
    assert changed and all(n.startswith(("cc_call_", "crm_complaint_")) for n in changed)


def test_spikes_follow_the_window_end(inboxes):
    with_spikes, without, summary, _ = inboxes
    last = date(2026, 10, 21)
    days = {(s["source"], s["category"]): date.fromisoformat(s["day"])
            for s in summary["hotspots"]}
    # five days, a fortnight and 13 days before the end, and the last day
    assert days == {("complaint", "product"): date(2026, 10, 16),
                    ("call", "billing"): date(2026, 10, 7),
                    ("complaint", "billing"): date(2026, 10, 8),
                    ("call", "mobile"): last, ("complaint", "mobile_network"): last}
    # a call is in the file of the day it ended (a late one: the next day's)
    calls = [r for name in ("cc_call_20261007.csv", "cc_call_20261008.csv")
             for r in _records(with_spikes / name) if r["call_id"].startswith("C26100790")]
    assert len(calls) == 40 and {(r["city_code"], r["skill_group"]) for r in calls} == {
        ("NJ", "billing")}
    # a planted call is a real one's copy: its events in order, its agent when answered
    for r in calls:
        times = [r[c] for c in ("arrived_at", "ivr_exit_at", "queue_entered_at", "answered_at",
                                "ended_at") if r[c]]
        assert times == sorted(times) and bool(r["answered_at"]) == bool(r["agent_id"])
    complaints = [r for r in _records(with_spikes / "crm_complaint_20261008.csv")
                  if r["complaint_id"].startswith("TS26100890")]
    assert len(complaints) == 12
    assert {r["city_code"] for r in complaints} == {"NJ", "WX"}
    assert {(r["category"], r["channel"]) for r in complaints} == {("billing", "hotline")}


def test_a_short_window_plants_only_what_has_history(tmp_path):
    summary = generate(tmp_path, start=START, days=16, scale=SCALE, seed=11, faults=False)
    # 16 days: only the days with two weeks before them (day 15 onwards)
    assert {s["day"] for s in summary["hotspots"]} == {"2026-10-07"}


def test_spikes_scale_with_the_inbox(tmp_path):
    summary = generate(tmp_path, start=START, days=DAYS, scale=0.003, seed=11, faults=False)
    assert {(s["source"], s["category"]): s["contacts"] for s in summary["hotspots"]} == {
        ("complaint", "product"): 36, ("call", "billing"): 120, ("complaint", "billing"): 36,
        ("call", "mobile"): 105, ("complaint", "mobile_network"): 33}
