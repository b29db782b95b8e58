"""Hotspots (投诉热点) as the closed loop sees them: read from the warehouse's hotspot marts
(models/marts/hotspots), named and owned by the seed hotspot_owners, promoted to issues
through the workflow service, and judged day by day when a promoted hotspot's fix is
verified.

A hotspot issue (docs/decisions.md, "Hotspots"): KPI column = the category's issue code
(HSC-... complaints, HSH-... hotline calls: a hotspot has no KPI), region = the hotspot's,
owner = the category's department, severity P3 and origin "hotspot", evidence rule HS for
the hotspot's day. One active issue per category and region, as per KPI and region.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache

import duckdb

from .reference import SEEDS
from .rules import HOTSPOT_RULE
from .workflow import Signal, Workflow

SOURCES = ("complaint", "call")
# The complaint channels of source-extracts.md, labelled (Chinese, English).
CHANNEL_NAMES = {"hotline": ("热线", "hotline"), "store": ("营业厅", "store"),
                 "online": ("线上", "online"), "regulator": ("监管申诉", "regulator")}
PROVINCE = "JS"
HOTSPOT_SEVERITY = "P3"  # an early warning, like R4


class HotspotError(ValueError):
    """A hotspot asked for that cannot be given: its message is one line."""


class UnknownSeries(HotspotError):
    """A source, category or channel the spec does not have (bad input)."""


class NoSuchHotspot(HotspotError):
    """A well-formed series that is not a hotspot on that day."""


@dataclass(frozen=True)
class HotspotKind:
    """A complaint category or call skill group: one row of the seed hotspot_owners."""

    source: str
    category: str
    owner_department: str
    issue_code: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@cache
def hotspot_kinds() -> dict[tuple[str, str], HotspotKind]:
    with open(SEEDS / "hotspot_owners.csv", encoding="utf-8", newline="") as handle:
        return {(r["source"], r["category"]): HotspotKind(**r) for r in csv.DictReader(handle)}


def kind_of_issue_code(code: str) -> HotspotKind | None:
    """The hotspot kind an issue's KPI column names, None for a KPI code."""
    return next((k for k in hotspot_kinds().values() if k.issue_code == code), None)


def issue_subject(code: str) -> tuple[str, str]:
    """(Chinese, English) of what an issue is about when its KPI column holds no KPI: a
    promoted hotspot's category; the code itself when it is not a hotspot's either."""
    kind = kind_of_issue_code(code)
    if kind is None:
        return code, code
    return f"热点：{kind.name_zh}", f"Hotspot: {kind.name_en}"


def series_name(source: str, category: str, channel: str | None, lang: str) -> str:
    """e.g. 计费投诉 · 热线 / Billing complaints · hotline; Billing calls."""
    kind = hotspot_kinds().get((source, category))
    name = kind.name(lang) if kind else f"{source} {category}"
    if channel:
        zh, en = CHANNEL_NAMES.get(channel, (channel, channel))
        name += f" · {zh if lang == 'zh' else en}"
    return name


@dataclass(frozen=True)
class Hotspot:
    """One row of fct_hotspots, with the launched changes its run is linked to."""

    source: str
    category: str
    channel: str | None
    region: str
    day: date
    observed: int
    expected: float
    score: float
    ratio: float | None
    started_on: date
    owner_department: str
    issue_code: str
    changes: tuple[int, ...] = ()

    def as_json(self) -> dict:
        data = asdict(self)
        data.update(day=self.day.isoformat(), started_on=self.started_on.isoformat(),
                    changes=list(self.changes))
        return data

    def signal(self) -> Signal:
        """The hotspot as evidence of an issue (workflow.promote_hotspot)."""
        channel = f" {self.channel}" if self.channel else ""
        changes = "".join(f"; change #{c}" for c in self.changes)
        return Signal(
            kpi_code=self.issue_code, region_code=self.region, rule=HOTSPOT_RULE,
            severity=HOTSPOT_SEVERITY, period_type="day", period_start=self.day,
            value=self.expected, numerator=self.observed,
            detail=(f"{self.source} {self.category}{channel}: {self.observed} contacts, "
                    f"{self.expected:g} expected, score {self.score:g}, since "
                    f"{self.started_on}{changes}"))


_HOTSPOT_COLUMNS = """
    h.source, h.category, h.channel, h.region_code, h.contact_day, h.observed, h.expected,
    h.score, h.ratio, h.started_on, h.owner_department, h.issue_code
"""


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute(
        "select table_name from information_schema.tables").fetchall()}


