"""`qloop users`, `qloop issues`, `qloop issue ID <action>`, `qloop lists`: the closed loop
from the command line, through the same workflow service (and permission checks) as the
board. A refused action prints one line and exits 1, changing nothing."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import date
from pathlib import Path

import click

from .cli_common import DAY, configure, home_option, open_workflow, refusals_in_one_line
from .lib.remediation.rules import (
    CANCEL_REASONS, ROLES, ROOT_CAUSE_CATEGORIES, SEVERITY_RANK, WorkflowError,
)
from .lib.remediation.schema import ACTIVE_STATES, FINAL_STATES

DEPARTMENT_HELP = "department code (required for department_owner)"
PASSWORD_STDIN_HELP = "read the password from stdin"


def cli_actor() -> str:
    """Who is named in the audit trail for a user administration command: the account
    that ran it (the CLI has no login; whoever runs it can read the store anyway)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return f"cli:{who}"[:64]


def _password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {name}: ")
    if first != getpass.getpass("repeat it: "):
        raise WorkflowError("the two passwords differ")
    return first


def _sessions_ended(count: int) -> str:
    return f"; {count} board session(s) ended" if count else ""


# -- qloop users ----------------------------------------------------------------------------

@click.group(no_args_is_help=False)
@home_option
def users() -> None:
    """Users of the issue store (board and CLI)."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--department", help=DEPARTMENT_HELP)
@click.option("--display-name")
@click.option("--email", help="closure lists are mailed to department owners")
@click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
@home_option
@refusals_in_one_line
def users_add(name: str, role: str, department: str | None, display_name: str | None,
              email: str | None, password_stdin: bool) -> int:
    """Add a user."""
    workflow = open_workflow()
    actor = workflow.add_user(name, role, _password(name, password_stdin), department,
                              display_name, email, by=cli_actor())
    dept = f" of {actor.department_code}" if actor.department_code else ""
    print(f"user {actor.name} added: {actor.role}{dept}")
    return 0


@users.command("disable")
@click.argument("name")
@home_option
@refusals_in_one_line
def users_disable(name: str) -> int:
    """Disable a user: no login, no action; ends their board sessions."""
    ended = open_workflow().accounts.disable(name, cli_actor())
    print(f"user {name} disabled{_sessions_ended(ended)}")
    return 0


@users.command("enable")
@click.argument("name")
@home_option
@refusals_in_one_line
def users_enable(name: str) -> int:
    """Enable a disabled user again."""
    open_workflow().accounts.enable(name, cli_actor())
    print(f"user {name} enabled")
    return 0


@users.command("set-role")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--department", help=DEPARTMENT_HELP)
@home_option
@refusals_in_one_line
def users_set_role(name: str, role: str, department: str | None) -> int:
    """Another role or department; ends the user's board sessions."""
    ended = open_workflow().accounts.set_role(name, role, department, cli_actor())
    dept = f" of {department}" if department else ""
    print(f"user {name} is now a {role}{dept}{_sessions_ended(ended)}")
    return 0


@users.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=PASSWORD_STDIN_HELP)
@home_option
@refusals_in_one_line
def users_reset_password(name: str, password_stdin: bool) -> int:
    """A new password; ends the user's board sessions."""
    workflow = open_workflow()
    ended = workflow.accounts.reset_password(name, _password(name, password_stdin),
                                             cli_actor())
    print(f"password of {name} reset{_sessions_ended(ended)}")
    return 0


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="a JSON array of users")
@home_option
@refusals_in_one_line
def users_list(as_json: bool) -> int:
    """List users."""
    found = open_workflow().users()
    if as_json:
        print(json.dumps([{k: (v.isoformat(sep=" ") if hasattr(v, "isoformat") else v)
                           for k, v in u.items()} for u in found], ensure_ascii=False, indent=2))
        return 0
    for u in found:
        print(f"{u['name']:20} {u['role']:17} {u['department_code'] or '':8} "
              f"{'disabled' if u['disabled'] else 'enabled':8} {u['display_name']}")
    return 0


# -- qloop issues ---------------------------------------------------------------------------

ISSUE_LINE = ("{id:>5} {kpi_code:4} {region_code:4} {severity} {state:12} {owner_department:8} "
              "opened {opened_at:%Y-%m-%d %H:%M}  due {due:16} {late}")


