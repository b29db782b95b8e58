"""The per-run rejects report `<home>/runs/<run_id>.rejects.csv`, to hand back upstream.

One row per record rejected from a delivery that this run loaded (fct_rejected_rows of the
files whose delivery in force came in this run), plus one row per file this run rejected
as a whole (line and raw values empty, rule `file`). Columns: entity, file_name, line,
rule (1..7 or `file`), reason, raw_values (JSON object of the record's values as delivered).
UTF-8 with BOM, so a spreadsheet shows the Chinese. All rejects in force, of every run,
stay queryable in the warehouse table fct_rejected_rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ..csv_cells import neutralised_sql

COLUMNS = ("entity", "file_name", "line", "rule", "reason", "raw_values")


def write_rejects_csv(con: duckdb.DuckDBPyConnection, run_id: str, path: Path) -> int:
    """Write the run's rejects (atomically); return the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    query = """
        select r.entity, r.file_name, r.line, cast(r.rule as varchar) as rule, r.reason, r.raw_values
        from fct_rejected_rows r join raw_files f on f.file_name = r.file_name and f.run_id = $run
        union all
        select entity, file_name, null, 'file', outcome || ': ' || coalesce(reason, ''), null
        from raw_deliveries where run_id = $run and outcome in ('rejected', 'failed')
        order by file_name, line nulls first
    """
    rows = con.execute(f"select count(*) from ({query})", {"run": run_id}).fetchone()[0]
    literal = str(tmp).replace("'", "''")
    cells = ", ".join(c if c == "line" else f"{neutralised_sql(c)} as {c}" for c in COLUMNS)
    con.execute(f"copy (select {cells} from ({query}) order by file_name, line nulls first) "
                f"to '{literal}' (format csv, header true)", {"run": run_id})
    data = tmp.read_bytes()
    tmp.write_bytes(b"\xef\xbb\xbf" + data)
    os.replace(tmp, path)
    return rows
