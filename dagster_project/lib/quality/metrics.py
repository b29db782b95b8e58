"""The metric frames the suites judge, computed in DuckDB (one small frame per entity).

Great Expectations never sees a raw table: for each entity one SQL statement scans its
staging model once (GROUP BY file) and its entity model once (keys left more than once
after de-duplication), joins the file reconciliation and the volume baseline from the file
registry, and returns one row per delivery in force: a few dozen rows, whatever the data
volume. Columns (NULL = not judged, e.g. a file too small for a share to mean anything):

- file_name, business_date, rows_read, rows_accepted, rows_rejected, reconciles
  (fct_file_reconciliation: rows read = accepted + rejected);
- rejected_rule_1 .. rejected_rule_7, rows_unparsed: the file's records each rule rejected
  (the suites' reject counts);
- share_rejected, share_rule_3 (enum values not in the spec), share_rule_4 (codes not in
  the reference data: the reference data's coverage), over the file's records;
- dup_keys: rows of the entity model (after de-duplication) from this file whose key is
  there more than once (0 when section 7 holds); the repeated keys of the daily entities
  are the failures dbt's unique test stored (`repeated_keys_sql`), not a second scan;
- volume_baseline, volume_weeks, volume_ratio (daily entities): records against the median
  of the same weekday of the previous `weeks` weeks (judged when at least `min_weeks` of
  them are in force and the median is at least `min_baseline_rows`);
- null_share_<column> for the suite's important columns;
- the suite's own metrics (SQL aggregates over the file's staging rows).

The per-file aggregates are the expensive part (a scan of every staging row, quantiles).
They change only when a file's staging rows change, so a run keeps them per delivery in
`qa_file_metrics__<entity>` and computes them only for the deliveries landed since
(`refresh_file_metrics`): a daily run scans one day. The cache is thrown away whenever its
generation changes: the suite's SQL, the dbt project (staging parses differently) or a
reference file (rule 4 judges every row again).
"""

from __future__ import annotations

import hashlib

import duckdb

from .suites import Suite


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Where dbt stores failing test rows (`store_failures`): <target schema>_dbt_test__audit.
DBT_TEST_AUDIT_SCHEMA = "main_dbt_test__audit"


def repeated_keys_sql(suite: Suite) -> str:
    """The entity keys left more than once after de-duplication. When dbt's unique test on
    the key stores its failures (the daily entities: tens of millions of keys), they are
    read from there: the same check, computed once per build."""
    key = ", ".join(_q(c) for c in suite.entity.key)
    if suite.duplicate_keys_from:
        return (f"select unique_field as {key} "
                f"from {DBT_TEST_AUDIT_SCHEMA}.{_q(suite.duplicate_keys_from)}")
    return f"select {key} from {suite.entity_model} group by {key} having count(*) > 1"


def file_metrics_table(suite: Suite) -> str:
    return f"qa_file_metrics__{suite.entity.prefix}"


def per_file_sql(suite: Suite, files_filter: str = "") -> str:
    """The per-file aggregates (optionally some files only): the staging model's rows, and
    the file's rejects by rule from fct_rejected_rows (rule 4 is judged there, against the
    current reference data)."""
    n = suite.min_rows
    gated = f"s.rows_staged >= {n}"
    per_file = [f"coalesce(r.rule_{k}, 0) as rejected_rule_{k}" for k in range(1, 8)]
    per_file += [f"case when {gated} then coalesce(r.rule_{k}, 0) / s.rows_staged end as share_rule_{k}"
                 for k in (3, 4)]
    per_file += [f"s.{_q('null_share_' + c)}" for c in suite.null_share_columns]
    per_file += [f"s.{_q(name)}" for name in suite.metrics]
    staged = ["count(*) as rows_staged"]
    staged += [f"case when count(*) >= {n} then (count(*) - count({_q(c)})) / count(*) end "
               f"as {_q('null_share_' + c)}" for c in suite.null_share_columns]
    staged += [f"case when count(*) filter (where reject_rule is null) >= {n} then ({expr}) end "
               f"as {_q(name)}" for name, expr in suite.metrics.items()]
    rules = ", ".join(f"count(*) filter (where rule = {k}) as rule_{k}" for k in range(1, 8))
    where = f"and {files_filter}" if files_filter else ""
    return f"""
        select s.file_name, {', '.join(per_file)}
        from (select _file as file_name, {', '.join(staged)} from {suite.staging_model}
              where true {where} group by _file) as s
        left join (select _file, {rules} from (select *, file_name as _file from fct_rejected_rows)
                   where entity = '{suite.entity.prefix}' and not unparsed {where}
                   group by _file) as r
            on r._file = s.file_name"""


def _generation(con: duckdb.DuckDBPyConnection, suite: Suite, project_fingerprint: str) -> str:
    reference = con.execute(
        "select max(loaded_at) from raw_files where kind = 'reference'").fetchone()[0]
    text = "\0".join([per_file_sql(suite), project_fingerprint, str(reference)])
    return hashlib.sha256(text.encode()).hexdigest()