@click.group(no_args_is_help=False)
@home_option
def issues() -> None:
    """List issues, R4 warnings; promote a warning; verify fixes."""


@issues.command("list")
@click.option("--json", "as_json", is_flag=True, help="a JSON array of issue objects")
@click.option("--state", type=click.Choice(ACTIVE_STATES + FINAL_STATES))
@click.option("--severity", type=click.Choice(tuple(SEVERITY_RANK)))
@click.option("--department")
@click.option("--region")
@click.option("--kpi")
@click.option("--overdue", is_flag=True, help="only overdue issues")
@home_option
@refusals_in_one_line
def issues_list(as_json: bool, state: str | None, severity: str | None,
                department: str | None, region: str | None, kpi: str | None,
                overdue: bool) -> int:
    """List issues."""
    views = open_workflow().issues(state=state, severity=severity, department=department,
                                   region=region, kpi=kpi, overdue=True if overdue else None)
    if as_json:
        print(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
        return 0
    for v in views:
        late = (f"OVERDUE {v.lateness.days_overdue}d escalation {v.lateness.escalation_level}"
                if v.lateness.overdue else "")
        due = f"{v.lateness.deadline:%Y-%m-%d %H:%M}" if v.lateness.deadline else "-"
        print(ISSUE_LINE.format(**v.row, due=due, late=late))
    print(f"{len(views)} issue(s)")
    return 0


@issues.command("warnings")
@home_option
@refusals_in_one_line
def issues_warnings() -> int:
    """R4 statistical early warnings of the last run."""
    from .lib.remediation.warehouse_io import read_warnings
    from .lib.warehouse import connect

    con = connect(configure().warehouse, read_only=True)
    try:
        warnings = read_warnings(con)
    finally:
        con.close()
    for w in warnings:
        print(f"{w.kpi_code:4} {w.region_code:4} {w.period_start} {w.detail or ''}")
    print(f"{len(warnings)} R4 warning(s); promote one with "
          "`qloop issues promote --user U --kpi K --region R`")
    return 0


@issues.command("promote")
@click.option("--user", required=True)
@click.option("--kpi", required=True)
@click.option("--region", required=True)
@home_option
@refusals_in_one_line
def issues_promote(user: str, kpi: str, region: str) -> int:
    """Turn an R4 warning into an issue (quality manager)."""
    from .lib.remediation.warehouse_io import read_warnings
    from .lib.warehouse import connect

    workflow = open_workflow()
    con = connect(configure().warehouse, read_only=True)
    try:
        warnings = read_warnings(con, kpi, region)
    finally:
        con.close()
    if not warnings:
        raise WorkflowError(f"no R4 warning for {kpi} {region} in the latest run")
    issue_id = workflow.promote_warning(user, warnings[-1])
    print(f"warning {kpi} {region} {warnings[-1].period_start} -> issue {issue_id}")
    return 0


@issues.command("verify")
@home_option
@refusals_in_one_line
def issues_verify() -> int:
    """Verify fixes now against the warehouse (it also runs after every pipeline run)."""
    from .lib.remediation.loop import verify_fixes
    from .lib.warehouse import connect

    workflow = open_workflow()
    con = connect(configure().warehouse, read_only=True)
    try:
        outcome = verify_fixes(con, workflow)
    finally:
        con.close()
    print(f"{len(outcome.verified)} verified {outcome.verified}, {len(outcome.reopened)} "
          f"reopened {outcome.reopened}, {outcome.progressed} progressed")
    return 0


# -- qloop issue ID <action> ----------------------------------------------------------------

@click.group(no_args_is_help=False)
@click.argument("issue_id", metavar="ID", type=int)
@home_option
def issue(issue_id: int) -> None:
    """Show an issue or act on it."""


def _issue_id() -> int:
    """The ID of `qloop issue ID <action>`: an argument of the group, above the action."""
    return click.get_current_context().parent.params["issue_id"]


def _acting(command):
    """An action on the issue: who acts, and the version they saw."""
    command = click.option("--version", type=int,
                           help="refuse if the issue is no longer at this version")(command)
    return click.option("--user", required=True)(command)


def _show_action(view) -> int:
    print(f"issue {view.id}: {view.state} (version {view.version})")
    return 0


@issue.command("show")
@home_option
@refusals_in_one_line
def issue_show() -> int:
    """The issue with its events and evidence (JSON)."""
    workflow, issue_id = open_workflow(), _issue_id()
    view = workflow.issue(issue_id)
    data = {**view.as_dict(), "events": workflow.events(issue_id),
            "evidence": workflow.evidence(issue_id)}
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


@issue.command("acknowledge")
@_acting
@click.option("--responsible", required=True)
@home_option
@refusals_in_one_line
def issue_acknowledge(user: str, version: int | None, responsible: str) -> int:
    """open -> acknowledged."""
    return _show_action(open_workflow().acknowledge(_issue_id(), user, responsible, version))


@issue.command("plan")
@_acting
@click.option("--root-cause-category", required=True, type=click.Choice(ROOT_CAUSE_CATEGORIES))
@click.option("--root-cause", required=True)
@click.option("--actions", required=True)
@click.option("--target-date", required=True, type=DAY)
@home_option
@refusals_in_one_line
def issue_plan(user: str, version: int | None, root_cause_category: str, root_cause: str,
               actions: str, target_date: date) -> int:
    """acknowledged/reopened -> in_progress."""
    return _show_action(open_workflow().plan(_issue_id(), user, root_cause_category,
                                             root_cause, actions, target_date, version))


@issue.command("claim-fix")
@_acting
@click.option("--fix-date", required=True, type=DAY)
@click.option("--note", required=True, help="what was done")
@home_option
@refusals_in_one_line
def issue_claim_fix(user: str, version: int | None, fix_date: date, note: str) -> int:
    """in_progress -> verifying."""
    return _show_action(open_workflow().claim_fix(_issue_id(), user, fix_date, note, version))


@issue.command("sign-off")
@_acting
@click.option("--comment", required=True)
@home_option
@refusals_in_one_line
def issue_sign_off(user: str, version: int | None, comment: str) -> int:
    """verified -> closed (销项)."""
    return _show_action(open_workflow().sign_off(_issue_id(), user, comment, version))


@issue.command("cancel")
@_acting
@click.option("--reason", required=True, type=click.Choice(CANCEL_REASONS))
@click.option("--note", required=True)
@home_option
@refusals_in_one_line
def issue_cancel(user: str, version: int | None, reason: str, note: str) -> int:
    """Any open state -> cancelled."""
    return _show_action(open_workflow().cancel(_issue_id(), user, reason, note, version))


@issue.command("comment")
@_acting
@click.option("--text", required=True)
@home_option
@refusals_in_one_line
def issue_comment(user: str, version: int | None, text: str) -> int:
    """Add a comment."""
    return _show_action(open_workflow().comment(_issue_id(), user, text, version))


# -- qloop lists, demo-story ---------------------------------------------------------------

@click.command("lists")
@click.option("--out", metavar="DIR",
              help="folder (default <home>/exports/closure_lists/<date>)")
@click.option("--no-email", is_flag=True)
@home_option
@refusals_in_one_line
def lists(out: str | None, no_email: bool) -> int:
    """Write every department's closure list now (and mail it)."""
    from .lib.remediation.loop import write_closure_lists

    settings = configure()
    workflow = open_workflow()
    result = write_closure_lists(settings, workflow, Path(out).resolve() if out else None,
                                 send=not no_email)
    for f in result.files:
        print(f"{f.department_code:8} {f.rows:4} issue(s) {f.overdue:3} overdue "
              f"{f.escalated:3} escalated  {f.xlsx}")
    for d in result.deliveries:
        print(f"mail {d.department_code}: " + ("sent to " + ", ".join(d.recipients) if d.ok
                                                else f"NOT sent: {d.error}"))
    if not result.deliveries and not no_email:
        print("mail: SMTP not configured (QLOOP_SMTP_HOST), nothing sent")
    return 0


@click.command("demo-story")
@home_option
@refusals_in_one_line
def demo_story() -> int:
    """Demo users and a few issues moved along (make demo)."""
    from .lib.remediation.demo import DEMO_PASSWORD, ensure_demo_users, play_demo_story

    settings = configure()
    workflow = open_workflow()
    demo_users = ensure_demo_users(workflow)
    for line in play_demo_story(settings, workflow):
        print(f"  demo: {line}")
    print(f"Demo users (password {DEMO_PASSWORD}):")
    for name, role, department, _display in demo_users:
        print(f"  {name:15} {role:17} {department or ''}")
    return 0


COMMANDS = (users, issues, issue, lists, demo_story)
