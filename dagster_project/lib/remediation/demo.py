"""The demo story `make demo` plays on the sample: named demo users take some of the
issues detection opened through the workflow, so the board shows every state.

Everything goes through the workflow service as the demo users (their names start with
`demo_`, so the events say who acted). It plays once per issue store.
"""

from __future__ import annotations

from datetime import timedelta

from ..settings import Settings
from ..warehouse import connect
from .loop import verify_fixes
from .reference import departments
from .rules import DEPARTMENT_OWNER, QUALITY_MANAGER, VIEWER
from .workflow import Workflow

DEMO_PASSWORD = "demo-pass-2026"
DEMO_QM, DEMO_VIEWER = "demo_qm", "demo_viewer"


def demo_users() -> list[tuple[str, str, str | None, str]]:
    """(name, role, department, display name) of every demo user."""
    users = [(DEMO_QM, QUALITY_MANAGER, None, "演示质量经理 Demo quality manager"),
             (DEMO_VIEWER, VIEWER, None, "演示查看者 Demo viewer")]
    users += [(f"demo_{code.lower()}", DEPARTMENT_OWNER, code, f"{d.name_zh} {d.name_en} (demo)")
              for code, d in departments().items()]
    return users


def ensure_demo_users(workflow: Workflow) -> list[tuple[str, str, str | None, str]]:
    existing = {u["name"] for u in workflow.users()}
    for name, role, department, display in demo_users():
        if name not in existing:
            workflow.add_user(name, role, DEMO_PASSWORD, department, display,
                              f"{name}@demo.qualityloop.local")
    return demo_users()


def _owner(department: str) -> str:
    return f"demo_{department.lower()}"


def play_demo_story(settings: Settings, workflow: Workflow) -> list[str]:
    """Advance some open issues; a no-op when a demo user has acted already."""
    issues = workflow.issues(state="open")
    if any(e["actor"].startswith("demo_") for v in workflow.issues()[:50]
           for e in workflow.events(v.id)):
        return []
    told: list[str] = []
    today = workflow.now().date()
    con = connect(settings.warehouse)
    try:
        as_of = con.execute("select as_of_date from int_as_of").fetchone()[0]
        # One issue in six stays open; the others move along a step further each.
        for n, view in enumerate(issues):
            step = n % 6
            owner = _owner(view.owner_department)
            if step == 0:
                continue
            if step == 5:
                workflow.cancel(view.id, DEMO_QM, "false_alarm",
                                "演示：门店系统时钟错误导致的误报 (demo: store clock error)")
                told.append(f"issue {view.id} cancelled by {DEMO_QM}")
                continue
            workflow.acknowledge(view.id, owner, "张伟 Zhang Wei")
            if step >= 2:
                workflow.plan(view.id, owner, "process", "高峰时段人手不足 (demo)",
                              "增加高峰班次；每日复盘 (demo: add peak shifts, daily review)",
                              today + timedelta(days=14))
            if step >= 3:
                # Fixed ten days before the data ends, so verification has days to judge.
                workflow.claim_fix(view.id, owner, as_of - timedelta(days=10),
                                   "已增加班次 (demo: shifts added)")
            if step == 4:
                workflow.comment(view.id, DEMO_QM, "请关注周末数据 (demo: watch the weekends)")
            told.append(f"issue {view.id} {workflow.issue(view.id).state} by {owner}")
        outcome = verify_fixes(con, workflow)
    finally:
        con.close()
    for issue_id in outcome.verified[::2]:  # half of the verified ones are signed off
        workflow.sign_off(issue_id, DEMO_QM, "连续7天达标，同意销项 (demo: held 7 days, closed)")
        told.append(f"issue {issue_id} signed off by {DEMO_QM}")
    told += [f"issue {i} verified by the system" for i in outcome.verified[1::2]]
    told += [f"issue {i} reopened by the system (red after the fix)" for i in outcome.reopened]
    return told
