"""`qloop hotspots [--json] [--day D]` and `qloop hotspots promote ...`: the complaint and
contact hotspots (投诉热点) of a complete day from the warehouse, and a quality manager's
promotion of one to an issue through the workflow service.

Bad input (a malformed date, an unknown source, category or channel) prints one line and
exits 2; a refusal (no warehouse yet, a day the rule has not judged, no such hotspot, not
a quality manager, promoted already) prints one line and exits 1. Never a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date

from .lib.settings import HOME_ENV

BAD_INPUT, REFUSED = 2, 1
HOME_HELP = f"env {HOME_ENV}; default .qloop"
LINE = ("{rank:>3} {source:9} {label:36} {region:4} observed {observed:>6}  expected "
        "{expected:>8.1f}  {ratio:>6}  score {score:>6.1f}  {owner_department:8} since "
        "{started_on}{changes}")


class BadInput(Exception):
    """A malformed command line value: exit 2."""


class Refused(Exception):
    """The command cannot do what was asked: exit 1."""


def _one_line_errors(command: Callable[[argparse.Namespace], int]
                     ) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from .lib.remediation.hotspots import NoSuchHotspot, UnknownSeries
        from .lib.remediation.rules import WorkflowError

        try:
            return command(args)
        except (BadInput, UnknownSeries) as err:
            print(f"qloop hotspots: {err}", file=sys.stderr)
            return BAD_INPUT
        except (Refused, NoSuchHotspot, WorkflowError) as err:
            print(f"qloop: refused: {err}", file=sys.stderr)
            return REFUSED
    return run


def _day(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"--day must be a date YYYY-MM-DD (got {raw!r})") from None


def _warehouse(args: argparse.Namespace):
    """The warehouse, read-only; Refused when there is none yet or a run holds it."""
    import duckdb

    from .cli import configure
    from .lib.warehouse import connect

    settings = configure(args)
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


def _ratio(ratio) -> str:
    return "new" if ratio is None else f"x{ratio:.1f}"


@_one_line_errors
def cmd_hotspots(args: argparse.Namespace) -> int:
    if args.hotspots_command == "promote":
        return _promote(args)
    from .lib.remediation.hotspots import read_hotspots, series_name

    wanted = _day(args.day)
    con = _warehouse(args)
    try:
        day = _judged_day(con, wanted)
        hotspots = read_hotspots(con, day, department=args.department) if day else []
    finally:
        con.close()
    if args.json:
        print(json.dumps([h.as_json() for h in hotspots], ensure_ascii=False, indent=2))
        return 0
    if day is None:
        print("no day is judged yet: the hotspot rule needs two weeks of history before a day")
        return 0
    print(f"Hotspots of {day}" + (" (the latest complete day)" if wanted is None else "")
          + ", most surprising first:")
    for rank, h in enumerate(hotspots, start=1):
        fields = {**h.as_json(), "rank": rank, "ratio": _ratio(h.ratio),
                  "changes": "".join(f"  change #{c}" for c in h.changes),
                  "label": series_name(h.source, h.category, h.channel, "en")}
        print(LINE.format(**fields))
    print(f"{len(hotspots)} hotspot(s); promote one with `qloop hotspots promote --user U "
          "--source S --category C [--channel CH] --region R --day D`")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from .cli import configure
    from .lib.remediation.hotspots import check_series, find_hotspot, promote
    from .lib.remediation.loop import open_workflow

    check_series(args.source, args.category, args.channel)
    wanted = _day(args.day)
    con = _warehouse(args)
    try:
        day = _judged_day(con, wanted)
        if day is None:
            raise Refused("no day is judged yet: the hotspot rule needs two weeks of history")
        hotspot = find_hotspot(con, args.source, args.category, args.channel, args.region, day)
    finally:
        con.close()
    workflow = open_workflow(configure(args))
    try:
        issue_id = promote(workflow, args.user, hotspot)
    finally:
        workflow.store.dispose()
    channel = f" {hotspot.channel}" if hotspot.channel else ""
    print(f"hotspot {hotspot.source} {hotspot.category}{channel} {hotspot.region} {day} -> "
          f"issue {issue_id} ({hotspot.issue_code}, {hotspot.owner_department})")
    return 0


def add_hotspot_commands(sub: argparse._SubParsersAction) -> None:
    hotspots = sub.add_parser(
        "hotspots", help="complaint and call hotspots of a complete day; promote one",
        description="List the hotspots (投诉热点) of the latest complete day, or of --day; "
                    "`qloop hotspots promote ...` turns one into an issue (quality manager).")
    hotspots.add_argument("--json", action="store_true", help="a JSON array of hotspots")
    hotspots.add_argument("--day", help="YYYY-MM-DD (default: the latest complete day)")
    hotspots.add_argument("--department", help="only the hotspots this department owns")
    hotspots.add_argument("--home", help=HOME_HELP)
    hotspots.set_defaults(func=cmd_hotspots, hotspots_command=None)
    actions = hotspots.add_subparsers(dest="hotspots_command")
    promote = actions.add_parser("promote", help="turn a hotspot into an issue (quality manager)")
    promote.add_argument("--user", required=True)
    promote.add_argument("--source", required=True, help="complaint | call")
    promote.add_argument("--category", required=True,
                         help="the complaint category, or the call's skill group")
    promote.add_argument("--channel", help="the complaint channel (complaints only)")
    promote.add_argument("--region", required=True, help="a city code, or JS")
    promote.add_argument("--day", default=argparse.SUPPRESS,
                         help="YYYY-MM-DD (default: the latest complete day)")
    promote.add_argument("--home", default=argparse.SUPPRESS, help=HOME_HELP)
