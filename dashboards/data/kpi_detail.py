"""KPI detail page: definition, trend, control chart, city breakdown, drill-down and the
hotline's agent / team / site / management views. Every query is bounded by KPI code and
a date range (and region or member where there is one)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import MappingProxyType

import pandas as pd

from . import frame, once_per_copy, record, rows

# drill-down level -> (column of fct_kpi_drilldown, name expression, join). A fixed map:
# levels come from the page, never straight into SQL.
LEVELS: dict[str, tuple[str, str, str]] = {
    "store": ("store_id", "s.store_name",
              "left join dim_stores as s on s.store_id = d.store_id"),
    "district": ("district_code", "x.district_name_zh",
                 "left join dim_districts as x on x.district_code = d.district_code"),
    "team": ("team_id", "t.team_name", "left join dim_teams as t on t.team_id = d.team_id"),
    "site": ("site_id", "d.site_id", ""),
    "agent": ("agent_id", "t.team_name",
              "left join dim_agents as a on a.agent_id = d.agent_id "
              "left join dim_teams as t on t.team_id = a.team_id"),
    "skill_group": ("skill_group", "d.skill_group", ""),
}


# drill-down levels whose members have their own target scope (fct_kpi_drilldown.scope_type)
SCOPED_LEVELS = {"store": "store_level", "district": "area_type", "skill_group": "skill_group"}


@once_per_copy
def drill_levels(kpi_code: str) -> tuple[str, ...]:
    """The levels below the city a KPI can be drilled into (dim_kpi.drill_levels, from the
    seed kpi_attributes), coarse to fine; the hotline's KPIs reach the agent."""
    found = rows("select drill_levels from dim_kpi where kpi_code = $k", {"k": kpi_code})
    return tuple(level for level in (found[0][0] if found else "").split() if level in LEVELS)


@once_per_copy
def kpi_info(kpi_code: str) -> MappingProxyType | None:
    """The KPI's catalog row (targets as floats) with its department's names (read-only)."""
    found = record("""
        select c.* replace (c.target::double as target, c.red_threshold::double as red_threshold),
               d.department_name_zh, d.department_name_en
        from dim_kpi as c left join dim_departments as d
          on d.department_code = c.owner_department
        where c.kpi_code = $k
    """, {"k": kpi_code})
    return None if found is None else MappingProxyType(found)


@once_per_copy
def kpi_codes() -> tuple[str, ...]:
    return tuple(r[0] for r in rows("select kpi_code from dim_kpi order by kpi_code"))


@once_per_copy
def latest_periods(kpi_code: str) -> tuple[date | None, date | None]:
    """(latest day, its month) with values for the KPI; for month KPIs (None, latest month)."""
    found = rows("""
        select max(period_start) filter (where period_type = 'day'),
               max(period_start) filter (where period_type = 'month')
        from fct_kpi_values where kpi_code = $k and region_code = 'JS'
          and period_type in ('day', 'month')
    """, {"k": kpi_code})
    day, month = found[0] if found else (None, None)
    if day is not None:
        month = day.replace(day=1)
    return day, month


def target_overrides(kpi_code: str) -> pd.DataFrame:
    """Every version of every override of the KPI's target (seed kpi_target_overrides)."""
    return frame("""
        select scope_type, scope_value, scope_city, valid_from, target, red_threshold, reason
        from dim_kpi_target_overrides
        where kpi_code = $k
        order by scope_type, scope_value, scope_city nulls first, valid_from
    """, {"k": kpi_code})


def region_target(kpi_code: str, region: str, period_type: str,
                  period_start: date | None) -> tuple | None:
    """(target, red threshold) the region's value of that period is judged against (a city
    override in force, else the catalog's), None when the period has no value row."""
    found = rows("""
        select scope_target, scope_red_threshold from fct_kpi_values
        where kpi_code = $k and region_code = $r and period_type = $pt and period_start = $ps
    """, {"k": kpi_code, "r": region, "pt": period_type, "ps": period_start})
    return found[0] if found else None


def trend(kpi_code: str, region: str, period_type: str, since: date | None) -> pd.DataFrame:
    """status is the region's own (scope_status); the region's target beside the catalog's;
    low_volume / min_volume as detection reads them."""
    return frame("""
        select period_start, numerator, denominator, value, scope_status as status,
               status as catalog_status, scope_target, scope_red_threshold, low_volume,
               min_volume
        from fct_kpi_values
        where kpi_code = $k and region_code = $r and period_type = $pt
          and ($since is null or period_start >= $since)
        order by period_start
    """, {"k": kpi_code, "r": region, "pt": period_type, "since": since})


