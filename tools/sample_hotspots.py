"""Planted contact spikes for the synthetic inbox (`sample_data.generate`, `qloop generate`).

A few realistic hotspots on top of the clean data: extra complaints of one category and
channel, or extra hotline calls of one skill group, on one day, in one city or spread over
the province. They are drawn from their own random stream and appended at the end of their
days' files, so every other record, line number and planted fault of the inbox stays as it
is without them (`--no-hotspots`). A planted call copies the timings, agent and transfer
of a real call of the same city and day (the day's hotline KPIs keep their level); a planted
complaint is closed on time one or two days later, like most complaints.

Positions count back from the last business date, so they follow the window: the demo's
billing-rule change goes live 16 days before T (lib/remediation/demo.py), and the billing
spikes come the day and two days after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

# Not from sample_data.py: the generator calls this module (see sample_profiles.py).
from .sample_profiles import (
    CITIES, DAY, H_CALLS, H_DAYTIME, HOUR, SAMPLE_SCALE,
)

# An independent stream: the clean data and the fault plan draw from the seed's own.
_STREAM = 7
PROVINCE_WIDE = tuple(c[0] for c in CITIES)
# Planted ids: <prefix><yymmdd><7-digit sequence>, numbered from here within each day,
# far above the generator's own (at most ~400k calls a day at province scale).
PLANTED_SEQ_BASE = 9_000_000
# A spike needs two weeks of history before it to be judged (two baseline weeks).
MIN_HISTORY_DAYS = 14


@dataclass(frozen=True)
class PlantedSpike:
    days_before_end: int          # 0 = the last business date of the window
    source: str                   # complaint | call
    category: str                 # the complaint category | the call skill group
    channel: str | None           # complaints only
    cities: tuple[str, ...]       # one city, or several (spread by population)
    contacts: int                 # added at the sample's scale; in proportion above it
    what: str
    summaries: tuple[str, ...] = ()


SPIKES: tuple[PlantedSpike, ...] = (
    PlantedSpike(5, "complaint", "product", "online", PROVINCE_WIDE, 12,
                 "a promotion's benefit pack cannot be claimed online: product complaints "
                 "(online) across the province",
                 ("用户反映活动权益包领取页面报错，无法领取", "客户称权益包显示已领完，要求补发",
                  "用户投诉领取的权益包未到账，在线客服无法查询")),
    PlantedSpike(14, "call", "billing", None, ("NJ",), 40,
                 "the day after the data-pack rollover billing rule went live (the demo's "
                 "launched BILLING change): billing calls in NJ"),
    PlantedSpike(13, "complaint", "billing", "hotline", ("NJ", "WX"), 12,
                 "two days after the rollover rule went live in NJ and WX (its scope): billing "
                 "complaints (hotline), a province hotspot",
                 ("用户称流量结转后本月账单仍多扣流量费", "客户反映结转流量未到账，被收取套外流量费",
                  "用户对流量结转规则的说明有异议，要求退还费用")),
    PlantedSpike(0, "call", "mobile", None, ("CZ",), 35,
                 "a mobile network outage in CZ on the last day: mobile calls"),
    PlantedSpike(0, "complaint", "mobile_network", "hotline", ("CZ",), 11,
                 "the same outage: mobile-network complaints (hotline) in CZ",
                 ("客户反映手机突然无信号，无法拨打电话", "用户称下午起手机4G/5G全部断网",
                  "客户投诉基站故障导致手机无服务，影响工作")),
)

# file (prefix, business date) -> column -> formatted values ("" = NULL), appended rows
PlantedRows = dict[tuple[str, date], dict[str, list[str]]]


@dataclass
class PlantedHotspots:
    rows: PlantedRows
    spikes: list[dict]  # what was planted where (the generator's summary)
    _numbers: dict[tuple[str, date], int] = field(default_factory=dict)

    def new_id(self, prefix: str, day: date) -> str:
        """A record id of the day, unique among the planted and the generated ones."""
        sequence = self._numbers.get((prefix, day), PLANTED_SEQ_BASE)
        self._numbers[(prefix, day)] = sequence + 1
        return f"{prefix}{int(day.strftime('%y%m%d')) * 10_000_000 + sequence}"


def plant_hotspots(ctx, seed: int, calls, skip_files: set[tuple[str, date]]
                   ) -> PlantedHotspots:
    """The planted rows per file and what they are. Files in `skip_files` (whole-file
    faults: rejected, missing or truncated) get none. `ctx` is the generator's calendar and
    `calls` its call table (sample_data.Ctx and .Table, not imported: see above)."""
    rng = np.random.default_rng([seed, _STREAM])
    planted = PlantedHotspots({}, [])
    city_weights = np.array([c[3] for c in CITIES])
    city_codes = tuple(c[0] for c in CITIES)
    for spike in SPIKES:
        index = ctx.days - 1 - spike.days_before_end
        if index < MIN_HISTORY_DAYS:
            continue
        day = ctx.dates[index]
        total = round(spike.contacts * max(1.0, ctx.scale / SAMPLE_SCALE))
        per_city = _shares(total, [city_weights[city_codes.index(c)] for c in spike.cities])
        added = 0
        for city, n in zip(spike.cities, per_city):
            if n == 0:
                continue
            if spike.source == "call":
                added += _plant_calls(rng, ctx, calls, planted, skip_files, spike, day,
                                      city, int(n))
            else:
                added += _plant_complaints(rng, ctx, planted, skip_files, spike, day, city,
                                           int(n))
        if added:
            planted.spikes.append({
                "day": day.isoformat(), "source": spike.source, "category": spike.category,
                "channel": spike.channel,
                "region": spike.cities[0] if len(spike.cities) == 1 else "JS",
                "cities": list(spike.cities),
                "contacts": added, "what": spike.what})
    return planted


def _shares(total: int, weights: list[float]) -> list[int]:
    """total split in proportion to the weights, largest remainders first: a province-wide
    spike adds about its share to every city (no city gets a lump by chance)."""
    exact = [total * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])[:total - sum(shares)]:
        shares[i] += 1
    return shares


def _timestamp(seconds: int) -> str:
    """Epoch seconds of the generator (local wall-clock time) as the extracts write it."""
    if seconds < 0:
        return ""
    return (datetime(1970, 1, 1) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def _day_of(seconds: int) -> date:
    return date(1970, 1, 1) + timedelta(days=seconds // DAY)


def _times_of_day(rng, day: date, n: int, profile: np.ndarray) -> np.ndarray:
    start = (day - date(1970, 1, 1)).days * DAY
    hours = rng.choice(24, size=n, p=profile / profile.sum())
    return np.sort(start + hours * HOUR + rng.integers(0, HOUR, n))


def _append(rows: PlantedRows, key: tuple[str, date], record: dict[str, str]) -> None:
    columns = rows.setdefault(key, {})
    for name, value in record.items():
        columns.setdefault(name, []).append(value)


def _hex12(rng) -> str:
    return f"{int(rng.integers(0, 1 << 48)):012x}"


def _plant_calls(rng, ctx, calls, planted: PlantedHotspots, skip: set,
                 spike: PlantedSpike, day: date, city: str, n: int) -> int:
    """Calls of the spike's skill group, each a copy of a real call of the same city and day
    (IVR, queue, answer and talk times, agent, transfer) at a new time of day."""
    cols = calls.cols
    arrived = np.asarray(cols["arrived_at"].data, np.int64)
    city_index = np.asarray(cols["city_code"].data)
    city_code = cols["city_code"].arg.index(city)
    day_start = (day - date(1970, 1, 1)).days * DAY
    donors = np.flatnonzero((city_index == city_code) & (arrived >= day_start)
                            & (arrived < day_start + DAY))
    if len(donors) == 0:
        return 0
    skill = cols["skill_group"].arg.index(spike.category)
    agents = cols["agent_id"].arg
    added = 0
    for t, donor in zip(_times_of_day(rng, day, n, H_CALLS), rng.choice(donors, size=n)):
        shift = int(t) - int(arrived[donor])

        def moved(name: str) -> str:
            value = int(cols[name].data[donor])
            return _timestamp(value + shift) if value >= 0 else ""

        ended = int(cols["ended_at"].data[donor]) + shift
        file_day = _day_of(ended)
        if file_day > ctx.end or ("cc_call", file_day) in skip:
            continue
        agent = int(cols["agent_id"].data[donor])
        _append(planted.rows, ("cc_call", file_day), {
            "call_id": planted.new_id("C", day),
            "caller_id": _hex12(rng), "city_code": city, "arrived_at": _timestamp(int(t)),
            "ivr_exit_at": moved("ivr_exit_at"), "queue_entered_at": moved("queue_entered_at"),
            "answered_at": moved("answered_at"), "ended_at": _timestamp(ended),
            "skill_group": cols["skill_group"].arg[skill],
            "agent_id": agents[agent] if agent >= 0 else "",
            "transferred": str(int(cols["transferred"].data[donor])),
        })
        added += 1
    return added


def _plant_complaints(rng, ctx, planted: PlantedHotspots, skip: set,
                      spike: PlantedSpike, day: date, city: str, n: int) -> int:
    """Complaints of the spike's category and channel, created that day and closed on time
    2 to 40 hours later: the creation day's file has the open version, the closing day's
    the closed one (one closed version when both are the same day); still open when the
    window ends first."""
    if ("crm_complaint", day) in skip:
        return 0
    for t in _times_of_day(rng, day, n, H_DAYTIME):
        closed = int(t) + int(rng.integers(2 * HOUR, 40 * HOUR))
        record = {
            "complaint_id": planted.new_id("TS", day), "customer_id": f"CU{_hex12(rng)}",
            "city_code": city, "channel": spike.channel, "category": spike.category,
            "severity": "normal",
            "summary": spike.summaries[int(rng.integers(0, len(spike.summaries)))],
            "created_at": _timestamp(int(t)),
        }
        closing_day = _day_of(closed)
        still_open = closing_day > ctx.end or ("crm_complaint", closing_day) in skip
        if still_open or closing_day != day:
            _append(planted.rows, ("crm_complaint", day), {
                **record, "closed_at": "", "status": "open", "updated_at": record["created_at"]})
        if not still_open:
            _append(planted.rows, ("crm_complaint", closing_day), {
                **record, "closed_at": _timestamp(closed), "status": "closed",
                "updated_at": _timestamp(closed)})
    return n

