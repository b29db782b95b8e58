"""`qloop hotspots [--json] [--day D]` and `qloop hotspots promote ...`: the complaint and
contact hotspots (投诉热点) of a complete day from the warehouse, and a quality manager's
promotion of one to an issue through the workflow service.

Bad input (a malformed date, an unknown source, category or channel) prints one line and
exits 2; a refusal (no warehouse yet, a day the rule has not judged, no such hotspot, not
a quality manager, promoted already) prints one line and exits 1. Never a traceback."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from .cli_common import DAY, LateChoice, configure, home_option

BAD_INPUT, REFUSED = 2, 1
LINE = ("{rank:>3} {source:9} {label:36} {region:4} observed {observed:>6}  expected "
        "{expected:>8.1f}  {ratio:>6}  score {score:>6.1f}  {owner_department:8} since "
        "{started_on}{changes}")
DAY_HELP = "default: the latest complete day"


class Refused(Exception):
    """The command cannot do what was asked: exit 1."""


def _one_line_errors(command: Callable[..., int]) -> Callable[..., int]:
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> int:
        from .lib.remediation.hotspots import NoSuchHotspot, UnknownSeries
        from .lib.remediation.rules import WorkflowError

        try:
            return command(*args, **kwargs)
        except UnknownSeries as err:
            print(f"qloop hotspots: {err}", file=sys.stderr)
            return BAD_INPUT
        except (Refused, NoSuchHotspot, WorkflowError) as err:
            print(f"qloop: refused: {err}", file=sys.stderr)
            return REFUSED
    return run


def _warehouse():
    """The warehouse, read-only; Refused when there is none yet or a run holds it."""
    import duckdb

    from .lib.warehouse import connect

    settings = configure()
    if not settings.warehouse.exists():
        raise Refused(f"no warehouse at {settings.warehouse}: run `qloop run` first")
    try:
        return connect(settings.warehouse, read_only=True)
    except duckdb.Error as err:
        raise Refused(f"the warehouse cannot be read now ({str(err).splitlines()[0]}); "
                      "a pipeline run may hold it, try again when it has finished") from None


def _judged_day(con, wanted: date | None) -> date | None:
    """The day asked for, or the latest complete day; Refused for a day the rule has not
    judged. None when no day is judged yet (too little history)."""
    from .lib.remediation.hotspots import judged_days

    judged = judged_days(con)
    if judged is None:
        if wanted is not None:
            raise Refused(f"no day is judged yet: the hotspot rule needs two weeks of "
                          f"history before a day (asked for {wanted})")
        return None
    first, last = judged
    if wanted is not None and not first <= wanted <= last:
        raise Refused(f"{wanted} is not a judged day: the hotspot rule has judged "
                      f"{first} .. {last} (complete days with two weeks of history)")
    return wanted or last


def _sources() -> tuple[str, ...]:
    from .lib.remediation.hotspots import SOURCES

    return SOURCES


def _ratio(ratio) -> str:
    return "new" if ratio is None else f"x{ratio:.1f}"


@click.group(invoke_without_command=True, no_args_is_help=False)
@click.option("--json", "as_json", is_flag=True, help="a JSON array of hotspots")
@click.option("--day", type=DAY, help=DAY_HELP)
@click.option("--department", help="only the hotspots this department owns")
@home_option
@click.pass_context
@_one_line_errors
def hotspots(ctx: click.Context, as_json: bool, day: date | None,
             department: str | None) -> int | None:
    """Complaint and call hotspots (投诉热点) of the latest complete day, or of --day;
    `qloop hotspots promote ...` turns one into an issue (quality manager)."""
    if ctx.invoked_subcommand is not None:
        return None
    from .lib.remediation.hotspots import read_hotspots, series_name

    wanted = day
    con = _warehouse()
    try:
        day = _judged_day(con, wanted)
        found = read_hotspots(con, day, department=department) if day else []
    finally:
        con.close()
    if as_json:
        print(json.dumps([h.as_json() for h in found], ensure_ascii=False, indent=2))
        return 0
    if day is None:
        print("no day is judged yet: the hotspot rule needs two weeks of history before a day")
        return 0
    print(f"Hotspots of {day}" + (" (the latest complete day)" if wanted is None else "")
          + ", most surprising first:")
    for rank, h in enumerate(found, start=1):
        fields = {**h.as_json(), "rank": rank, "ratio": _ratio(h.ratio),
                  "changes": "".join(f"  change #{c}" for c in h.changes),
                  "label": series_name(h.source, h.category, h.channel, "en")}
        print(LINE.format(**fields))
    print(f"{len(found)} hotspot(s); promote one with `qloop hotspots promote --user U "
          "--source S --category C [--channel CH] --region R --day D`")
    return 0


@hotspots.command("promote")
@click.option("--user", required=True)
@click.option("--source", required=True, type=LateChoice(_sources))
@click.option("--category", required=True,
              help="the complaint category, or the call's skill group")
@click.option("--channel", help="the complaint channel (complaints only)")
@click.option("--region", required=True, help="a city code, or JS")
@click.option("--day", type=DAY, help=DAY_HELP)
@home_option
@click.pass_context
@_one_line_errors
def promote(ctx: click.Context, user: str, source: str, category: str, channel: str | None,
            region: str, day: date | None) -> int:
    """Turn a hotspot into an issue (quality manager)."""
    from .lib.remediation.hotspots import check_series, find_hotspot
    from .lib.remediation.hotspots import promote as promote_hotspot
    from .lib.remediation.loop import open_workflow

    check_series(source, category, channel)
    # `qloop hotspots --day D promote ...` names the day too.
    wanted = day or ctx.parent.params["day"]
    con = _warehouse()
    try:
        judged = _judged_day(con, wanted)
        if judged is None:
            raise Refused("no day is judged yet: the hotspot rule needs two weeks of history")
        hotspot = find_hotspot(con, source, category, channel, region, judged)
    finally:
        con.close()
    workflow = open_workflow(configure())
    try:
        issue_id = promote_hotspot(workflow, user, hotspot)
    finally:
        workflow.store.dispose()
    channel_text = f" {hotspot.channel}" if hotspot.channel else ""
    print(f"hotspot {hotspot.source} {hotspot.category}{channel_text} {hotspot.region} "
          f"{judged} -> issue {issue_id} ({hotspot.issue_code}, {hotspot.owner_department})")
    return 0


COMMANDS = (hotspots,)
