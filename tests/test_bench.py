"""The benchmark's own arithmetic (`make bench` reports it; a wrong sum misleads the plan)."""

from __future__ import annotations

from tools.bench import _busy_seconds, _landing_wall


def node(start: str, end: str) -> dict:
    return {"timing": [{"name": "compile", "started_at": f"2026-12-03T01:00:{start}Z",
                        "completed_at": f"2026-12-03T01:00:{start}Z"},
                       {"name": "execute", "started_at": f"2026-12-03T01:00:{start}Z",
                        "completed_at": f"2026-12-03T01:00:{end}Z"}]}


def test_overlapping_nodes_count_once():
    # dbt threads: [1, 5) and [2, 4) overlap, [3, 7) extends them, [11, 12) stands apart:
    # busy = 6 + 1 = 7 s, where summing the nodes would say 4 + 2 + 4 + 1 = 11 s
    nodes = [node("01", "05"), node("02", "04"), node("03", "07"), node("11", "12")]
    assert _busy_seconds(nodes) == 7.0


def test_a_node_without_timing_adds_nothing():
    assert _busy_seconds([{"timing": []}, node("00", "02.5")]) == 2.5


def test_files_landed_side_by_side_count_their_wall_time_once():
    # two workers: [100, 104) and [101, 103) side by side, then [104, 106): 6 s of wall
    # time, 8 s of busy seconds; an unchanged file (no times) adds nothing
    files = [{"started_at": 100.0, "ended_at": 104.0, "seconds_decode": 1.0, "seconds_land": 3.0},
             {"started_at": 101.0, "ended_at": 103.0, "seconds_decode": 0.5, "seconds_land": 1.5},
             {"started_at": 104.0, "ended_at": 106.0, "seconds_decode": 0.5, "seconds_land": 1.5},
             {"started_at": None, "ended_at": None, "seconds_decode": 0.0, "seconds_land": 0.0}]
    assert _landing_wall(files) == 6.0
    assert _landing_wall([{"seconds_decode": 1.0, "seconds_land": 2.5}]) == 3.5
