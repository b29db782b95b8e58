"""The metric frames the suites judge, computed in DuckDB (one small frame per entity).

Great Expectations never sees a raw table: for each entity one SQL statement scans its
staging model once (GROUP BY file) and its entity model once (keys left more than once
after de-duplication), joins the file reconciliation and the volume baseline from the file
registry, and returns one row per delivery in force: a few dozen rows, whatever the data
volume. Columns (NULL = not judged, e.g. a file too small for a share to mean anything):

- file_name, business_date, rows_read, rows_accepted, rows_rejected, reconciles
  (fct_file_reconciliation: rows read = accepted + rejected);
- share_rejected, share_rule_3 (enum values not in the spec), share_rule_4 (codes not in
  the reference data: the reference data's coverage), over the file's records;
- dup_keys: rows of the entity model (after de-duplication) from this file whose key is
  there more than once (0 when section 7 holds);
- volume_baseline, volume_weeks, volume_ratio (daily entities): records against the median
  of the same weekday of the previous `weeks` weeks (judged when at least `min_weeks` of
  them are in force and the median is at least `min_baseline_rows`);
- null_share_<column> for the suite's important columns;
- the suite's own metrics (SQL aggregates over the file's staging rows).
"""

from __future__ import annotations

import duckdb

from .suites import Suite


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def frame_sql(suite: Suite) -> str:
    entity = suite.entity
    n = suite.min_rows
    gated = f"count(*) >= {n}"
    gated_accepted = f"count(*) filter (where reject_rule is null) >= {n}"
    per_file = [
        f"case when {gated} then count(*) filter (where reject_rule = 3) / count(*) end as share_rule_3",
        f"case when {gated} then count(*) filter (where reject_rule = 4) / count(*) end as share_rule_4",
    ]
    per_file += [
        f"case when {gated} then (count(*) - count({_q(c)})) / count(*) end as {_q('null_share_' + c)}"
        for c in suite.null_share_columns
    ]
    per_file += [f"case when {gated_accepted} then ({expr}) end as {_q(name)}"
                 for name, expr in suite.metrics.items()]
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
            select _file as file_name, {", ".join(per_file)}
            from {suite.staging_model} group by _file
        ),
        repeated as (
            select {key} from {suite.entity_model} group by {key} having count(*) > 1
        ),
        dups as (
            select _file as file_name, count(*) as dup_keys
            from {suite.entity_model} semi join repeated using ({key}) group by _file
        ){volume_cte}
        select
            r.file_name, r.business_date, r.rows_read, r.rows_accepted, r.rows_rejected,
            r.reconciles,
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


def metric_frame(con: duckdb.DuckDBPyConnection, suite: Suite):
    """The suite's metric frame (a few dozen rows) as a pandas DataFrame for GX."""
    import pandas as pd

    frame = con.execute(frame_sql(suite)).df()
    # DuckDB decimals and nullable ints arrive as objects / Int64: GX compares floats.
    for col in frame.columns:
        if col in ("file_name", "business_date", "reconciles"):
            continue
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame
