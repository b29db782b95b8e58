"""The demo story `make demo` plays on the sample: named demo users take some of the
issues detection opened through the workflow, so the board shows every state; and they
register three changes (one launched, one vetoed with its open issue, one awaiting its
experience test) so the change register and its post-evaluation have something to show.

Everything goes through the workflow service as the demo users (their names start with
`demo_`, so the events say who acted). It plays once per issue store.
"""

from __future__ import annotations

from datetime import timedelta

from ..settings import Settings
from ..warehouse import connect
from .changes import ChangeRegister
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
    """The issue story, then the change story; each plays once per issue store."""
    return _play_issue_story(settings, workflow) + play_change_story(settings, workflow)


def _as_of_date(settings: Settings):
    con = connect(settings.warehouse, read_only=True)
    try:
        return con.execute("select as_of_date from int_as_of").fetchone()[0]
    finally:
        con.close()


def play_change_story(settings: Settings, workflow: Workflow) -> list[str]:
    """Three changes registered by the demo users; a no-op once they registered one.

    The launched one went live 16 days before the sample's as-of date, so the 14-day
    post-evaluation windows before and after its launch both have data."""
    register = ChangeRegister(workflow)
    if any(v.registered_by.startswith("demo_") for v in register.changes()):
        return []
    as_of = _as_of_date(settings)
    launched = register.register(
        _owner("BILLING"), "流量包月结转计费规则调整 (demo: data-pack rollover billing rule)",
        "billing_rule", "BILLING", as_of - timedelta(days=16), "K09:NJ,K09:WX,K10:NJ",
        "未用完流量结转至次月 (demo: unused data rolls over to the next month)")
    register.test_pass(launched.id, DEMO_QM, "体验测试通过：账单清晰 (demo: bill is clear)")
    register.launch(launched.id, _owner("BILLING"), as_of - timedelta(days=16))
    vetoed = register.register(
        _owner("HOTLINE"), "10000号IVR菜单改版 (demo: hotline IVR menu redesign)",
        "it_release", "HOTLINE", as_of + timedelta(days=10), "K02:NJ,K03:NJ,K02:WX")
    vetoed = register.test_veto(
        vetoed.id, DEMO_QM, "体验测试：转人工需按键5次 (demo: five key presses to reach an agent)")
    waiting = register.register(
        DEMO_QM, "FTTR全屋光纤新产品上线 (demo: FTTR whole-home fibre product)", "product",
        "FIELD", as_of + timedelta(days=20), "K11:XZ,K13:XZ")
    return [f"change {launched.id} passed and launched on {as_of - timedelta(days=16)}",
            f"change {vetoed.id} vetoed by {DEMO_QM}; issue {vetoed.veto_issue_id} opened "
            f"for HOTLINE",
            f"change {waiting.id} registered, awaiting its experience test"]


def _play_issue_story(settings: Settings, workflow: Workflow) -> list[str]:
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
