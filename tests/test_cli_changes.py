"""`qloop changes` / `qloop change ...` through the installed command, on a fresh home (no
warehouse needed: the register lives in the issue store). Refusals exit 1 with one
"qloop: refused: ..." line and change nothing; malformed command lines exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .qloop_cli import qloop

PASSWORD = "cli-pass-2026\n"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli-changes")
    for name, role, department in (("qm", "quality_manager", None),
                                   ("hot", "department_owner", "HOTLINE"),
                                   ("chan", "department_owner", "CHANNEL"),
                                   ("view", "viewer", None)):
        extra = ["--department", department] if department else []
        result = qloop("users", "add", name, "--role", role, *extra, "--password-stdin",
                       "--home", str(home), input_text=PASSWORD)
        assert result.returncode == 0, result.stderr
    return home


def run(home: Path, *args: str):
    return qloop(*args, "--home", str(home), timeout=120)


def show(home: Path, change_id: int) -> dict:
    result = run(home, "change", str(change_id), "show")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def register(home: Path, user: str = "hot", department: str = "HOTLINE"):
    return run(home, "change", "register", "--title", "携号转网新流程 number porting flow",
               "--type", "it_release", "--department", department, "--launch-date",
               "2026-12-20", "--affects", "K02:NJ,K02:WX", "--user", user)


def test_register_veto_fix_and_launch_through_the_cli(home):
    result = register(home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "change 1: registered (version 1)"

    refused = run(home, "change", "1", "launch", "--user", "hot")
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("qloop: refused: cannot launch change 1: it is registered "
                                      "and has not passed its experience test yet")
    assert show(home, 1)["version"] == 1

    no_reason = run(home, "change", "1", "test", "--veto", "--user", "qm")
    assert no_reason.returncode == 1 and "veto reason is required" in no_reason.stderr
    owner_test = run(home, "change", "1", "test", "--pass", "--user", "hot")
    assert owner_test.returncode == 1 and "needs a quality manager" in owner_test.stderr

    vetoed = run(home, "change", "1", "test", "--veto", "--reason", "porting SMS unclear",
                 "--user", "qm")
    assert vetoed.returncode == 0, vetoed.stderr
    assert vetoed.stdout.strip() == ("change 1: vetoed (version 2); issue 1 opened for HOTLINE")
    data = show(home, 1)
    assert (data["state"], data["test_result"], data["test_reason"], data["affects"]) == \
           ("vetoed", "veto", "porting SMS unclear", ["K02:NJ", "K02:WX"])
    assert [i["id"] for i in data["issues"]] == [1]
    assert [e["action"] for e in data["events"]] == ["register", "test_veto"]

    launch = run(home, "change", "1", "launch", "--user", "qm")
    assert launch.returncode == 1 and "it is vetoed" in launch.stderr

    issue = json.loads(run(home, "issue", "1", "show").stdout)
    assert (issue["origin"], issue["change_id"], issue["kpi_code"], issue["region_code"],
            issue["owner_department"]) == ("veto", 1, "K02", "NJ", "HOTLINE")
    for args in (("acknowledge", "--responsible", "Sun Qi", "--user", "hot"),
                 ("plan", "--root-cause-category", "system", "--root-cause", "SMS template",
                  "--actions", "new template", "--target-date", "2099-01-01", "--user", "hot"),
                 ("claim-fix", "--fix-date", "2026-01-01", "--note", "template fixed",
                  "--user", "hot"),
                 ("sign-off", "--comment", "re-tested: clear", "--user", "qm")):
        step = run(home, "issue", "1", *args)
        assert step.returncode == 0, (args, step.stderr)
    assert show(home, 1)["state"] == "registered"

    assert run(home, "change", "1", "test", "--pass", "--user", "qm").returncode == 0
    launched = run(home, "change", "1", "launch", "--on", "2026-11-30", "--user", "hot")
    assert launched.stdout.strip() == "change 1: launched (version 5)"
    data = show(home, 1)
    assert (data["state"], data["launched_on"]) == ("launched", "2026-11-30")
    assert [e["action"] for e in data["events"]] == \
           ["register", "test_veto", "release", "test_pass", "launch"]


def test_permissions_version_and_cancel(home):
    other = register(home, user="chan")
    assert other.returncode == 1 and "this change belongs to HOTLINE" in other.stderr
    viewer = register(home, user="view")
    assert viewer.returncode == 1 and "view is a viewer" in viewer.stderr
    created = register(home, user="qm")
    change_id = int(created.stdout.split()[1].rstrip(":"))
    stale = run(home, "change", str(change_id), "cancel", "--reason", "dropped", "--version",
                "7", "--user", "hot")
    assert stale.returncode == 1 and "you acted on version 7" in stale.stderr
    cancelled = run(home, "change", str(change_id), "cancel", "--reason", "dropped",
                    "--version", "1", "--user", "hot")
    assert cancelled.returncode == 0, cancelled.stderr
    assert show(home, change_id)["cancel_reason"] == "dropped"


def test_list_and_bad_command_lines(home):
    listed = run(home, "changes", "list", "--json")
    assert listed.returncode == 0
    states = {c["id"]: c["state"] for c in json.loads(listed.stdout)}
    assert states[1] == "launched"
    text = run(home, "changes", "list", "--state", "launched")
    assert text.stdout.splitlines()[-1] == "1 change(s)"
    assert "携号转网新流程" in text.stdout and "K02:NJ,K02:WX" in text.stdout
    assert run(home, "change", "abc", "show").returncode == 2
    assert run(home, "change", "1", "test", "--user", "qm").returncode == 2  # no verdict
    bad_scope = run(home, "change", "register", "--title", "t", "--type", "tariff",
                    "--department", "HOTLINE", "--launch-date", "2026-12-01",
                    "--affects", "K99:NJ", "--user", "qm")
    assert bad_scope.returncode == 1 and "unknown KPI 'K99'" in bad_scope.stderr
    missing = run(home, "change", "99", "show")
    assert missing.returncode == 1 and "change 99 does not exist" in missing.stderr