def control_chart(kpi_code: str, region: str) -> pd.DataFrame:
    return frame("""
        select day, numerator, denominator, p, centre, ucl, lcl, in_baseline, in_last_week,
               beyond_limit_bad_side, bad_side_of_centre, latest_day
        from fct_kpi_control_chart
        where kpi_code = $k and region_code = $r
        order by day
    """, {"k": kpi_code, "r": region})


def r4_signals(kpi_code: str) -> pd.DataFrame:
    """R4 early warnings of the KPI (any region), newest first."""
    return frame("""
        select region_code, period_start, status, value, numerator, denominator, detail
        from fct_kpi_breach_signals
        where kpi_code = $k and rule = 'R4'
        order by period_start desc, region_code
    """, {"k": kpi_code})


@once_per_copy
def detection_window(kpi_code: str) -> tuple[date | None, datetime | None]:
    """(complete_through, as_of_at) of the KPI: the last complete day detection judges
    (K04's lag included) and the T its look-back counts from."""
    found = rows("select complete_through, as_of_at from dim_kpi where kpi_code = $k",
                 {"k": kpi_code})
    return found[0] if found else (None, None)


def signalled_periods(kpi_code: str, region: str | None = None) -> set[tuple[str, str, date]]:
    """(region, period type, period start) of every R1-R3 breach signal of the KPI (in one
    region, or all): the periods detection offers the issue store. R4 is left out: an early
    warning opens no issue by itself."""
    return {(r, pt, ps) for r, pt, ps in rows("""
        select distinct region_code, period_type, period_start from fct_kpi_breach_signals
        where kpi_code = $k and rule <> 'R4' and ($r is null or region_code = $r)
    """, {"k": kpi_code, "r": region})}


def city_breakdown(kpi_code: str, day: date | None, month: date | None) -> pd.DataFrame:
    """Every city with the KPI's value on `day` and in `month` (None where no row). Statuses
    are the city's own (scope_status); day_target / month_target the city's target."""
    return frame("""
        with d as (
            select region_code, numerator, denominator, value, scope_status as status,
                   scope_target as target, low_volume, min_volume
            from fct_kpi_values
            where kpi_code = $k and period_type = 'day' and period_start = $day
        ), m as (
            select region_code, numerator, denominator, value, scope_status as status,
                   scope_target as target, low_volume, min_volume
            from fct_kpi_values
            where kpi_code = $k and period_type = 'month' and period_start = $month
        )
        select c.city_code, c.city_name_zh, c.city_name_en,
               d.numerator as day_numerator, d.denominator as day_denominator,
               d.value as day_value, coalesce(d.status, 'no_data') as day_status,
               d.target as day_target, coalesce(d.low_volume, false) as day_low_volume,
               d.min_volume as day_min_volume,
               m.numerator as month_numerator, m.denominator as month_denominator,
               m.value as month_value, coalesce(m.status, 'no_data') as month_status,
               m.target as month_target, coalesce(m.low_volume, false) as month_low_volume,
               m.min_volume as month_min_volume
        from dim_cities as c
        left join d on d.region_code = c.city_code
        left join m on m.region_code = c.city_code
        order by c.city_code
    """, {"k": kpi_code, "day": day, "month": month})


def drilldown(kpi_code: str, level: str, region: str, start: date, end: date) -> pd.DataFrame:
    """Numerator and denominator per member of `level` (key NULL = not attributed) for the
    days start..end, in one city or (region JS) the province. For the levels with their own
    target scope (SCOPED_LEVELS) also target / red_threshold: the scope target of the
    member's rows on its last day with data (as a week or month row is judged on its last
    reported day); NULL when those rows disagree (a province view spanning cities with
    different targets), and for other levels (they take the region's target)."""
    column, name, join = LEVELS[level]
    scoped = level in SCOPED_LEVELS
    targets = ("""
        , last_days as (
            select {c}, max(activity_date) as last_day from rows_in_range group by {c}
        ), last_targets as (
            select r.{c},
                   case when min(r.scope_target) = max(r.scope_target)
                         and min(r.scope_red_threshold) = max(r.scope_red_threshold)
                        then min(r.scope_target) end as target,
                   case when min(r.scope_target) = max(r.scope_target)
                         and min(r.scope_red_threshold) = max(r.scope_red_threshold)
                        then min(r.scope_red_threshold) end as red_threshold
            from rows_in_range as r
            join last_days as l
              on r.{c} is not distinct from l.{c} and r.activity_date = l.last_day
            where r.scope_type = $scope
            group by r.{c}
        )""".format(c=column) if scoped else "")
    return frame(f"""
        with rows_in_range as (
            select {column}, activity_date, numerator, denominator, scope_type, scope_target,
                   scope_red_threshold
            from fct_kpi_drilldown
            where kpi_code = $k and activity_date between $start and $end
              and ($r = 'JS' or city_code = $r)
        ), d as (
            select {column}, sum(numerator)::bigint as numerator,
                   sum(denominator)::bigint as denominator
            from rows_in_range
            group by {column}
        ){targets}
        select d.{column} as member, {name} as member_name, d.numerator, d.denominator
               {", own.target, own.red_threshold" if scoped else ""}
        from d {join}
        {f"left join last_targets as own on own.{column} is not distinct from d.{column}"
         if scoped else ""}
        order by d.{column} nulls last
    """, {"k": kpi_code, "r": region, "start": start, "end": end,
          **({"scope": SCOPED_LEVELS[level]} if scoped else {})})


