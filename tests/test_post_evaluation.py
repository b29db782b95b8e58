"""Post-evaluation of launched changes on the real pipeline (tests/post_evaluation_scenario.py):
the mart row by row against the hand computation, the issues its worse verdicts open, the
files and mails sent to the owner departments, each verdict sent once.

Hand computation (N = 1, significance 0.5; T = 10-04, complete through 10-03, K04 09-30):
- change 1 (HOTLINE) launched 10-02: before = 10-01, after = 10-03.
  K02 NJ: 2/3 -> 0/2 (kpi_fixture: calls of 10-01 and 10-03); pooled 2/5,
  se = sqrt(0.4 x 0.6 x (1/3 + 1/2)) = sqrt(0.2) = 0.4472136, z = -0.6666667 / 0.4472136
  = -1.4907, p = erfc(1.4907 / sqrt 2) = 0.136037 < 0.5 -> worse (K02 is up).
  K03 NJ: 1/3 -> 0/2; pooled 1/5, se = sqrt(0.2 x 0.8 x 5/6) = 0.3651484,
  z = -0.3333333 / 0.3651484 = -0.9129, p = 0.361310 -> worse.
  K04 NJ: K04 is complete through 09-30 only (72 h lag) -> pending.
- change 2 (SERVICE) launched 10-02: K06 NJ complaints 6 on 10-01 (P1-P5, P8), 1 on 10-03
  (P6); October has 20000 NJ subscribers: exposure of one day = 20000 / 31 = 645.16
  subscriber-months; rates 6 x 10000 / 645.16 = 93.0 and 15.5 per 10k, ratio 1/6;
  q = 1/2, z = (1 - 7 x 0.5) / sqrt(7 x 0.25) = -1.8898, p = 0.058782 -> improved (down).
  K06 JS: the same (WX's complaint G1 has no WX subscriber row: not counted, as in
  fct_kpi_values). K05 WX: 19/20 on 10-01, no survey on 10-03 -> no_data.
- change 3 (BILLING) launched 10-01: K09 NJ before = 09-30, September has no bill run ->
  pending. Change 4 is only passed: no rows.
"""

from __future__ import annotations

import csv

import dagster as dg
import pytest
from openpyxl import load_workbook

from dagster_project.lib.publish import BOARD_TABLES
from dagster_project.lib.remediation.loop import open_workflow
from dagster_project.lib.remediation.post_evaluation import COLUMN_KEYS, LOG_TABLE
from dagster_project.lib.warehouse import connect

from .post_evaluation_scenario import HOTLINE_MAIL

K06_EXPOSURE = 20000 / 31
# (change, kpi, region) -> (before num, before den, after num, after den, z, p, verdict)
EXPECTED = {
    (1, "K02", "NJ"): (2, 3, 0, 2, -1.4907, 0.136037, "worse"),
    (1, "K03", "NJ"): (1, 3, 0, 2, -0.9129, 0.36131, "worse"),
    (1, "K04", "NJ"): (0, 0, 0, 0, None, None, "pending"),
    (2, "K05", "WX"): (19, 20, 0, 0, None, None, "no_data"),
    (2, "K06", "JS"): (6, K06_EXPOSURE, 1, K06_EXPOSURE, -1.8898, 0.058782, "improved"),
    (2, "K06", "NJ"): (6, K06_EXPOSURE, 1, K06_EXPOSURE, -1.8898, 0.058782, "improved"),
    (3, "K09", "NJ"): (0, 0, 1, 10000 / 31, None, None, "pending"),
}


def mart_rows(story, columns: str) -> dict:
    con = connect(story.settings.warehouse, read_only=True)
    try:
        found = con.execute(f"select change_id, kpi_code, region_code, {columns} "
                            "from fct_change_post_evaluation").fetchall()
    finally:
        con.close()
    return {row[:3]: row[3:] for row in found}


def test_mart_rows_match_the_hand_computation(post_evaluation_story):
    found = mart_rows(post_evaluation_story, "before_numerator, before_denominator, "
                      "after_numerator, after_denominator, z_statistic, p_value, verdict")
    assert set(found) == set(EXPECTED)  # change 4 (not launched) has no row
    for key, (bn, bd, an, ad, z, p, verdict) in EXPECTED.items():
        row = found[key]
        assert row[0] == bn and row[1] == pytest.approx(bd), key
        assert row[2] == an and row[3] == pytest.approx(ad), key
        assert row[6] == verdict, key
        if z is not None:
            assert (row[4], row[5]) == (z, p), key


def test_windows_leave_out_the_launch_day(post_evaluation_story):
    found = mart_rows(post_evaluation_story, "before_start, before_end, after_start, after_end")
    assert [str(d) for d in found[(1, "K02", "NJ")]] == [
        "2026-10-01", "2026-10-01", "2026-10-03", "2026-10-03"]
    assert [str(d) for d in found[(3, "K09", "NJ")]] == [
        "2026-09-30", "2026-09-30", "2026-10-02", "2026-10-02"]


