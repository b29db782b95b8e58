"""The closed loop through the real pipeline and the real `qloop` command on data/sample.

Which issues detection must open is computed here independently, from the group snapshot
file (day and month statuses, against the catalog's targets) and the demo's per-scope
targets dbt/target_overrides/demo/kpi_target_overrides.csv, which the sample home is built with (a
city's own target replaces the catalog's for detection; XZ's K12 and K13 are looser from
2026-10-15), with the rules of closed-loop.md
section 1.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from datetime import date, timedelta
from fractions import Fraction

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.remediation.reference import departments, kpi_catalog
from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES, target_overrides_file

from .qloop_cli import SAMPLE, qloop, qloop_run

LOOKBACK_DAYS = 28  # LoopSettings.detection_lookback_days


def _snapshot_rows(home):
    snapshot = next((home / "exports").glob("kpi_snapshot_*.csv"))
    with open(snapshot, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle)), snapshot


def city_overrides() -> dict[tuple[str, str], list[tuple[date, Fraction, Fraction]]]:
    """(KPI, city) -> its city-scope override versions (valid_from, target, red), oldest
    first, from the demo's overrides (the sample home is built as `make demo` builds it). Finer scopes (store level, area type, skill group) never judge a
    city's value; month KPIs have no override in the sample (this helper judges days only)."""
    versions: dict[tuple[str, str], list] = defaultdict(list)
    with open(target_overrides_file(DEMO_TARGET_OVERRIDES), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["scope_type"] == "city":
                assert kpi_catalog()[r["kpi_code"]].grain == "day", r
                versions[(r["kpi_code"], r["scope_value"])].append(
                    (date.fromisoformat(r["valid_from"]), Fraction(r["target"]),
                     Fraction(r["red_threshold"])))
    return {pair: sorted(v) for pair, v in versions.items()}


def judged_status(kpi: str, region: str, day: date, numerator: int, denominator: int,
                  overrides: dict) -> str:
    """The value's status against the region's own target in force on `day` (latest
    valid_from <= the day), else the catalog's; compared exactly."""
    if denominator == 0:
        return "no_data"
    kpi_row = kpi_catalog()[kpi]
    in_force = [v for v in overrides.get((kpi, region), []) if v[0] <= day]
    _, target, red = in_force[-1] if in_force else (None, Fraction(kpi_row.target),
                                                    Fraction(kpi_row.red_threshold))
    scale = 10000 if kpi_row.grain == "month" else 1
    value = Fraction(numerator * scale, denominator)
    up = kpi_row.direction == "up"
    if (value >= target) if up else (value <= target):
        return "green"
    return "red" if ((value < red) if up else (value > red)) else "amber"


def expected_issues(rows: list[dict], as_of: date) -> dict[tuple[str, str], str]:
    """(KPI, region) -> severity detection must have given it on a first run: R1-R3 on the
    days that reach the KPI's min_volume (a low-volume day is skipped by a run, a missing
    day breaks it), R1 on complete ISO weeks that reach it, R1 on complete months of the
    month KPIs that reach it (closed-loop.md section 1, "Minimum volume")."""
    overrides = city_overrides()
    oldest = as_of - timedelta(days=LOOKBACK_DAYS)
    days: dict[tuple[str, str], dict[date, tuple[int, int]]] = defaultdict(dict)
    severities: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        start = date.fromisoformat(r["period_start"])
        pair = (r["kpi_code"], r["region_code"])
        kpi = kpi_catalog()[r["kpi_code"]]
        if r["period_type"] == "month" and kpi.grain == "month":
            month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            if (r["status"] == "red" and month_end < as_of and month_end >= oldest
                    and int(r["denominator"]) >= kpi.min_volume):
                severities[pair].add("P2")
        elif r["period_type"] == "day":
            lag = 3 if r["kpi_code"] == "K04" else 0
            if start + timedelta(days=lag) < as_of:
                days[pair][start] = (int(r["numerator"]), int(r["denominator"]))
    for (kpi_code, region), values in days.items():
        min_volume = kpi_catalog()[kpi_code].min_volume
        lag = 3 if kpi_code == "K04" else 0
        red_run = bad_run = 0
        previous = None
        for day in sorted(values):
            if previous is not None and day - previous > timedelta(days=1):
                red_run = bad_run = 0  # a day without data breaks a run
            previous = day
            numerator, denominator = values[day]
            if denominator < min_volume:
                continue  # low volume: skipped
            status = judged_status(kpi_code, region, day, numerator, denominator, overrides)
            red_run = red_run + 1 if status == "red" else 0
            bad_run = bad_run + 1 if status in ("red", "amber") else 0
            if day < oldest:
                continue
            if status == "red":
                severities[(kpi_code, region)].add("P2")
                if region == "JS" or red_run >= 3:
                    severities[(kpi_code, region)].add("P1")
            if bad_run >= 5:
                severities[(kpi_code, region)].add("P3")
        mondays = {day - timedelta(days=day.weekday()) for day in values}
        for monday in mondays:
            sunday = monday + timedelta(days=6)
            if sunday + timedelta(days=lag) >= as_of or sunday < oldest:
                continue  # not complete, or older than detection looks back
            week = [values[d] for d in values if monday <= d <= sunday]
            numerator, denominator = sum(n for n, _ in week), sum(d for _, d in week)
            if denominator >= min_volume and judged_status(
                    kpi_code, region, min(sunday, as_of - timedelta(days=1)), numerator,
                    denominator, overrides) == "red":
                severities[(kpi_code, region)].add("P2")
    return {pair: min(s) for pair, s in severities.items()}


def issues_json(home) -> list[dict]:
    result = qloop("issues", "list", "--json", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def loop_home(sample_home, tmp_path_factory):
    """A copy of the sample home: these tests move its issues along (the workflow, the demo
    story), which other modules' copies of the sample home must not inherit."""
    source, run = sample_home
    home = tmp_path_factory.mktemp("loop-home") / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.wal", "*.migrate.lock"))
    return home, run


def test_detection_opens_one_issue_per_breached_kpi_and_region(loop_home):
    home, run = loop_home
    rows, snapshot = _snapshot_rows(home)
    as_of = date(int(snapshot.stem[-8:-4]), int(snapshot.stem[-4:-2]), int(snapshot.stem[-2:])) \
        + timedelta(days=1)
    expected = expected_issues(rows, as_of)
    issues = issues_json(home)
    got = {(i["kpi_code"], i["region_code"]): i["severity"] for i in issues}
    assert len(got) == len(issues), "one issue per KPI and region"
    assert got == expected
    assert len(expected) > 10  # the sample has breaches in many KPIs and cities
    assert all(i["state"] == "open" and i["owner_department"] ==
               kpi_catalog()[i["kpi_code"]].owner_department for i in issues)
    assert f"Issues: {len(expected)} opened" in run.stdout


def test_planted_storm_is_a_p1_field_issue_of_the_province(loop_home):
    """YC's storm (docs/sample-data.md): at the sample's scale YC has a few repairs a day, a
    few dozen a week, below K12's min_volume of 20 a day and a week: reported red, judged
    by no rule (low volume). The province carries it: a P1 FIELD issue, red days and a red
    week, a run of red days that skips the province's own low-volume days."""
    home, _ = loop_home
    issues = issues_json(home)
    assert not [i for i in issues if (i["kpi_code"], i["region_code"]) == ("K12", "YC")]
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        storm = con.execute("select count(*) filter (where scope_status = 'red'), bool_and(low_volume) "
                            "from fct_kpi_values where kpi_code = 'K12' and region_code = 'YC' "
                            "and period_type = 'day' and period_start between '2026-10-14' "
                            "and '2026-10-18'").fetchone()
    finally:
        con.close()
    assert storm == (5, True)
    (province,) = [i for i in issues if (i["kpi_code"], i["region_code"]) == ("K12", "JS")]
    assert province["severity"] == "P1" and province["owner_department"] == "FIELD"
    shown = qloop("issue", str(province["id"]), "show", "--home", str(home))
    evidence = json.loads(shown.stdout)["evidence"]
    assert ("R1", "week", "2026-10-12") in {(e["rule"], e["period_type"], e["period_start"])
                                            for e in evidence}
    assert any(e["rule"] == "R2" and "(low-volume days skipped)" in e["detail"]
               for e in evidence)


def test_a_second_run_changes_no_issue(loop_home):
    home, _ = loop_home
    before = issues_json(home)
    result = qloop_run(SAMPLE, home, overrides=DEMO_TARGET_OVERRIDES)
    assert result.returncode == 0, result.stderr
    assert "Issues: 0 opened, 0 breaches added as evidence" in result.stdout
    assert issues_json(home) == before


def test_workflow_from_the_command_line(loop_home):
    home, _ = loop_home
    added = qloop("users", "add", "li.field", "--role", "department_owner", "--department", "FIELD",
                  "--password-stdin", "--home", str(home), input_text="s3cret-pass\n")
    assert added.returncode == 0, added.stderr
    viewer = qloop("users", "add", "wang.view", "--role", "viewer", "--password-stdin",
                   "--home", str(home), input_text="s3cret-pass\n")
    assert viewer.returncode == 0, viewer.stderr
    issue = next(i for i in issues_json(home) if i["owner_department"] == "FIELD")
    other = next(i for i in issues_json(home) if i["owner_department"] != "FIELD")
    home_arg = ("--home", str(home))

    refused = qloop("issue", str(issue["id"]), "acknowledge", "--user", "wang.view",
                    "--responsible", "Wang", *home_arg)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "viewer" in refused.stderr
    refused = qloop("issue", str(other["id"]), "acknowledge", "--user", "li.field",
                    "--responsible", "Li", *home_arg)
    assert refused.returncode == 1 and other["owner_department"] in refused.stderr
    assert {i["id"]: i["state"] for i in issues_json(home)}[other["id"]] == "open"

    done = qloop("issue", str(issue["id"]), "acknowledge", "--user", "li.field",
                 "--responsible", "李明 Li Ming", *home_arg)
    assert done.returncode == 0, done.stderr
    plan = qloop("issue", str(issue["id"]), "plan", "--user", "li.field",
                 "--root-cause-category", "staffing", "--root-cause", "台风后人手不足",
                 "--actions", "外包支援, 加班", "--target-date", "2099-01-31", *home_arg)
    assert plan.returncode == 0, plan.stderr
    bad = qloop("issue", str(issue["id"]), "claim-fix", "--user", "li.field",
                "--fix-date", "2099-01-01", "--note", "done", *home_arg)
    assert bad.returncode == 1 and "future" in bad.stderr
    stale = qloop("issue", str(issue["id"]), "comment", "--user", "li.field", "--text", "x",
                  "--version", "1", *home_arg)
    assert stale.returncode == 1 and "changed" in stale.stderr

    shown = json.loads(qloop("issue", str(issue["id"]), "show", *home_arg).stdout)
    assert shown["state"] == "in_progress" and shown["responsible"] == "李明 Li Ming"
    assert [e["action"] for e in shown["events"]][-2:] == ["acknowledge", "plan"]
    assert shown["events"][-1]["actor"] == "li.field"
    listed = next(i for i in issues_json(home) if i["id"] == issue["id"])
    for key in ("id", "kpi_code", "region_code", "severity", "state", "owner_department",
                "opened_at", "deadline", "overdue", "escalation_level"):
        assert key in listed
    assert listed["deadline"] is not None and listed["overdue"] is False


def test_closure_lists_on_demand(loop_home, tmp_path):
    home, _ = loop_home
    result = qloop("lists", "--out", str(tmp_path), "--home", str(home))
    assert result.returncode == 0, result.stderr
    workbooks = sorted(tmp_path.glob("closure_list_*.xlsx"))
    assert [w.name.split("_")[2] for w in workbooks] == sorted(departments())
    field = next(w for w in workbooks if "_FIELD_" in w.name)
    sheet = load_workbook(field).active
    ids = [row[0] for row in sheet.iter_rows(min_row=5, values_only=True) if row[0] is not None]
    expected = [i["id"] for i in issues_json(home) if i["owner_department"] == "FIELD"]
    assert sorted(ids) == sorted(expected)
    assert "SMTP not configured" in result.stdout


def test_ranking_has_every_city_and_department_each_month(loop_home):
    home, _ = loop_home
    files = sorted((home / "exports").glob("horizontal_assessment_*.csv"))
    assert [f.stem[-6:] for f in files] == ["202609", "202610", "202611"]
    with open(files[1], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(r["scope_type"] == "city" for r in rows) == 13
    assert {r["scope_code"] for r in rows if r["scope_type"] == "department"} == set(departments())
    cities = [r for r in rows if r["scope_type"] == "city"]
    assert [int(r["rank"]) for r in cities] == sorted(int(r["rank"]) for r in cities)
    for r in rows:
        score = 60 * float(r["attainment"]) + 30 * float(r["on_time_share"]) \
            + 10 * (1 - float(r["reopen_rate"]))
        assert abs(score - float(r["score"])) < 1e-9


def test_demo_story_moves_issues_through_every_state_once(loop_home):
    home, _ = loop_home
    first = qloop("demo-story", *("--home", str(home)))
    assert first.returncode == 0, first.stderr
    assert "demo_qm" in first.stdout and "demo-pass" in first.stdout
    states = {i["state"] for i in issues_json(home)}
    assert {"open", "acknowledged", "in_progress", "cancelled"} <= states
    assert states & {"verifying", "verified", "closed", "reopened"}
    before = issues_json(home)
    changes = json.loads(qloop("changes", "list", "--json", "--home", str(home)).stdout)
    # the change story: launched 16 days before the sample's as-of date (2026-11-09), one
    # vetoed with its open HOTLINE issue, one awaiting its experience test
    assert [(c["state"], c["owner_department"], c["launched_on"]) for c in changes] == [
        ("launched", "BILLING", "2026-10-24"), ("vetoed", "HOTLINE", None),
        ("registered", "FIELD", None)]
    veto_issue = {i["id"]: i for i in before}[changes[1]["issues"][0]["id"]]
    assert (veto_issue["state"], veto_issue["origin"], veto_issue["change_id"]) == \
           ("open", "veto", changes[1]["id"])
    again = qloop("demo-story", *("--home", str(home)))
    assert again.returncode == 0 and issues_json(home) == before
    assert json.loads(qloop("changes", "list", "--json", "--home", str(home)).stdout) == changes


def test_the_run_after_the_demo_story_evaluates_the_launched_change(loop_home):
    # make demo runs the job again after the story: the register reaches the warehouse and
    # the launched BILLING change (K09, K10 in NJ and WX) is post-evaluated; the summary says so.
    home, _ = loop_home
    assert qloop("demo-story", *("--home", str(home))).returncode == 0  # idempotent
    result = qloop_run(SAMPLE, home, overrides=DEMO_TARGET_OVERRIDES)
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select change_id, kpi_code, region_code, verdict "
                           "from fct_change_post_evaluation order by 2, 3").fetchall()
    finally:
        con.close()
    changes = json.loads(qloop("changes", "list", "--json", "--home", str(home)).stdout)
    launched = next(c for c in changes if c["state"] == "launched")
    assert {(r[0], r[1], r[2]) for r in rows} == {
        (launched["id"], k, r) for k, r in (("K09", "NJ"), ("K09", "WX"), ("K10", "NJ"))}
    verdicts = Counter(r[3] for r in rows)
    line = next(x for x in result.stdout.splitlines() if x.startswith("Changes: "))
    assert line.startswith("Changes: 1 launched, 1 registered, 1 vetoed; post-evaluation")
    for verdict in ("improved", "no_change", "worse", "pending", "no_data"):
        assert f"{verdicts.get(verdict, 0)} {verdict}" in line
