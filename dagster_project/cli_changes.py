"""`qloop changes list`, `qloop change register ...`, `qloop change N show|test|launch|cancel`:
the change register and its pre-launch veto from the command line, through the same
service (and permission checks) as the board. A refused action prints one line
("qloop: refused: ...") and exits 1, changing nothing; a malformed command line exits 2."""

from __future__ import annotations

import json
from datetime import date

import click

from .cli_common import DAY, home_option, open_workflow, refusals_in_one_line
from .lib.remediation.schema import CHANGE_STATES, CHANGE_TYPES

CHANGE_LINE = ("{id:>5} {state:10} {change_type:15} {owner_department:8} "
               "launch {planned_launch_date} {launched:14} {affects}  {title}")


def _register():
    from .lib.remediation.changes import ChangeRegister

    return ChangeRegister(open_workflow())


# -- qloop changes --------------------------------------------------------------------------

@click.group(no_args_is_help=False)
@home_option
def changes() -> None:
    """The change register (pre-launch veto)."""


@changes.command("list")
@click.option("--json", "as_json", is_flag=True, help="a JSON array of change objects")
@click.option("--state", type=click.Choice(CHANGE_STATES))
@click.option("--department")
@home_option
@refusals_in_one_line
def changes_list(as_json: bool, state: str | None, department: str | None) -> int:
    """List changes."""
    views = _register().changes(state=state, department=department)
    if as_json:
        print(json.dumps([v.as_dict() for v in views], ensure_ascii=False, indent=2))
        return 0
    for v in views:
        launched = f"launched {v.launched_on}" if v.launched_on else ""
        print(CHANGE_LINE.format(**v.row, launched=launched,
                                 affects=",".join(f"{k}:{r}" for k, r in v.scopes)))
    print(f"{len(views)} change(s)")
    return 0


# -- qloop change register | qloop change N <action> ----------------------------------------

class ChangeGroup(click.Group):
    """`qloop change register ...`, or `qloop change N <action> ...`: a change's number
    stands where a command name would, and names the group of actions on that change."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name.isdigit():
            return change_actions
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and not args[0].isdigit() and args[0] not in self.commands:
            raise click.UsageError(f"expected a change number or `register`, got {args[0]!r}",
                                   ctx)
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "register OPTIONS | N show|test|launch|cancel "
                                                "OPTIONS")


@click.group(cls=ChangeGroup, no_args_is_help=False)
@home_option
def change() -> None:
    """Register a change, or show / test / launch / cancel change N (`qloop change N
    --help` lists those)."""


@change.command("register")
@click.option("--title", required=True)
@click.option("--type", "change_type", required=True, type=click.Choice(CHANGE_TYPES))
@click.option("--department", required=True, help="the owner department's code")
@click.option("--launch-date", required=True, type=DAY, help="planned launch date")
@click.option("--affects", required=True, help="KPIs x regions it may affect: K02:NJ,K02:WX")
@click.option("--description")
@click.option("--user", required=True)
@home_option
@refusals_in_one_line
def change_register(title: str, change_type: str, department: str, launch_date: date,
                    affects: str, description: str | None, user: str) -> int:
    """Register a planned change (-> registered)."""
    view = _register().register(user, title, change_type, department, launch_date, affects,
                                description)
    print(f"change {view.id}: {view.state} (version {view.version})")
    return 0


@click.group(no_args_is_help=False)
@home_option
def change_actions() -> None:
    """Show change N, or act on it."""


def _change_id() -> int:
    # The number was this group's name on the command line (ChangeGroup.get_command).
    return int(click.get_current_context().parent.info_name)


def _acting(command):
    """An action on the change: who acts, and the version they saw."""
    command = click.option("--version", type=int,
                           help="refuse if the change is no longer at this version")(command)
    return click.option("--user", required=True)(command)


def _show_action(view) -> int:
    issue = (f"; issue {view.veto_issue_id} opened for {view.owner_department}"
             if view.state == "vetoed" else "")
    print(f"change {view.id}: {view.state} (version {view.version}){issue}")
    return 0


@change_actions.command("show")
@home_option
@refusals_in_one_line
def change_show() -> int:
    """The change with its scope, linked issues and events (JSON)."""
    register, change_id = _register(), _change_id()
    data = {**register.change(change_id).as_dict(), "events": register.events(change_id)}
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


@change_actions.command("test")
@_acting
@click.option("--pass", "passed", is_flag=True, help="the experience test passed")
@click.option("--veto", "vetoed", is_flag=True, help="the experience test vetoes the launch")
@click.option("--reason", help="required with --veto")
@home_option
@refusals_in_one_line
def change_test(user: str, version: int | None, passed: bool, vetoed: bool,
                reason: str | None) -> int:
    """Record the experience test: registered -> passed | vetoed."""
    if passed == vetoed:
        raise click.UsageError("give one of --pass or --veto", click.get_current_context())
    register = _register()
    test = register.test_pass if passed else register.test_veto
    return _show_action(test(_change_id(), user, reason, version))


@change_actions.command("launch")
@_acting
@click.option("--on", "launched_on", type=DAY, help="the day it went live (default today)")
@home_option
@refusals_in_one_line
def change_launch(user: str, version: int | None, launched_on: date | None) -> int:
    """passed -> launched."""
    return _show_action(_register().launch(_change_id(), user, launched_on, version))


@change_actions.command("cancel")
@_acting
@click.option("--reason", required=True)
@home_option
@refusals_in_one_line
def change_cancel(user: str, version: int | None, reason: str) -> int:
    """registered/passed/vetoed -> cancelled."""
    return _show_action(_register().cancel(_change_id(), user, reason, version))


COMMANDS = (changes, change)