def test_per_10k_values_and_rate_ratio(post_evaluation_story):
    found = mart_rows(post_evaluation_story, "before_value, after_value, difference, rate_ratio")
    assert found[(2, "K06", "NJ")] == pytest.approx((93.0, 15.5, -77.5, 1 / 6))


def test_a_worse_verdict_opens_exactly_one_issue(post_evaluation_story):
    story = post_evaluation_story
    first = story.first
    assert first.worse_signals == 2
    assert len(first.detection.opened) == 1  # K02 NJ: its earlier issue was cancelled
    assert first.detection.evidence_added == 1  # K03 NJ: evidence on its active issue
    workflow = open_workflow(story.settings)
    try:
        assert len(workflow.issues()) == story.issues_before + 1
        issue = workflow.issue(first.detection.opened[0])
        evidence = workflow.evidence(issue.id)
        k03 = workflow.issues(kpi="K03", region="NJ", active_only=True)[0]
        k03_rules = [e["rule"] for e in workflow.evidence(k03.id)]
    finally:
        workflow.store.dispose()
    assert (issue.kpi_code, issue.region_code, issue.severity, issue.state) == (
        "K02", "NJ", "P2", "open")
    assert issue.id != story.cancelled_issue
    assert [(e["rule"], str(e["period_start"]), e["numerator"], e["denominator"])
            for e in evidence] == [("PE", "2026-10-03", 0, 2)]
    assert "change 1 IVR menu =rework (HOTLINE) launched 2026-10-02" in evidence[0]["detail"]
    assert k03_rules.count("PE") == 1


def test_the_issue_is_opened_once(post_evaluation_story):
    second, third = post_evaluation_story.second, post_evaluation_story.third
    assert second.detection.opened == [] and second.detection.already_seen == 2
    assert third.worse_signals == 0 and third.detection.opened == []


def test_issue_links_are_kept_for_the_board(post_evaluation_story):
    story = post_evaluation_story
    con = connect(story.settings.warehouse, read_only=True)
    try:
        links = dict(((c, k, r), i) for c, k, r, i in con.execute(
            f"select change_id, kpi_code, region_code, issue_id from {LOG_TABLE}").fetchall())
    finally:
        con.close()
    assert links[(1, "K02", "NJ")] == story.first.detection.opened[0]
    assert links[(1, "K03", "NJ")] not in (None, links[(1, "K02", "NJ")])
    assert links[(2, "K06", "NJ")] is None  # improved: no issue


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_results_go_to_each_owner_department_once(post_evaluation_story):
    story = post_evaluation_story
    first = story.first
    assert [f.department_code for f in first.files] == ["HOTLINE", "SERVICE"]  # BILLING: pending only
    hotline, service = (read_csv(f.csv) for f in first.files)
    assert [(r["kpi_code"], r["region_code"], r["verdict"]) for r in hotline] == [
        ("K02", "NJ", "worse"), ("K03", "NJ", "worse")]
    assert [(r["kpi_code"], r["region_code"], r["verdict"]) for r in service] == [
        ("K05", "WX", "no_data"), ("K06", "JS", "improved"), ("K06", "NJ", "improved")]
    assert hotline[0]["issue_id"] == str(first.detection.opened[0])
    assert (hotline[0]["before_value"], hotline[0]["after_value"], hotline[0]["p_value"]) == (
        "0.6666666667", "0", "0.136037")
    assert list(hotline[0]) == list(COLUMN_KEYS)
    assert all(f.csv.parent == story.home / "exports" / "post_evaluation" for f in first.files)
    assert first.notified == 5
    # mail: HOTLINE has an owner with an address; SERVICE has none (the file is the delivery)
    assert [(d.department_code, d.ok, d.error) for d in first.deliveries] == [
        ("HOTLINE", True, None), ("SERVICE", False, "no recipients")]
    assert story.mails_after[0] == 1 and story.messages[0].rcpt_tos == [HOTLINE_MAIL]
    # nothing new: nothing sent, no file written
    assert (story.second.notified, story.second.files, story.mails_after[1]) == (0, [], 1)


def test_changed_verdicts_are_sent_again(post_evaluation_story):
    third = post_evaluation_story.third  # significance back at 0.05
    assert third.notified == 4  # K05 WX (no_data) unchanged
    changed = {(r["kpi_code"], r["region_code"]): (r["previous_verdict"], r["verdict"])
               for f in third.files for r in read_csv(f.csv)}
    assert changed == {("K02", "NJ"): ("worse", "no_change"), ("K03", "NJ"): ("worse", "no_change"),
                       ("K06", "JS"): ("improved", "no_change"),
                       ("K06", "NJ"): ("improved", "no_change")}
    assert post_evaluation_story.mails_after[2] == 2


def test_workbook_has_bilingual_headers_and_keeps_text(post_evaluation_story):
    sheet = load_workbook(post_evaluation_story.first.files[0].xlsx).active
    assert sheet.cell(2, 1).value == "变更编号" and sheet.cell(3, 1).value == "Change ID"
    assert sheet.cell(4, 2).value == "IVR menu =rework" and sheet.cell(4, 2).data_type == "s"
    verdict_col = COLUMN_KEYS.index("verdict") + 1
    assert sheet.cell(4, verdict_col).value == "worse"
    assert sheet.cell(4, verdict_col).fill.fgColor.rgb == "FFFFC7CE"


def test_unknown_owner_department_is_refused_and_changes_nothing(post_evaluation_story, tmp_path):
    import shutil

    from dagster_project.lib.remediation.post_evaluation import act_on_post_evaluations
    from dagster_project.lib.settings import Settings

    home = tmp_path / "home"
    shutil.copytree(post_evaluation_story.home, home,
                    ignore=shutil.ignore_patterns("board", "exports", "dagster", "runs"))
    settings = Settings(home=home, inbox=post_evaluation_story.settings.inbox)
    con = connect(settings.warehouse)
    try:
        # a verdict not sent yet, filed under a department that does not exist
        con.execute(f"delete from {LOG_TABLE} where kpi_code = 'K05'")
        con.execute("update fct_change_post_evaluation set owner_department = 'NOPE' "
                    "where kpi_code = 'K05'")
        before = con.execute(f"select * from {LOG_TABLE} order by all").fetchall()
    finally:
        con.close()
    workflow = open_workflow(settings)
    try:
        issues = len(workflow.issues())
        with pytest.raises(ValueError, match="unknown owner department.*NOPE"):
            act_on_post_evaluations(settings, workflow, send=False)
        assert len(workflow.issues()) == issues
    finally:
        workflow.store.dispose()
    con = connect(settings.warehouse, read_only=True)
    try:
        assert con.execute(f"select * from {LOG_TABLE} order by all").fetchall() == before
    finally:
        con.close()
    assert not (home / "exports" / "post_evaluation").exists()


def test_a_failed_mail_is_sent_again_with_the_next_run(post_evaluation_story, tmp_path):
    import shutil
    import socket

    from dagster_project.lib.remediation.post_evaluation import act_on_post_evaluations
    from dagster_project.lib.settings import Settings

    from .post_evaluation_scenario import smtp_env

    home = tmp_path / "home"
    shutil.copytree(post_evaluation_story.home, home,
                    ignore=shutil.ignore_patterns("board", "exports", "dagster", "runs"))
    settings = Settings(home=home, inbox=post_evaluation_story.settings.inbox)
    con = connect(settings.warehouse)
    try:  # HOTLINE's two verdicts not sent yet
        con.execute(f"update {LOG_TABLE} set notified_verdict = null where change_id = 1")
    finally:
        con.close()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    workflow = open_workflow(settings)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("QLOOP_SMTP_HOST", "127.0.0.1")
            patch.setenv("QLOOP_SMTP_PORT", str(dead_port))
            failed = act_on_post_evaluations(settings, workflow)
        with smtp_env() as smtp:
            retried = act_on_post_evaluations(settings, workflow)
            again = act_on_post_evaluations(settings, workflow)
            received = len(smtp.envelopes)
    finally:
        workflow.store.dispose()
    assert [(d.department_code, d.ok) for d in failed.deliveries] == [("HOTLINE", False)]
    assert "cannot connect to SMTP server" in failed.deliveries[0].error
    assert failed.notified == 0 and len(failed.files) == 1  # the file is written all the same
    assert retried.notified == 2 and [d.ok for d in retried.deliveries] == [True]
    assert again.notified == 0 and received == 1


def test_the_action_step_runs_after_the_mart_in_the_pipeline_job():
    from dagster_project.definitions import PIPELINE_JOB, defs

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(LOG_TABLE)
    assert {k.to_user_string() for k in graph.get(key).parent_keys} == {
        "fct_change_post_evaluation"}
    # the board reads the issues it opens from the issue store, not from a published copy
    assert LOG_TABLE not in BOARD_TABLES
    mart = graph.get(dg.AssetKey("fct_change_post_evaluation"))
    assert mart.group_name == "remediation"
    assert {"stg_remediation__changes", "stg_remediation__change_scopes",
            "int_kpi_complete_through"} <= {k.to_user_string() for k in mart.parent_keys}
    assert LOG_TABLE in {n.name for n in defs.resolve_job_def(PIPELINE_JOB).all_node_defs}
