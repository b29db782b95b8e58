"""The warehouse file's landing layer: raw tables and the file registry.

Landing tables hold every delivered value as text, exactly as delivered (an empty field is
NULL), with the file name, the file's business date and the physical line on which the
record starts. dbt reads them as sources; nothing else writes them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .extracts import ENTITIES, FILE_COLUMN, FILE_DATE_COLUMN, LINE_COLUMN, Entity

# Deliveries currently in force: one row per file name (a re-delivery replaces the row).
FILES_TABLE = "raw_files"
# Every delivery ever seen, with what became of it (append-only log).
DELIVERIES_TABLE = "raw_deliveries"
# Records that could not be split into the header's fields (acceptance rule 2).
UNPARSED_TABLE = "raw_unparsed_records"

CONTROL_DDL = f"""
create table if not exists {FILES_TABLE} (
    file_name varchar primary key,
    entity varchar not null,          -- e.g. crm_queue_ticket
    kind varchar not null,            -- daily | monthly | reference
    business_date date,               -- daily: the date in the name; monthly: first day of the month
    size_bytes bigint not null,
    mtime_ns bigint not null,
    sha256 varchar not null,
    rows_read bigint not null,        -- records after the header (blank lines not counted)
    rows_landed bigint not null,      -- records split into fields, in the landing table
    rows_unparsed bigint not null,    -- records rejected by rule 2 (field count, quoting)
    unknown_columns varchar,          -- extra header columns, ignored (comma separated)
    loaded_at timestamp not null,
    run_id varchar not null
);
create table if not exists {DELIVERIES_TABLE} (
    run_id varchar not null,
    seen_at timestamp not null,
    file_name varchar not null,
    entity varchar,
    business_date date,
    size_bytes bigint,
    mtime_ns bigint,
    sha256 varchar,
    outcome varchar not null,         -- loaded | replaced | rejected | failed
    reason varchar
);
create table if not exists {UNPARSED_TABLE} (
    entity varchar not null,
    {FILE_COLUMN} varchar not null,
    {FILE_DATE_COLUMN} date,
    {LINE_COLUMN} bigint not null,
    raw_record varchar,
    reason varchar not null
);
"""


# The issue store's issues as the pipeline last saw them (replaced after each detection
# pass), so dbt can rank cities and departments on issue handling. The issue store itself
# is a separate database; this table is a read-only copy.
ISSUES_COPY_TABLE = "rem_issues"
# The change register, copied like the issues: one row per change, and one row per
# KPI x region the change may affect.
CHANGES_COPY_TABLE = "rem_changes"
CHANGE_SCOPES_COPY_TABLE = "rem_change_scopes"
REMEDIATION_DDL = f"""
create table if not exists {ISSUES_COPY_TABLE} (
    issue_id bigint primary key,
    kpi_code varchar not null,
    region_code varchar not null,        -- a city code, or JS
    owner_department varchar not null,
    severity varchar not null,           -- P1 | P2 | P3
    state varchar not null,
    opened_at timestamp not null,        -- first opening (local time, Asia/Shanghai)
    closed_at timestamp,
    cancelled_at timestamp,
    reopen_count integer not null,
    met_all_deadlines boolean not null,  -- no step done late, current step not past due
    overdue boolean not null,            -- current step past its deadline at snapshot_at
    snapshot_at timestamp not null
);
create table if not exists {CHANGES_COPY_TABLE} (
    change_id bigint primary key,
    title varchar not null,
    change_type varchar not null,        -- product | tariff | billing_rule | network_cutover | it_release
    owner_department varchar not null,
    planned_launch_date date not null,
    launched_on date,                    -- the day it went live (set when marked launched)
    state varchar not null,              -- registered | passed | vetoed | launched | cancelled
    snapshot_at timestamp not null
);
create table if not exists {CHANGE_SCOPES_COPY_TABLE} (
    change_id bigint not null,
    kpi_code varchar not null,
    region_code varchar not null,        -- a city code, or JS
    primary key (change_id, kpi_code, region_code)
);
"""


def landing_ddl(entity: Entity) -> str:
    cols = ",\n    ".join(f'"{c}" varchar' for c in entity.column_names)
    return (
        f"create table if not exists {entity.table} (\n    {cols},\n"
        f"    {FILE_COLUMN} varchar not null,\n    {FILE_DATE_COLUMN} date,\n"
        f"    {LINE_COLUMN} bigint not null\n)"
    )


# The quality step's results (lib/quality/run.py), one set of rows per run; created with the
# rest of the schema, so the marts over them build before the first quality run too.
SUITE_RESULTS, EXPECTATION_RESULTS, FRESHNESS = "qa_suite_results", "qa_expectation_results", "qa_freshness"

QUALITY_DDL = f"""
create table if not exists {SUITE_RESULTS} (
    run_id varchar not null, checked_at timestamp not null, suite varchar not null,
    entity varchar not null, kpi_sources varchar[] not null, files integer not null,
    success boolean not null, blocking_failed boolean not null, error varchar
);
create table if not exists {EXPECTATION_RESULTS} (
    run_id varchar not null, checked_at timestamp not null, suite varchar not null,
    entity varchar not null, expectation_index integer not null, expectation varchar not null,
    column_name varchar, bounds varchar, severity varchar not null, why varchar,
    success boolean not null, element_count bigint, unexpected_count bigint,
    unexpected json,            -- [{"file_name", "value"}] of the failing files (first 25)
    observed_value varchar
);
create table if not exists {FRESHNESS} (
    run_id varchar not null, checked_at timestamp not null, entity varchar not null,
    source varchar not null, kind varchar not null, first_date date, latest_date date,
    report_date date, missing_count integer not null, missing json, late json, passed boolean not null
);
"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every landing and control table that does not exist yet."""
    con.execute(CONTROL_DDL)
    con.execute(REMEDIATION_DDL)
    con.execute(QUALITY_DDL)
    for entity in ENTITIES:
        con.execute(landing_ddl(entity))


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the offline-safe settings (no extension downloads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(
        str(path),
        read_only=read_only,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
