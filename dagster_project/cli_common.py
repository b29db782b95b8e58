"""What every `qloop` command module shares: the home folder (`--home`, anywhere on the
command line), the settings it makes, the typed date, and the one-line answer to a refusal.

The command modules (cli_loop.py, cli_changes.py, cli_hotspots.py) build on this one, and
cli.py (the `qloop` group and the pipeline's commands) puts them together: each module
imports only modules below it.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from .lib.settings import HOME_ENV, INBOX_ENV, Settings, prepare_home

REFUSED = 1
HOME_HELP = f"warehouse, exports, issue store and run storage (env {HOME_ENV}; default .qloop)"
INBOX_HELP = f"extract folder (env {INBOX_ENV}; default data/sample)"
# ctx.meta is one dict for a whole command line (every nested context shares it): the
# --home seen last, on the group or on the command, is the one that counts.
_HOME = "qloop.home"


def _remember_home(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_HOME] = value


def home_option(command: Callable) -> Callable:
    """`--home DIR` on a group or a command: `qloop --home H issues list` and
    `qloop issues list --home H` name the same home."""
    return click.option("--home", metavar="DIR", expose_value=False, callback=_remember_home,
                        help=HOME_HELP)(command)


def root_home_option(command: Callable) -> Callable:
    """`qloop --home DIR`, QLOOP_HOME when not given (a later --home still wins)."""
    return click.option("--home", metavar="DIR", envvar=HOME_ENV, expose_value=False,
                        callback=_remember_home, help=HOME_HELP)(command)


def configure(inbox: str | None = None) -> Settings:
    """The settings of this command line. Its flags win over the environment; both end up
    in the environment, which Dagster (in this process, or `dagster dev`) reads."""
    ctx = click.get_current_context(silent=True)
    home = ctx.meta.get(_HOME) if ctx is not None else None
    if home:
        os.environ[HOME_ENV] = str(Path(home).resolve())
    if inbox:
        os.environ[INBOX_ENV] = str(Path(inbox).resolve())
    settings = Settings.from_env()
    prepare_home(settings)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    # dbt and dagster live beside this interpreter; a venv that is not activated is not on
    # PATH, and dagster-dbt's dev-mode manifest preparation looks for `dbt` there.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    return settings


def open_workflow():
    """The workflow service over this command line's issue store."""
    from .lib.remediation.loop import open_workflow as open_store_workflow

    return open_store_workflow(configure())


class BadDay(click.BadParameter):
    """A date option that is no date: said the way the project's own checks say it."""

    def format_message(self) -> str:
        names = "/".join(self.param.opts) if self.param is not None else "the date"
        return f"{names} must be a date YYYY-MM-DD (got {self.message!r})"


class Day(click.DateTime):
    """A calendar day, YYYY-MM-DD, as a `date` (click.DateTime gives a datetime)."""

    name = "date"

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return super().convert(value, param, ctx).date()
        except click.BadParameter:
            raise BadDay(str(value), ctx, param) from None


DAY = Day()


class LateChoice(click.Choice):
    """A click.Choice whose values are read when a command line first needs them (to check
    a value, complete it, or show help): their module may be one that `qloop --version`
    and shell completion should not import (lib/remediation/hotspots.py pulls in DuckDB
    and the issue store)."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        # click.Choice.__init__ would read the values now; this is what it sets besides.
        self._load = load
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            self._choices = tuple(self._load())
        return self._choices


def refusals_in_one_line(command: Callable[..., int]) -> Callable[..., int]:
    """A workflow refusal becomes one line on stderr and exit code 1 (nothing changed)."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> int:
        from .lib.remediation.rules import WorkflowError

        try:
            return command(*args, **kwargs)
        except WorkflowError as err:
            print(f"qloop: refused: {err}", file=sys.stderr)
            return REFUSED
    return run
