"""Freshness per source: latest business date, days missing, files that arrived late.

Read from the file registry (raw_files: deliveries in force) and the delivery log
(raw_deliveries), a few rows per file; nothing here scans data.

- Missing day: a date between an entity's first business date in force and the
  warehouse's report date (T - 1 day, over all daily entities) with no delivery in force.
  A delivery that was rejected as a whole leaves its day missing; the reason is named.
- Missing month: a month of a monthly entity that is complete (the report date is on or
  after its last day) and has daily data, without a monthly file in force.
- Late file (judged in the run it arrives): a daily file first delivered in a run after an
  earlier run had delivered a later business date of the same entity (its KPI days were
  published without it); a monthly file first delivered after an earlier run had daily data
  past the month's end (the month's K06/K09 were published without their denominator).
A missing day or month and a late file are warnings: the KPIs are published, flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import duckdb

from ..extracts import ENTITIES, ENTITY_BY_PREFIX

SOURCE_NAMES = {"crm": "crm", "billing": "billing", "cc": "call_center", "fo": "field_ops",
                "net": "network"}
# Most missing days listed one by one per entity (the count is complete).
DAYS_LISTED = 31


@dataclass
class Freshness:
    entity: str
    source: str  # KPI catalog source_system
    kind: str  # daily | monthly
    first_date: date | None
    latest_date: date | None
    report_date: date | None
    missing: list[dict] = field(default_factory=list)  # {"date", "note"}
    missing_count: int = 0
    late: list[dict] = field(default_factory=list)  # {"file_name", "business_date", "note"}

    @property
    def passed(self) -> bool:
        return not self.missing_count and not self.late

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("first_date", "latest_date", "report_date"):
            d[k] = d[k].isoformat() if d[k] else None
        for m in d["missing"]:
            m["date"] = m["date"].isoformat()
        for m in d["late"]:
            m["business_date"] = m["business_date"].isoformat()
        return d


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def freshness(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Freshness]:
    in_force = con.execute(
        "select entity, kind, business_date, file_name from raw_files where kind in ('daily', 'monthly')"
    ).fetchall()
    report_date = max((d for _, k, d, _ in in_force if k == "daily"), default=None)
    # the latest word on every file name (to say why a day is missing)
    last_outcome = {name: (outcome, reason) for name, outcome, reason in con.execute(
        "select file_name, outcome, reason from raw_deliveries "
        "qualify row_number() over (partition by file_name order by seen_at desc, rowid desc) = 1"
    ).fetchall()}
    # deliveries that put data in force: (run, first seen, entity, kind-by-name, date, file)
    delivered = con.execute(
        "select run_id, min(seen_at) over (partition by run_id) as run_started, entity, "
        "business_date, file_name, outcome from raw_deliveries where outcome in ('loaded', 'replaced')"
    ).fetchall()
    delivered = [r[:5] + (ENTITY_BY_PREFIX[r[2]].kind, r[5]) for r in delivered if r[2] in ENTITY_BY_PREFIX]
    # late = the first delivery of a name (a re-delivery that replaces one is a correction)
    this_run = [r for r in delivered if r[0] == run_id and r[6] == "loaded"]
    earlier = [r for r in delivered if r[0] != run_id and this_run and r[1] < this_run[0][1]]

    out = []
    for entity in ENTITIES:
        if entity.kind not in ("daily", "monthly"):
            continue
        dates = sorted(d for e, _, d, _ in in_force if e == entity.prefix)
        f = Freshness(entity.prefix, SOURCE_NAMES[entity.source], entity.kind,
                      dates[0] if dates else None, dates[-1] if dates else None, report_date)
        have = set(dates)
        missing: list[date] = []
        if entity.kind == "daily" and dates and report_date:
            day = dates[0]
            while day <= report_date:
                if day not in have:
                    missing.append(day)
                day += timedelta(days=1)
        elif entity.kind == "monthly" and report_date:
            daily_dates = [d for _, k, d, _ in in_force if k == "daily"]
            month = min(daily_dates).replace(day=1)
            while _month_end(month) <= report_date:
                if month not in have:
                    missing.append(month)
                month = (month + timedelta(days=32)).replace(day=1)
        f.missing_count = len(missing)
        for day in missing[:DAYS_LISTED]:
            name = (f"{entity.prefix}_{day:%Y%m%d}.csv" if entity.kind == "daily"
                    else f"{entity.prefix}_{day:%Y%m}.csv")
            outcome = last_outcome.get(name)
            note = (f"{name} delivered but {outcome[0]}: {outcome[1]}" if outcome
                    else f"{name} not delivered")
            f.missing.append({"date": day, "note": note})
        for _, _, e, day, name, _, _ in this_run:
            if e != entity.prefix or day is None:
                continue
            if entity.kind == "daily":
                newer = [r for r in earlier if r[2] == e and r[3] is not None and r[3] > day]
                if newer:
                    f.late.append({"file_name": name, "business_date": day, "note":
                                   f"arrived after {max(r[3] for r in newer)} was already loaded: "
                                   "its days' KPIs were published without it"})
            else:
                past = [r for r in earlier if r[5] == "daily" and r[3] is not None and r[3] > _month_end(day)]
                if past:
                    f.late.append({"file_name": name, "business_date": day, "note":
                                   f"arrived after daily data of {min(r[3] for r in past)} was loaded: "
                                   f"the month's KPIs were published without their denominator"})
        out.append(f)
    return out
