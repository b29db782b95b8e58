"""`qloop changes list`, `qloop change register ...`, `qloop change N show|test|launch|cancel`:
the change register and its pre-launch veto from the command line, through the same
service (and permission checks) as the board. A refused action prints one line
("qloop: refused: ...") and exits 1, changing nothing; a malformed command line exits 2."""

from __future__ import annotations

import argparse
import json

from .cli_loop import _guarded, _workflow
from .lib.remediation.schema import CHANGE_STATES, CHANGE_TYPES
from .lib.settings import HOME_ENV

HOME_HELP = f"env {HOME_ENV}; default .qloop"
CHANGE_LINE = ("{id:>5} {state:10} {change_type:15} {owner_department:8} "
               "launch {planned_launch_date} {launched:14} {affects}  {title}")


def _register(workflow):
    from .lib.remediation.changes import ChangeRegister

    return ChangeRegister(workflow)


@_guarded
def cmd_changes_list(args: argparse.Namespace) -> int:
    views = _register(_workflow(args)).changes(state=args.state, department=args.department)
    if args.json:
        print(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
        return 0
    for v in views:
        launched = f"launched {v.launched_on}" if v.launched_on else ""
        print(CHANGE_LINE.format(**v.row, launched=launched,
                                 affects=",".join(f"{k}:{r}" for k, r in v.scopes)))
    print(f"{len(views)} change(s)")
    return 0


def _register_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qloop change register",
                                     description="register a planned change (-> registered)")
    parser.add_argument("--title", required=True)
    parser.add_argument("--type", dest="change_type", required=True, help=" | ".join(CHANGE_TYPES))
    parser.add_argument("--department", required=True, help="the owner department's code")
    parser.add_argument("--launch-date", required=True, help="planned launch date, YYYY-MM-DD")
    parser.add_argument("--affects", required=True,
                        help="KPIs x regions it may affect: K02:NJ,K02:WX")
    parser.add_argument("--description")
    parser.add_argument("--user", required=True)
    parser.add_argument("--home", help=HOME_HELP)
    return parser


def _action_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qloop change N")
    actions = parser.add_subparsers(dest="action", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("--home", help=HOME_HELP)
        if name != "show":
            sub.add_argument("--user", required=True)
            sub.add_argument("--version", type=int,
                             help="refuse if the change is no longer at this version")
        return sub

    action("show", "the change with its scope, linked issues and events (JSON)")
    test = action("test", "record the experience test: registered -> passed | vetoed")
    verdict = test.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--pass", dest="verdict", action="store_const", const="pass")
    verdict.add_argument("--veto", dest="verdict", action="store_const", const="veto")
    test.add_argument("--reason", help="required with --veto")
    action("launch", "passed -> launched").add_argument(
        "--on", dest="launched_on", help="the day it went live, YYYY-MM-DD (default today)")
    action("cancel", "registered/passed/vetoed -> cancelled").add_argument(
        "--reason", required=True)
    return parser


@_guarded
def cmd_change(args: argparse.Namespace) -> int:
    if args.target == "register":
        options = _register_parser().parse_args(args.rest)
        view = _register(_workflow(options)).register(
            options.user, options.title, options.change_type, options.department,
            options.launch_date, options.affects, options.description)
        print(f"change {view.id}: {view.state} (version {view.version})")
        return 0
    if not args.target.isdigit():
        _action_parser().error(f"expected a change number or `register`, got {args.target!r}")
    change_id = int(args.target)
    options = _action_parser().parse_args(args.rest)
    register = _register(_workflow(options))
    if options.action == "show":
        data = {**register.change(change_id).as_dict(), "events": register.events(change_id)}
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return 0
    act = {
        "test": lambda: (register.test_pass(change_id, options.user, options.reason,
                                            options.version)
                         if options.verdict == "pass" else
                         register.test_veto(change_id, options.user, options.reason,
                                            options.version)),
        "launch": lambda: register.launch(change_id, options.user, options.launched_on,
                                          options.version),
        "cancel": lambda: register.cancel(change_id, options.user, options.reason,
                                          options.version),
    }[options.action]
    view = act()
    issue = (f"; issue {view.veto_issue_id} opened for {view.owner_department}"
             if view.state == "vetoed" else "")
    print(f"change {view.id}: {view.state} (version {view.version}){issue}")
    return 0


def add_change_commands(sub: argparse._SubParsersAction) -> None:
    changes = sub.add_parser("changes", help="the change register (pre-launch veto)")
    changes_sub = changes.add_subparsers(dest="changes_command", required=True)
    cl = changes_sub.add_parser("list", help="list changes")
    cl.add_argument("--json", action="store_true", help="a JSON array of change objects")
    cl.add_argument("--state", choices=CHANGE_STATES)
    cl.add_argument("--department")
    cl.add_argument("--home", help=HOME_HELP)
    cl.set_defaults(func=cmd_changes_list)

    change = sub.add_parser(
        "change", help="register a change, or show / test / launch / cancel change N",
        description="qloop change register --title T --type TYPE --department D "
                    "--launch-date YYYY-MM-DD --affects K02:NJ,K02:WX --user U | "
                    "qloop change N show | qloop change N test --pass|--veto --reason R "
                    "--user U | qloop change N launch [--on DATE] --user U | "
                    "qloop change N cancel --reason R --user U")
    change.add_argument("target", help="`register`, or a change number")
    change.add_argument("rest", nargs=argparse.REMAINDER, help="the action and its options")
    change.set_defaults(func=cmd_change)
