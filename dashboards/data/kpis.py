"""KPI values for the overview: scorecard, sparklines, heatmap."""

from __future__ import annotations

from datetime import date

import pandas as pd

from . import frame, once_per_copy, rows

PERIOD_TYPES = ("day", "week", "month")


@once_per_copy
def as_of() -> tuple | None:
    found = rows("select as_of_at, report_date from dim_as_of")
    return found[0] if found else None


@once_per_copy
def regions() -> tuple[tuple[str, str, str], ...]:
    """(code, name_zh, name_en), the province first."""
    cities = rows("select city_code, city_name_zh, city_name_en from dim_cities order by city_code")
    return (("JS", "江苏省", "Jiangsu province"), *cities)


def periods(period_type: str) -> list[date]:
    """Period starts that have values, newest first."""
    return [r[0] for r in rows(
        "select distinct period_start from fct_kpi_values where period_type = $pt "
        "order by 1 desc", {"pt": period_type})]


def scorecard(period_type: str, period_start: date, region: str) -> pd.DataFrame:
    """Every KPI of the catalog for one period and region, with the previous period's value
    (month KPIs appear on month periods only). status is the region's own (scope_status, as
    detection judges it); scope_target beside the catalog's target."""
    return frame("""
        with current_values as (
            select * from fct_kpi_values
            where period_type = $pt and period_start = $ps and region_code = $region
        ),
        previous_values as (
            select kpi_code, value as previous_value
            from fct_kpi_values
            where period_type = $pt and region_code = $region
              and period_start = (select max(period_start) from fct_kpi_values
                                  where period_type = $pt and period_start < $ps)
        )
        select c.kpi_code, c.name_zh, c.name_en, c.grain, c.direction, c.unit, c.target,
               c.red_threshold, v.value, v.numerator, v.denominator,
               coalesce(v.scope_target, c.target) as scope_target,
               coalesce(v.scope_status, 'no_data') as status, p.previous_value
        from dim_kpi as c
        left join current_values as v using (kpi_code)
        left join previous_values as p using (kpi_code)
        where $pt = 'month' or c.grain = 'day'
        order by c.kpi_code
    """, {"pt": period_type, "ps": period_start, "region": region})


def sparklines(region: str, last_day: date, days: int = 30) -> dict[str, list[float | None]]:
    """KPI -> its daily values over the `days` days up to last_day (None where no value)."""
    found = rows("""
        select kpi_code, list(value order by period_start)
        from (
            select c.kpi_code, d.day as period_start, v.value
            from dim_kpi as c
            cross join (select unnest(generate_series($last - ($n - 1), $last, interval 1 day))::date
                        as day) as d
            left join fct_kpi_values as v
              on v.kpi_code = c.kpi_code and v.period_type = 'day' and v.region_code = $region
             and v.period_start = d.day
            where c.grain = 'day'
        )
        group by kpi_code
    """, {"last": last_day, "n": days, "region": region})
    return {kpi: values for kpi, values in found}


def status_heatmap(period_type: str, period_start: date) -> pd.DataFrame:
    """Status of every city (and JS) x KPI for one period: each region's own (scope_status)."""
    return frame("""
        select region_code, kpi_code, scope_status as status, value
        from fct_kpi_values
        where period_type = $pt and period_start = $ps
        order by region_code, kpi_code
    """, {"pt": period_type, "ps": period_start})
