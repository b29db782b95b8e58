"""Published-copy reads for the hotspot page (/hotspots, 热点) and the change page's linked
hotspots: the judged days, a day's surprise per region and category, its top movers, one
series' trend with its expected band and its week and month volumes, the complaints
behind a hotspot, the changes a hotspot run is linked to. Every query is small: the
hotspot marts hold a row per series and day (about 400 series)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dagster_project.lib.remediation.hotspots import Hotspot, read_hotspots

from . import cursor, frame, once_per_copy, rows, table_names

TREND_DAYS = 56  # eight weeks: the four-week baseline twice over
COMPLAINTS_PAGE = 10
PERIOD_TYPES = ("day", "week", "month")


def available() -> bool:
    """The published copy has the hotspot marts (a copy made before them has not)."""
    return {"fct_contact_baselines", "fct_hotspots"} <= table_names()


@once_per_copy
def judged_days() -> tuple[date, ...]:
    """The days the hotspot rule judged (enough baseline), latest first."""
    return tuple(d for (d,) in rows("select distinct contact_day from fct_contact_baselines "
                                    "where expected is not null order by 1 desc"))


def surprise_cells(day: date, source: str | None = None) -> pd.DataFrame:
    """Per region and source x category: the day's highest score over its channels, with
    the observed and expected counts of that channel and whether any channel is a hotspot."""
    return frame("""
        select region_code, source, category,
               max(score) as score,
               arg_max(observed, score) as observed,
               arg_max(expected, score) as expected,
               arg_max(channel, score) as channel,
               bool_or(is_hotspot) as is_hotspot
        from fct_contact_baselines
        where contact_day = $day and expected is not null
          and ($source is null or source = $source)
        group by all
    """, {"day": day, "source": source})


def movers(day: date, source: str | None = None, limit: int = 12) -> pd.DataFrame:
    """The day's most surprising series (score > 0), hotspots or not, with the owner
    department and the changes of a hotspot's run."""
    tables = table_names()
    links = ("""left join (select source, category, channel, region_code, started_on,
                                  list(change_id order by change_id) as changes
                           from fct_hotspot_changes group by all) as c
                on c.source = h.source and c.category = h.category
                and c.channel is not distinct from h.channel
                and c.region_code = h.region_code and c.started_on = h.started_on""",
             "c.changes") if "fct_hotspot_changes" in tables else ("", "null")
    found = frame(f"""
        select b.source, b.category, b.channel, b.region_code, b.observed, b.expected,
               b.expected_high, b.score, b.is_hotspot, h.started_on, h.owner_department,
               {links[1]} as changes
        from fct_contact_baselines as b
        left join fct_hotspots as h
            on h.contact_day = b.contact_day and h.source = b.source
            and h.category = b.category and h.channel is not distinct from b.channel
            and h.region_code = b.region_code
        {links[0]}
        where b.contact_day = $day and b.score > 0 and ($source is null or b.source = $source)
        order by b.score desc, b.region_code = 'JS' desc, b.region_code
        limit $limit
    """, {"day": day, "source": source, "limit": limit})
    return found.astype(object).where(found.notna(), None)


def series_trend(source: str, category: str, channel: str | None, region: str,
                 last_day: date, days: int = TREND_DAYS) -> pd.DataFrame:
    """One series' days up to last_day: observed, expected and its band, hotspot days."""
    return frame("""
        select contact_day, observed, expected, expected_low, expected_high, score, is_hotspot
        from fct_contact_baselines
        where source = $source and category = $category
          and channel is not distinct from $channel and region_code = $region
          and contact_day between $first and $last
        order by contact_day
    """, {"source": source, "category": category, "channel": channel, "region": region,
          "first": last_day - timedelta(days=days - 1), "last": last_day})


def series_volumes(source: str, category: str, channel: str | None, region: str,
                   period_type: str) -> pd.DataFrame:
    """One series' contacts per week or month (fct_contact_volumes)."""
    return frame("""
        select period_start, contacts, is_complete
        from fct_contact_volumes
        where period_type = $period_type and source = $source and category = $category
          and channel is not distinct from $channel and region_code = $region
        order by period_start
    """, {"period_type": period_type, "source": source, "category": category,
          "channel": channel, "region": region})


def top_channel(category: str, region: str, day: date) -> str | None:
    """The complaint channel of the category and region with the day's highest score."""
    found = rows("""
        select channel from fct_contact_baselines
        where source = 'complaint' and category = $category and region_code = $region
          and contact_day = $day
        order by score desc nulls last, observed desc, channel
        limit 1
    """, {"category": category, "region": region, "day": day})
    return found[0][0] if found else None


def hotspot(source: str, category: str, channel: str | None, region: str,
            day: date) -> Hotspot | None:
    """The series' hotspot of the day (with its linked changes), None when it is none."""
    with cursor() as con:
        found = read_hotspots(con, day)
    return next((h for h in found if (h.source, h.category, h.channel, h.region)
                 == (source, category, channel, region)), None)


def complaints(category: str, channel: str, region: str, day: date,
               page: int) -> tuple[pd.DataFrame, int]:
    """A page of the complaints behind a complaint hotspot, and how many there are."""
    where = """from fct_hotspot_complaints
               where contact_day = $day and category = $category and channel = $channel
                 and region_code = $region"""
    params = {"day": day, "category": category, "channel": channel, "region": region}
    total = rows(f"select count(*) {where}", params)[0][0]
    found = frame(f"""
        select complaint_id, city_code, created_at, severity, status, summary {where}
        order by created_at, complaint_id
        limit {COMPLAINTS_PAGE} offset $offset
    """, {**params, "offset": page * COMPLAINTS_PAGE})
    return found, total


def linked_changes(source: str, category: str, channel: str | None, region: str,
                   started_on: date) -> pd.DataFrame:
    if "fct_hotspot_changes" not in table_names():
        return pd.DataFrame()
    return frame("""
        select change_id, title, change_department, launched_on, days_after_launch, matched_by
        from fct_hotspot_changes
        where source = $source and category = $category
          and channel is not distinct from $channel and region_code = $region
          and started_on = $started_on
        order by change_id
    """, {"source": source, "category": category, "channel": channel, "region": region,
          "started_on": started_on})


def hotspots_of_change(change_id: int) -> pd.DataFrame:
    """The hotspot runs linked to a change, each with its peak day (the change page)."""
    if not {"fct_hotspot_changes", "fct_hotspots"} <= table_names():
        return pd.DataFrame()
    found = frame("""
        select c.source, c.category, c.channel, c.region_code, c.started_on,
               c.days_after_launch, c.matched_by,
               arg_max(h.contact_day, h.score) as peak_day, max(h.score) as peak_score,
               arg_max(h.observed, h.score) as observed, arg_max(h.expected, h.score) as expected
        from fct_hotspot_changes as c
        inner join fct_hotspots as h
            on h.source = c.source and h.category = c.category
            and h.channel is not distinct from c.channel and h.region_code = c.region_code
            and h.started_on = c.started_on
        where c.change_id = $change_id
        group by all
        order by c.started_on, peak_score desc
    """, {"change_id": change_id})
    return found.astype(object).where(found.notna(), None)
