"""`qloop users`, `qloop issues`, `qloop issue ID <action>`, `qloop lists`: the closed loop
from the command line, through the same workflow service (and permission checks) as the
board. A refused action prints one line and exits 1, changing nothing."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable

from .lib.remediation.rules import CANCEL_REASONS, ROLES, ROOT_CAUSE_CATEGORIES, WorkflowError
from .lib.remediation.schema import ACTIVE_STATES, FINAL_STATES
from .lib.settings import HOME_ENV, Settings

REFUSED = 1


def _workflow(args: argparse.Namespace):
    from .cli import configure
    from .lib.remediation.loop import open_workflow

    return open_workflow(configure(args))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Workflow refusals become one line on stderr and exit code 1."""
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except WorkflowError as err:
            print(f"qloop: refused: {err}", file=sys.stderr)
            return REFUSED
    return run


def cli_actor() -> str:
    """Who is named in the audit trail for a user administration command: the account
    that ran it (the CLI has no login; whoever runs it can read the store anyway)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return f"cli:{who}"[:64]


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if first != getpass.getpass("repeat it: "):
        raise WorkflowError("the two passwords differ")
    return first


@_guarded
def cmd_users_add(args: argparse.Namespace) -> int:
    workflow = _workflow(args)
    actor = workflow.add_user(args.name, args.role, _password(args), args.department,
                              args.display_name, args.email, by=cli_actor())
    dept = f" of {actor.department_code}" if actor.department_code else ""
    print(f"user {actor.name} added: {actor.role}{dept}")
    return 0


def _sessions_ended(count: int) -> str:
    return f"; {count} board session(s) ended" if count else ""


@_guarded
def cmd_users_disable(args: argparse.Namespace) -> int:
    ended = _workflow(args).accounts.disable(args.name, cli_actor())
    print(f"user {args.name} disabled{_sessions_ended(ended)}")
    return 0


@_guarded
def cmd_users_enable(args: argparse.Namespace) -> int:
    _workflow(args).accounts.enable(args.name, cli_actor())
    print(f"user {args.name} enabled")
    return 0


@_guarded
def cmd_users_set_role(args: argparse.Namespace) -> int:
    ended = _workflow(args).accounts.set_role(args.name, args.role, args.department,
                                              cli_actor())
    dept = f" of {args.department}" if args.department else ""
    print(f"user {args.name} is now a {args.role}{dept}{_sessions_ended(ended)}")
    return 0


@_guarded
def cmd_users_reset_password(args: argparse.Namespace) -> int:
    workflow = _workflow(args)
    ended = workflow.accounts.reset_password(args.name, _password(args), cli_actor())
    print(f"password of {args.name} reset{_sessions_ended(ended)}")
    return 0


@_guarded
def cmd_users_list(args: argparse.Namespace) -> int:
    users = _workflow(args).users()
    if args.json:
        print(json.dumps([{k: (v.isoformat(sep=" ") if hasattr(v, "isoformat") else v)
                           for k, v in u.items()} for u in users], ensure_ascii=False, indent=2))
        return 0
    for u in users:
        print(f"{u['name']:20} {u['role']:17} {u['department_code'] or '':8} "
              f"{'disabled' if u['disabled'] else 'enabled':8} {u['display_name']}")
    return 0


ISSUE_LINE = ("{id:>5} {kpi_code:4} {region_code:4} {severity} {state:12} {owner_department:8} "
              "opened {opened_at:%Y-%m-%d %H:%M}  due {due:16} {late}")


@_guarded
def cmd_issues_list(args: argparse.Namespace) -> int:
    views = _workflow(args).issues(state=args.state, severity=args.severity,
                                   department=args.department, region=args.region,
                                   kpi=args.kpi, overdue=True if args.overdue else None)
    if args.json:
        print(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
        return 0
    for v in views:
        late = (f"OVERDUE {v.lateness.days_overdue}d escalation {v.lateness.escalation_level}"
                if v.lateness.overdue else "")
        due = f"{v.lateness.deadline:%Y-%m-%d %H:%M}" if v.lateness.deadline else "-"
        print(ISSUE_LINE.format(**v.row, due=due, late=late))
    print(f"{len(views)} issue(s)")
    return 0


@_guarded
def cmd_issues_warnings(args: argparse.Namespace) -> int:
    from .lib.remediation.warehouse_io import read_warnings
    from .lib.warehouse import connect

    settings = _settings(args)
    con = connect(settings.warehouse, read_only=True)
    try:
        warnings = read_warnings(con)
    finally:
        con.close()
    for w in warnings:
        print(f"{w.kpi_code:4} {w.region_code:4} {w.period_start} {w.detail or ''}")
    print(f"{len(warnings)} R4 warning(s); promote one with "
          "`qloop issues promote --user U --kpi K --region R`")
    return 0


@_guarded
def cmd_issues_promote(args: argparse.Namespace) -> int:
    from .lib.remediation.warehouse_io import read_warnings
    from .lib.warehouse import connect

    workflow = _workflow(args)
    con = connect(_settings(args).warehouse, read_only=True)
    try:
        warnings = read_warnings(con, args.kpi, args.region)
    finally:
        con.close()
    if not warnings:
        raise WorkflowError(f"no R4 warning for {args.kpi} {args.region} in the latest run")
    issue_id = workflow.promote_warning(args.user, warnings[-1])
    print(f"warning {args.kpi} {args.region} {warnings[-1].period_start} -> issue {issue_id}")
    return 0


@_guarded
def cmd_issues_verify(args: argparse.Namespace) -> int:
    """Verification now (it also runs after every pipeline run), against the warehouse."""
    from .lib.remediation.loop import verify_fixes
    from .lib.warehouse import connect

    workflow = _workflow(args)
    con = connect(_settings(args).warehouse, read_only=True)
    try:
        outcome = verify_fixes(con, workflow)
    finally:
        con.close()
    print(f"{len(outcome.verified)} verified {outcome.verified}, {len(outcome.reopened)} "
          f"reopened {outcome.reopened}, {outcome.progressed} progressed")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    from .cli import configure

    return configure(args)


@_guarded
def cmd_issue(args: argparse.Namespace) -> int:
    workflow = _workflow(args)
    if args.action == "show":
        view = workflow.issue(args.id)
        data = {**view.as_dict(), "events": workflow.events(args.id),
                "evidence": workflow.evidence(args.id)}
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return 0
    act = {
        "acknowledge": lambda: workflow.acknowledge(args.id, args.user, args.responsible,
                                                    args.version),
        "plan": lambda: workflow.plan(args.id, args.user, args.root_cause_category,
                                      args.root_cause, args.actions, args.target_date,
                                      args.version),
        "claim-fix": lambda: workflow.claim_fix(args.id, args.user, args.fix_date, args.note,
                                                args.version),
        "sign-off": lambda: workflow.sign_off(args.id, args.user, args.comment, args.version),
        "cancel": lambda: workflow.cancel(args.id, args.user, args.reason, args.note,
                                          args.version),
        "comment": lambda: workflow.comment(args.id, args.user, args.text, args.version),
    }[args.action]
    view = act()
    print(f"issue {view.id}: {view.state} (version {view.version})")
    return 0


@_guarded
def cmd_lists(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .lib.remediation.loop import write_closure_lists

    settings = _settings(args)
    workflow = _workflow(args)
    result = write_closure_lists(settings, workflow, Path(args.out).resolve() if args.out else None,
                                 send=not args.no_email)
    for f in result.files:
        print(f"{f.department_code:8} {f.rows:4} issue(s) {f.overdue:3} overdue "
              f"{f.escalated:3} escalated  {f.xlsx}")
    for d in result.deliveries:
        print(f"mail {d.department_code}: " + ("sent to " + ", ".join(d.recipients) if d.ok
                                                else f"NOT sent: {d.error}"))
    if not result.deliveries and not args.no_email:
        print("mail: SMTP not configured (QLOOP_SMTP_HOST), nothing sent")
    return 0


@_guarded
def cmd_demo_story(args: argparse.Namespace) -> int:
    from .lib.remediation.demo import DEMO_PASSWORD, ensure_demo_users, play_demo_story

    settings = _settings(args)
    workflow = _workflow(args)
    users = ensure_demo_users(workflow)
    for line in play_demo_story(settings, workflow):
        print(f"  demo: {line}")
    print(f"Demo users (password {DEMO_PASSWORD}):")
    for name, role, department, _display in users:
        print(f"  {name:15} {role:17} {department or ''}")
    return 0


def cmd_demo_project(args: argparse.Namespace) -> int:
    from .lib.dbt_project_copy import DEMO_OVERRIDES, demo_project
    from .lib.settings import DBT_PROJECT_ENV

    project = demo_project(_settings(args).home)
    print(f"Demo dbt project with the per-scope targets of {DEMO_OVERRIDES.name} "
          f"(data/demo): {project}")
    print(f"  the pipeline builds it when {DBT_PROJECT_ENV}={project}")
    return 0


def add_loop_commands(sub: argparse._SubParsersAction) -> None:
    home_help = f"env {HOME_ENV}; default .qloop"

    users = sub.add_parser("users", help="users of the issue store (board and CLI)")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--department", help="department code (required for department_owner)")
    add.add_argument("--display-name")
    add.add_argument("--email", help="closure lists are mailed to department owners")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--home", help=home_help)
    add.set_defaults(func=cmd_users_add)
    for name, help_text, func in (
            ("disable", "disable a user: no login, no action; ends their board sessions",
             cmd_users_disable),
            ("enable", "enable a disabled user again", cmd_users_enable)):
        parser = users_sub.add_parser(name, help=help_text)
        parser.add_argument("name")
        parser.add_argument("--home", help=home_help)
        parser.set_defaults(func=func)
    role = users_sub.add_parser("set-role", help="another role or department; ends the "
                                                 "user's board sessions")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=ROLES)
    role.add_argument("--department", help="department code (required for department_owner)")
    role.add_argument("--home", help=home_help)
    role.set_defaults(func=cmd_users_set_role)
    reset = users_sub.add_parser("reset-password", help="a new password; ends the user's "
                                                        "board sessions")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the password from stdin")
    reset.add_argument("--home", help=home_help)
    reset.set_defaults(func=cmd_users_reset_password)
    ls = users_sub.add_parser("list", help="list users")
    ls.add_argument("--json", action="store_true")
    ls.add_argument("--home", help=home_help)
    ls.set_defaults(func=cmd_users_list)

    issues = sub.add_parser("issues", help="list issues, R4 warnings; promote a warning")
    issues_sub = issues.add_subparsers(dest="issues_command", required=True)
    il = issues_sub.add_parser("list", help="list issues")
    il.add_argument("--json", action="store_true", help="a JSON array of issue objects")
    il.add_argument("--state", choices=ACTIVE_STATES + FINAL_STATES)
    il.add_argument("--severity", choices=("P1", "P2", "P3"))
    il.add_argument("--department")
    il.add_argument("--region")
    il.add_argument("--kpi")
    il.add_argument("--overdue", action="store_true", help="only overdue issues")
    il.add_argument("--home", help=home_help)
    il.set_defaults(func=cmd_issues_list)
    iw = issues_sub.add_parser("warnings", help="R4 statistical early warnings of the last run")
    iw.add_argument("--home", help=home_help)
    iw.set_defaults(func=cmd_issues_warnings)
    iv = issues_sub.add_parser("verify", help="verify fixes now against the warehouse")
    iv.add_argument("--home", help=home_help)
    iv.set_defaults(func=cmd_issues_verify)
    ip = issues_sub.add_parser("promote", help="turn an R4 warning into an issue (quality manager)")
    ip.add_argument("--user", required=True)
    ip.add_argument("--kpi", required=True)
    ip.add_argument("--region", required=True)
    ip.add_argument("--home", help=home_help)
    ip.set_defaults(func=cmd_issues_promote)

    issue = sub.add_parser("issue", help="show an issue or act on it")
    issue.add_argument("id", type=int)
    actions = issue.add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text)
        parser.add_argument("--home", help=home_help)
        if name != "show":
            parser.add_argument("--user", required=True)
            parser.add_argument("--version", type=int,
                                help="refuse if the issue is no longer at this version")
        parser.set_defaults(func=cmd_issue)
        return parser

    action("show", "the issue with its events and evidence (JSON)")
    action("acknowledge", "open -> acknowledged").add_argument("--responsible", required=True)
    plan = action("plan", "acknowledged/reopened -> in_progress")
    plan.add_argument("--root-cause-category", required=True,
                      help=" | ".join(ROOT_CAUSE_CATEGORIES))
    plan.add_argument("--root-cause", required=True)
    plan.add_argument("--actions", required=True)
    plan.add_argument("--target-date", required=True, help="YYYY-MM-DD")
    fix = action("claim-fix", "in_progress -> verifying")
    fix.add_argument("--fix-date", required=True, help="YYYY-MM-DD")
    fix.add_argument("--note", required=True, help="what was done")
    action("sign-off", "verified -> closed (销项)").add_argument("--comment", required=True)
    cancel = action("cancel", "any open state -> cancelled")
    cancel.add_argument("--reason", required=True, help=" | ".join(CANCEL_REASONS))
    cancel.add_argument("--note", required=True)
    action("comment", "add a comment").add_argument("--text", required=True)

    lists = sub.add_parser("lists", help="write every department's closure list now (and mail it)")
    lists.add_argument("--out", help="folder (default <home>/exports/closure_lists/<date>)")
    lists.add_argument("--no-email", action="store_true")
    lists.add_argument("--home", help=home_help)
    lists.set_defaults(func=cmd_lists)

    demo = sub.add_parser("demo-story", help="demo users and a few issues moved along (make demo)")
    demo.add_argument("--home", help=home_help)
    demo.set_defaults(func=cmd_demo_story)

    project = sub.add_parser("demo-project", help="a copy of the dbt project with the demo's "
                                                 "per-scope targets, in <home>/dbt-demo (make demo)")
    project.add_argument("--home", help=home_help)
    project.set_defaults(func=cmd_demo_project)
