"""Data health: the last run's reports (<home>/runs/*.json), source freshness, rejected
files and rows, file reconciliation, GX Data Docs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..context import board
from . import frame, rows, table_names

REPORT_KINDS = ("ingest", "remediation", "quality")


def _runs() -> Path:
    return board().settings.home / "runs"


def latest_reports() -> dict[str, tuple[str, float, object] | None]:
    """kind -> (file name, mtime, parsed JSON) of the newest `<run>.<kind>.json`, or None
    (missing, or not readable as JSON: then the parsed part is the error text)."""
    found: dict[str, tuple[str, float, object] | None] = {}
    folder = _runs()
    for kind in REPORT_KINDS:
        try:
            files = sorted(folder.glob(f"*.{kind}.json"), key=lambda p: p.stat().st_mtime)
        except OSError:
            files = []
        if not files:
            found[kind] = None
            continue
        path = files[-1]
        try:
            parsed: object = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            parsed = f"{type(err).__name__}: {err}"
        found[kind] = (path.name, path.stat().st_mtime, parsed)
    return found


def check_results() -> pd.DataFrame:
    """The latest quality run's verdict per suite, with its failing expectations (severity,
    why, bounds, unexpected files) as a list."""
    return frame("""
        with latest as (
            select run_id from fct_quality_suite_results order by checked_at desc limit 1
        ), failed as (
            select suite, list({'severity': severity, 'why': why, 'bounds': bounds,
                                'unexpected_count': unexpected_count}
                               order by severity, expectation_index) as failing
            from fct_quality_expectation_results
            where run_id = (select run_id from latest) and not success
            group by suite
        )
        select s.suite, s.entity, s.files, s.success, s.blocking_failed, s.error,
               array_to_string(s.kpi_sources, ', ') as kpi_sources, s.checked_at,
               coalesce(f.failing, []) as failing
        from fct_quality_suite_results as s left join failed as f using (suite)
        where s.run_id = (select run_id from latest)
        order by s.blocking_failed desc, s.success, s.suite
    """) if "fct_quality_suite_results" in table_names() else pd.DataFrame()


def alerts(last: int = 20) -> list[dict]:
    """The newest alerts to the data engineers (run failures, blocking checks), newest
    first: the same log the alert e-mails come from."""
    from dagster_project.lib.alerts import read_alerts

    return list(reversed(read_alerts(board().settings, last)))


def data_docs_available() -> bool:
    return (board().settings.home / "data-docs" / "index.html").is_file()


def freshness() -> pd.DataFrame:
    """Per entity: kind, files in force, first and latest business date, days missing in
    between (daily entities), the latest load."""
    return frame("""
        with f as (
            select entity, any_value(kind) as kind, count(*) as files,
                   min(business_date) as first_date, max(business_date) as latest_date,
                   count(distinct business_date) as dates, max(loaded_at) as loaded_at
            from fct_files_in_force group by entity
        ), missing as (
            select f.entity, list(d.day::date order by d.day) as missing_days
            from f
            cross join lateral (select unnest(generate_series(f.first_date, f.latest_date,
                                                              interval 1 day)) as day) as d
            where f.kind = 'daily' and f.first_date is not null
              and not exists (select 1 from fct_files_in_force as r
                              where r.entity = f.entity and r.business_date = d.day::date)
            group by f.entity
        )
        select f.entity, split_part(f.entity, '_', 1) as source, f.kind, f.files,
               f.first_date, f.latest_date, coalesce(len(m.missing_days), 0) as missing_count,
               m.missing_days, f.loaded_at,
               (select report_date from dim_as_of) as report_date
        from f left join missing as m using (entity)
        order by f.entity
    """)


def late_files() -> pd.DataFrame:
    """Deliveries seen after a later business date of the same entity had been seen
    (arrived out of order, i.e. late)."""
    return frame("""
        with firsts as (
            select entity, file_name, business_date, min(seen_at) as seen_at
            from fct_deliveries where business_date is not null
            group by entity, file_name, business_date
        )
        select a.entity, a.file_name, a.business_date, a.seen_at,
               (select max(b.business_date) from firsts as b
                where b.entity = a.entity and b.seen_at < a.seen_at) as later_date_seen
        from firsts as a
        where exists (select 1 from firsts as b where b.entity = a.entity
                      and b.seen_at < a.seen_at and b.business_date > a.business_date)
        order by a.seen_at desc, a.file_name
        limit 200
    """)


def rejected_files() -> pd.DataFrame:
    return frame("""
        select file_name, entity, business_date, outcome, reason, size_bytes,
               max(seen_at) as seen_at
        from fct_deliveries where outcome in ('rejected', 'failed')
        group by all
        order by seen_at desc, file_name
    """)


def rejected_row_count() -> int:
    return rows("select count(*) from fct_rejected_rows")[0][0]


def rejected_row_counts() -> pd.DataFrame:
    return frame("""
        select entity, rule, reject_class, count(*) as row_count, min(reason) as example_reason
        from fct_rejected_rows group by entity, rule, reject_class
        order by entity, rule, row_count desc, reject_class
    """)


def rejected_rows(limit: int = 200) -> pd.DataFrame:
    return frame("""
        select file_name, line, entity, business_date, rule, reason, raw_values
        from fct_rejected_rows
        order by business_date desc nulls last, file_name desc, line
        limit $n
    """, {"n": limit})


def reconciliation() -> pd.DataFrame:
    """Totals per entity and every file that does not reconcile or lost rows."""
    return frame("""
        select entity, count(*) as files, sum(rows_read)::bigint as rows_read,
               sum(rows_accepted)::bigint as rows_accepted,
               sum(rows_rejected)::bigint as rows_rejected,
               sum(rows_unparsed)::bigint as rows_unparsed,
               count(*) filter (where not reconciles) as not_reconciling
        from fct_file_reconciliation group by entity order by entity
    """)


def unreconciled_files() -> pd.DataFrame:
    return frame("""
        select file_name, entity, rows_read, rows_accepted, rows_rejected, rows_unparsed
        from fct_file_reconciliation where not coalesce(reconciles, false)
        order by file_name limit 200
    """)