# -- the hotline's four levels -----------------------------------------------------------

@once_per_copy
def hotline_sites() -> tuple[str, ...]:
    return tuple(r[0] for r in rows(
        "select distinct site_id from dim_teams where team_type = 'hotline' "
        "and site_id is not null order by 1"))


@once_per_copy
def hotline_teams() -> tuple[tuple[str, str], ...]:
    """(team_id, team_name) of every hotline team, by site."""
    return tuple(rows("""
        select team_id, team_name from dim_teams
        where team_type = 'hotline' order by site_id, team_id
    """))


@once_per_copy
def hotline_agents() -> tuple[tuple[str, str], ...]:
    """(agent_id, team_name) of every hotline agent."""
    return tuple(rows("""
        select a.agent_id, t.team_name
        from dim_agents as a join dim_teams as t using (team_id)
        where t.team_type = 'hotline'
        order by a.agent_id
    """))


def busiest_agent(kpi_code: str, start: date, end: date) -> str | None:
    """The agent with the largest denominator in the period (the agent view's default)."""
    found = rows("""
        select agent_id from fct_kpi_drilldown
        where kpi_code = $k and activity_date between $start and $end and agent_id is not null
        group by agent_id order by sum(denominator) desc, agent_id limit 1
    """, {"k": kpi_code, "start": start, "end": end})
    return found[0][0] if found else None


def agent_daily(kpi_code: str, agent_id: str, start: date, end: date) -> pd.DataFrame:
    """Per day: the agent's numerator/denominator and their team's."""
    return frame("""
        with team as (select team_id from dim_agents where agent_id = $a),
        days as (
            select activity_date,
                   sum(numerator) filter (where agent_id = $a)::bigint as agent_numerator,
                   sum(denominator) filter (where agent_id = $a)::bigint as agent_denominator,
                   sum(numerator)::bigint as team_numerator,
                   sum(denominator)::bigint as team_denominator
            from fct_kpi_drilldown
            where kpi_code = $k and activity_date between $start and $end
              and team_id = (select team_id from team)
            group by activity_date
        )
        select * from days order by activity_date
    """, {"k": kpi_code, "a": agent_id, "start": start, "end": end})


def team_agents(kpi_code: str, team_id: str, start: date, end: date) -> pd.DataFrame:
    """The team's agents (all of them, also without calls) with their sums."""
    return frame("""
        with d as (
            select agent_id, sum(numerator)::bigint as numerator,
                   sum(denominator)::bigint as denominator
            from fct_kpi_drilldown
            where kpi_code = $k and activity_date between $start and $end and team_id = $t
            group by agent_id
        )
        select a.agent_id as member, a.agent_id as member_name,
               coalesce(d.numerator, 0) as numerator, coalesce(d.denominator, 0) as denominator
        from dim_agents as a left join d using (agent_id)
        where a.team_id = $t
        order by a.agent_id
    """, {"k": kpi_code, "t": team_id, "start": start, "end": end})


def site_teams(kpi_code: str, site_id: str, start: date, end: date) -> pd.DataFrame:
    return frame("""
        with d as (
            select team_id, sum(numerator)::bigint as numerator,
                   sum(denominator)::bigint as denominator
            from fct_kpi_drilldown
            where kpi_code = $k and activity_date between $start and $end and site_id = $s
            group by team_id
        )
        select t.team_id as member, t.team_name as member_name,
               coalesce(d.numerator, 0) as numerator, coalesce(d.denominator, 0) as denominator
        from dim_teams as t left join d using (team_id)
        where t.site_id = $s and t.team_type = 'hotline'
        order by t.team_id
    """, {"k": kpi_code, "s": site_id, "start": start, "end": end})


def period_range(period_type: str, day: date) -> tuple[date, date]:
    """The days a drill-down covers: the day itself, or its month up to that day."""
    return (day.replace(day=1), day) if period_type == "month" else (day, day)


def window(day: date, days: int) -> tuple[date, date]:
    return day - timedelta(days=days - 1), day