def refresh_file_metrics(con: duckdb.DuckDBPyConnection, suite: Suite,
                         project_fingerprint: str) -> int:
    """Bring the suite's per-file cache up to date; returns how many files were computed."""
    table, entity = file_metrics_table(suite), suite.entity.prefix
    generation = _generation(con, suite, project_fingerprint)
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = ? and schema_name = current_schema()",
        [table]).fetchone()[0]
    # Another generation: its columns may differ too (the suite's SQL), so the table goes.
    if exists and con.execute(f"select count(*) from {table} where generation <> ?",
                              [generation]).fetchone()[0]:
        con.execute(f"drop table {table}")
    con.execute(f"""
        create table if not exists {table} as
        select p.*, cast(null as timestamp) as loaded_at, cast(null as varchar) as generation
        from ({per_file_sql(suite)}) p limit 0""")
    # Deliveries replaced or gone since: their rows go; the new ones are computed.
    con.execute(f"""
        delete from {table} t where not exists (
            select 1 from raw_files f
            where f.entity = ? and f.file_name = t.file_name and f.loaded_at = t.loaded_at)""",
                [entity])
    todo = f"""_file in (select file_name from raw_files where entity = '{entity}'
                          and file_name not in (select file_name from {table}))"""
    return con.execute(f"""
        insert into {table}
        select p.*, f.loaded_at, ? from ({per_file_sql(suite, todo)}) p
        join raw_files f on f.file_name = p.file_name""", [generation]).fetchone()[0]


def frame_sql(suite: Suite, cached: bool = False) -> str:
    """One row per delivery in force. `cached`: the per-file aggregates come from the cache
    (refresh_file_metrics first), else they are computed here over every staging row."""
    entity = suite.entity
    n = suite.min_rows
    per_file_source = (f"select * exclude (loaded_at, generation) from {file_metrics_table(suite)}"
                       if cached else per_file_sql(suite))
    key = ", ".join(_q(c) for c in entity.key)
    volume = suite.volume if entity.kind == "daily" else None
    if volume:
        weeks = int(volume.get("weeks", 4))
        offsets = ", ".join(f"f.business_date - {7 * k}" for k in range(1, weeks + 1))
        volume_cte = f"""
        , daily as (select file_name, business_date, rows_read from raw_files
                    where entity = '{entity.prefix}' and kind = 'daily')
        , volume as (
            select f.file_name, count(p.rows_read) as volume_weeks,
                   median(p.rows_read) as median_rows
            from daily f left join daily p on p.business_date in ({offsets})
            group by f.file_name
        )"""
        volume_cols = f"""
            case when v.volume_weeks >= {int(volume.get('min_weeks', 2))}
                      and v.median_rows >= {int(volume.get('min_baseline_rows', 30))}
                 then v.median_rows end as volume_baseline,
            v.volume_weeks,
            case when v.volume_weeks >= {int(volume.get('min_weeks', 2))}
                      and v.median_rows >= {int(volume.get('min_baseline_rows', 30))}
                 then r.rows_read / v.median_rows end as volume_ratio,"""
        volume_join = "left join volume v on v.file_name = r.file_name"
    else:
        volume_cte = volume_join = ""
        volume_cols = ("cast(null as double) as volume_baseline, cast(null as bigint) as volume_weeks, "
                       "cast(null as double) as volume_ratio,")
    return f"""
        with per_file as (
            {per_file_source}
        ),
        repeated as (
            {repeated_keys_sql(suite)}
        ),
        dups as (
            select _file as file_name, count(*) as dup_keys
            from {suite.entity_model} semi join repeated using ({key}) group by _file
        ){volume_cte}
        select
            r.file_name, r.business_date, r.rows_read, r.rows_accepted, r.rows_rejected,
            r.rows_unparsed, r.reconciles,
            case when r.rows_read >= {n} then r.rows_rejected / r.rows_read end as share_rejected,
            coalesce(d.dup_keys, 0) as dup_keys,
            {volume_cols}
            p.* exclude (file_name)
        from fct_file_reconciliation r
        left join per_file p on p.file_name = r.file_name
        left join dups d on d.file_name = r.file_name
        {volume_join}
        where r.entity = '{entity.prefix}'
        order by r.business_date nulls first, r.file_name
    """


def metric_frame(con: duckdb.DuckDBPyConnection, suite: Suite, cached: bool = False):
    """The suite's metric frame (a few dozen rows) as a pandas DataFrame for GX."""
    import pandas as pd

    frame = con.execute(frame_sql(suite, cached)).df()
    # DuckDB decimals and nullable ints arrive as objects / Int64: GX compares floats.
    for col in frame.columns:
        if col in ("file_name", "business_date", "reconciles"):
            continue
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame
