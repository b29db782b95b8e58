"""Hotspots end to end: the real `qloop run` on a small generated inbox without planted
spikes finds none; a dozen complaints of one category and channel added to one city's last
day (a re-delivered file, as a reviewer would plant them) are found by `qloop hotspots
--json`, in that city and in the province, and a quality manager promotes one. Refusals
and bad input print one line, never a traceback."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.extracts import ENTITY_BY_PREFIX

from .qloop_cli import qloop, qloop_run, redelivered

START, DAYS, LAST = "2026-10-09", 21, "2026-10-29"
JSON_KEYS = {"source", "category", "channel", "region", "day", "observed", "expected", "score"}
PASSWORD = "hotspot-pass-1"


def plant_complaints(inbox: Path, city: str, category: str, channel: str, n: int) -> None:
    """n complaints created on the last day, appended to its CRM file (GB18030)."""
    path = inbox / f"crm_complaint_{LAST.replace('-', '')}.csv"
    text = path.read_bytes().decode("gb18030")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ENTITY_BY_PREFIX["crm_complaint"].column_names,
                            lineterminator="\n")
    for i in range(n):
        created = f"{LAST} {10 + i // 6:02d}:{(i % 6) * 7:02d}:00"
        writer.writerow({"complaint_id": f"TSPLANT{i:04d}", "customer_id": f"CUPLANT{i:04d}",
                         "city_code": city, "channel": channel, "category": category,
                         "severity": "normal", "summary": "客户反映新套餐权益无法使用，要求解释",
                         "created_at": created, "closed_at": "", "status": "open",
                         "updated_at": created})
    path.write_bytes((text + out.getvalue()).encode("gb18030"))
    redelivered(path)


def hotspots_json(home: Path, *args: str) -> list[dict]:
    result = qloop("hotspots", "--json", "--home", str(home), *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One home: the clean inbox's run, then the run with the planted complaints."""
    root = tmp_path_factory.mktemp("hotspots-e2e")
    inbox, home = root / "inbox", root / "home"
    made = qloop("generate", "--out", str(inbox), "--start", START, "--days", str(DAYS),
                 "--no-faults", "--no-hotspots")
    assert made.returncode == 0, made.stderr
    clean = qloop_run(inbox, home)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    clean_hotspots = con.execute("select count(*) from fct_hotspots").fetchone()[0]
    judged = con.execute("select count(distinct contact_day) from fct_contact_baselines "
                         "where expected is not null").fetchone()[0]
    con.close()
    latest_clean = hotspots_json(home)
    plant_complaints(inbox, "HA", "product", "store", 12)
    planted = qloop_run(inbox, home)
    assert planted.returncode == 0, planted.stdout + planted.stderr
    return home, clean_hotspots, judged, latest_clean


def test_an_inbox_without_spikes_has_no_hotspot(runs):
    _home, clean_hotspots, judged, latest_clean = runs
    # 21 days from 10-09: 10-23 .. 10-29 have two weeks of baseline
    assert judged == 7
    assert clean_hotspots == 0
    assert latest_clean == []


def test_the_planted_spike_is_found(runs):
    home = runs[0]
    found = hotspots_json(home)
    assert {(h["source"], h["category"], h["channel"], h["region"]) for h in found} == {
        ("complaint", "product", "store", "HA"), ("complaint", "product", "store", "JS")}
    city = next(h for h in found if h["region"] == "HA")
    assert JSON_KEYS <= set(city)
    assert (city["day"], city["observed"], city["expected"]) == (LAST, 12, 0.0)
    # never seen in the two baseline weeks: p = (1/3)^12, score = 12 log10(3)
    assert city["score"] == pytest.approx(5.7255, abs=1e-4)
    assert city["owner_department"] == "CHANNEL" and city["issue_code"] == "HSC-PROD"
    assert [h["score"] for h in found] == sorted((h["score"] for h in found), reverse=True)
    assert hotspots_json(home, "--day", LAST) == found
    assert hotspots_json(home, "--department", "BILLING") == []


def test_the_text_listing(runs):
    result = qloop("hotspots", "--home", str(runs[0]))
    assert result.returncode == 0, result.stderr
    assert f"Hotspots of {LAST} (the latest complete day)" in result.stdout
    assert "Product complaints · store" in result.stdout and "2 hotspot(s)" in result.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--day", "2026-02-30"), 2, "qloop hotspots: --day must be a date YYYY-MM-DD"),
    (("--day", "2026-10-20"), 1, "qloop: refused: 2026-10-20 is not a judged day"),
    (("--day", "2026-10-30"), 1, "qloop: refused: 2026-10-30 is not a judged day"),
])
def test_bad_days_are_one_line(runs, args, code, message):
    result = qloop("hotspots", "--home", str(runs[0]), *args)
    assert result.returncode == code
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_quality_manager_promotes_the_hotspot(runs):
    home = runs[0]
    for name, role in (("hs_qm", "quality_manager"), ("hs_viewer", "viewer")):
        added = qloop("users", "add", name, "--role", role, "--password-stdin", "--home",
                      str(home), input_text=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    promote = ("hotspots", "promote", "--source", "complaint", "--category", "product",
               "--channel", "store", "--region", "HA", "--home", str(home))
    for extra, code, message in (
            (("--user", "hs_viewer"), 1, "qloop: refused: promoting a hotspot needs a "
                                         "quality manager"),
            (("--user", "hs_qm", "--day", "yesterday"), 2, "qloop hotspots: --day must be"),
            (("--user", "hs_qm", "--region", "WX"), 1, "qloop: refused: no hotspot of "
                                                      "complaint product store in WX"),
            (("--user", "nobody"), 1, "qloop: refused: unknown user 'nobody'")):
        result = qloop(*promote, *extra)
        assert (result.returncode, result.stderr.count("\n")) == (code, 1), result.stderr
        assert result.stderr.startswith(message), result.stderr
    bad = qloop("hotspots", "promote", "--user", "hs_qm", "--source", "complaint",
                "--category", "products", "--channel", "store", "--region", "HA",
                "--home", str(home))
    assert bad.returncode == 2 and "complaint category must be one of" in bad.stderr
    issues_before = json.loads(qloop("issues", "list", "--json", "--home", str(home)).stdout)

    done = qloop(*promote, "--user", "hs_qm")
    assert done.returncode == 0, done.stderr
    issue_id = int(done.stdout.split("-> issue ")[1].split()[0])
    issue = json.loads(qloop("issue", str(issue_id), "show", "--home", str(home)).stdout)
    assert (issue["kpi_code"], issue["region_code"], issue["owner_department"],
            issue["severity"], issue["origin"], issue["state"]) == (
        "HSC-PROD", "HA", "CHANNEL", "P3", "hotspot", "open")
    assert [(e["rule"], e["period_start"], e["numerator"]) for e in issue["evidence"]] == [
        ("HS", LAST, 12)]
    issues_after = json.loads(qloop("issues", "list", "--json", "--home", str(home)).stdout)
    assert len(issues_after) == len(issues_before) + 1
    again = qloop(*promote, "--user", "hs_qm")
    assert again.returncode == 1 and "promoted already" in again.stderr