def judged_days(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """The first and the last day the hotspot rule has judged (days before T); None before
    any run built the marts, or when no day has enough baseline yet."""
    if "fct_contact_baselines" not in _tables(con):
        return None
    first, last = con.execute("select min(contact_day), max(contact_day) "
                              "from fct_contact_baselines where expected is not null").fetchone()
    return (first, last) if first is not None else None


def read_hotspots(con: duckdb.DuckDBPyConnection, first: date, last: date | None = None,
                  department: str | None = None) -> list[Hotspot]:
    """The hotspots of the days first .. last (one day by default), most surprising first,
    with their linked changes (none before the after-detection build made the links)."""
    last = last or first
    tables = _tables(con)
    if "fct_hotspots" not in tables:
        return []
    links = ("""left join (
                    select source, category, channel, region_code, started_on,
                           list(change_id order by change_id) as changes
                    from fct_hotspot_changes group by all
                ) as c
                on c.source = h.source and c.category = h.category
                and c.channel is not distinct from h.channel
                and c.region_code = h.region_code and c.started_on = h.started_on""",
             "c.changes") if "fct_hotspot_changes" in tables else ("", "null")
    rows = con.execute(f"""
        select {_HOTSPOT_COLUMNS}, {links[1]}
        from fct_hotspots as h
        {links[0]}
        where h.contact_day between $first and $last
          and ($department is null or h.owner_department = $department)
        order by h.contact_day desc, h.score desc, h.source, h.category, h.channel,
                 h.region_code = 'JS' desc, h.region_code
    """, {"first": first, "last": last, "department": department}).fetchall()
    return [Hotspot(*row[:-1], changes=tuple(row[-1] or ())) for row in rows]


def find_hotspot(con: duckdb.DuckDBPyConnection, source: str, category: str,
                 channel: str | None, region: str, day: date) -> Hotspot:
    """The one hotspot of that series on that day; HotspotError naming what is wrong."""
    check_series(source, category, channel)
    for hotspot in read_hotspots(con, day):
        if (hotspot.source, hotspot.category, hotspot.channel, hotspot.region) == (
                source, category, channel, region):
            return hotspot
    what = f"{source} {category}" + (f" {channel}" if channel else "")
    raise NoSuchHotspot(f"no hotspot of {what} in {region} on {day} (`qloop hotspots --day "
                        f"{day}` lists that day's)")


def check_series(source: str, category: str, channel: str | None) -> None:
    """Refuse a series the spec does not have, with the values it does have."""
    if source not in SOURCES:
        raise UnknownSeries(f"source must be one of {', '.join(SOURCES)} (got {source!r})")
    categories = sorted(c for s, c in hotspot_kinds() if s == source)
    if category not in categories:
        raise UnknownSeries(f"{source} category must be one of {', '.join(categories)} "
                           f"(got {category!r})")
    if source == "call" and channel is not None:
        raise UnknownSeries("calls have no channel (a channel is a complaint's)")
    if source == "complaint" and channel not in CHANNEL_NAMES:
        raise UnknownSeries(f"a complaint hotspot needs its channel, one of "
                           f"{', '.join(CHANNEL_NAMES)} (got {channel!r})")


def promote(workflow: Workflow, user: str, hotspot: Hotspot) -> int:
    """A quality manager promotes the hotspot: an issue of its category's department (or
    evidence of the category and region's active one). Returns the issue id."""
    return workflow.promote_hotspot(user, hotspot.signal(), hotspot.owner_department)


def hotspot_statuses(con: duckdb.DuckDBPyConnection, pairs: Iterable[tuple[str, str]]
                     ) -> dict[tuple[str, str], list[tuple[date, str]]]:
    """Verification of promoted hotspots: for each (issue code, region) among `pairs` that
    is a hotspot kind, every judged day of its category in the region (all channels) as a
    status: red when a series of it is a hotspot that day, amber when one is above its band
    (expected_high) without being a hotspot, green otherwise. The issue is verified after 7
    green days following its fix, reopened by a red one, like a KPI issue."""
    wanted = {}
    for code, region in set(pairs):
        kind = kind_of_issue_code(code)
        if kind is not None:
            wanted[(kind.source, kind.category, region)] = code
    if not wanted or "fct_contact_baselines" not in _tables(con):
        return {}
    rows = con.execute("""
        select source, category, region_code, contact_day,
               case when bool_or(is_hotspot) then 'red'
                    when bool_or(observed > expected_high) then 'amber'
                    else 'green' end as status
        from fct_contact_baselines
        where expected is not null
          and list_contains($wanted, concat_ws('|', source, category, region_code))
        group by all
        order by contact_day
    """, {"wanted": ["|".join(key) for key in wanted]}).fetchall()
    statuses: dict[tuple[str, str], list[tuple[date, str]]] = {}
    for source, category, region, day, status in rows:
        statuses.setdefault((wanted[(source, category, region)], region), []).append(
            (day, status))
    return statuses
