"""Published-copy reads for the issue pages: region names, a KPI's values for one region
(the issue chart), the data's as-of date. Issues themselves come from the Workflow service,
never from SQL."""

from __future__ import annotations

from datetime import date, timedelta
from types import MappingProxyType

import pandas as pd

from . import frame, once_per_copy, rows

PROVINCE = ("JS", "江苏省", "Jiangsu province")


@once_per_copy
def region_names() -> MappingProxyType:
    """Region code -> (Chinese, English) name: the cities of dim_cities, and the province
    (read-only)."""
    names = {code: (zh, en) for code, zh, en in rows(
        "select city_code, city_name_zh, city_name_en from dim_cities order by city_code")}
    names[PROVINCE[0]] = PROVINCE[1:]
    return MappingProxyType(names)


def as_of_date() -> date | None:
    found = rows("select as_of_date from dim_as_of")
    return found[0][0] if found else None


def kpi_meta(kpi_code: str) -> dict | None:
    """The catalog row of one KPI (grain, direction, unit, target, red threshold)."""
    found = frame("select kpi_code, grain, direction, unit, target, red_threshold "
                  "from dim_kpi where kpi_code = $kpi", {"kpi": kpi_code})
    return None if found.empty else found.iloc[0].to_dict()


def kpi_series(kpi_code: str, region_code: str, grain: str, last_day: date,
               days: int = 60) -> pd.DataFrame:
    """The KPI's values for one region: daily values of the `days` days up to last_day for
    a daily KPI, every month value for a month KPI. Columns period_start, value, status,
    target, red_threshold (the catalog's), scope_target (the region's own target, issue 7);
    status is the region's own (scope_status), the one detection and verification judge."""
    if grain == "month":
        return frame("""
            select period_start, value, scope_status as status, target, red_threshold,
                   scope_target
            from fct_kpi_values
            where period_type = 'month' and kpi_code = $kpi and region_code = $region
            order by period_start
        """, {"kpi": kpi_code, "region": region_code})
    return frame("""
        select period_start, value, scope_status as status, target, red_threshold,
               scope_target
        from fct_kpi_values
        where period_type = 'day' and kpi_code = $kpi and region_code = $region
          and period_start between $first and $last
        order by period_start
    """, {"kpi": kpi_code, "region": region_code, "first": last_day - timedelta(days=days - 1),
          "last": last_day})
