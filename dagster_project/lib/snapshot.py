"""The group upload snapshot (kpi-catalog.md, "Group report interface").

`kpi_snapshot_<YYYYMMDD>.csv` and its `.chk` control file, written to temporary names and
renamed into place (data file first, control file last), so a reader never sees a partial
file under a final name and a present `.chk` always describes a complete data file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

# The rows last published, per KPI (data quality, docs/quality.md): when a source's blocking
# expectations fail, its KPIs are not published from that run and these rows stand in.
PUBLISHED_TABLE = "pub_kpi_snapshot"

SNAPSHOT_COLUMNS = (
    "period_type", "period_start", "kpi_code", "region_code",
    "numerator", "denominator", "value", "status",
)


@dataclass(frozen=True)
class SnapshotFiles:
    data: Path
    control: Path
    rows: int
    size_bytes: int
    sha256: str
    # source -> {"kpis": [...], "kept_rows": n, "kept_from_run": run id or None}
    withheld: dict = field(default_factory=dict)


def _replace_durably(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)


def snapshot_paths(exports: Path, report_date: date) -> tuple[Path, Path]:
    """The data and control file names for a report date (T - 1 day)."""
    data = exports / f"kpi_snapshot_{report_date:%Y%m%d}.csv"
    return data, data.with_suffix(".chk")


def _withheld_kpis(con: duckdb.DuckDBPyConnection, sources: Collection[str]) -> dict[str, list[str]]:
    if not sources:
        return {}
    rows = con.execute("select source_system, kpi_code from kpi_catalog where list_contains(?, source_system) "
                       "order by kpi_code", [sorted(sources)]).fetchall()
    out: dict[str, list[str]] = {s: [] for s in sorted(sources)}
    for source, kpi in rows:
        out[source].append(kpi)
    return out


def export_snapshot(con: duckdb.DuckDBPyConnection, exports: Path, withheld_sources: Collection[str] = (),
                    run_id: str | None = None) -> SnapshotFiles | None:
    """Write the snapshot for the warehouse's as-of time; None when no daily file is loaded.

    The KPIs of `withheld_sources` (their blocking expectations failed in this run) are not
    published from this run: their rows are the ones last published (PUBLISHED_TABLE), or
    absent when none ever were. With `run_id` (a read-write connection), the rows published
    here become the last published ones of their KPIs.
    """
    as_of = con.execute("select report_date from int_as_of").fetchone()
    if as_of is None:
        return None
    exports.mkdir(parents=True, exist_ok=True)
    data, control = snapshot_paths(exports, as_of[0])
    tmp_data = exports / f".{data.name}.tmp"
    cols = ", ".join(SNAPSHOT_COLUMNS)
    withheld = _withheld_kpis(con, withheld_sources)
    kpis = sorted(k for ks in withheld.values() for k in ks)
    if run_id is not None:
        con.execute(f"create table if not exists {PUBLISHED_TABLE} as select {cols}, "
                    "cast(null as varchar) as run_id from fct_kpi_snapshot limit 0")
    # KPI codes come from the catalog seed; quoted as SQL literals all the same.
    in_kpis = "kpi_code in (" + (", ".join("'" + k.replace("'", "''") + "'" for k in kpis) or "null") + ")"
    if kpis:
        kept = f"(select {cols} from {PUBLISHED_TABLE} where {in_kpis})" \
            if run_id is not None else f"(select {cols} from fct_kpi_snapshot limit 0)"
        source = f"(select {cols} from fct_kpi_snapshot where not coalesce({in_kpis}, false) union all {kept})"
    else:
        source = "fct_kpi_snapshot"
    # Plain byte order: DuckDB's default collation compares strings as bytes.
    con.execute(
        f"copy (select {cols} from {source} order by period_type, period_start, "
        f"kpi_code, region_code) to '{tmp_data}' (format csv, header true, delimiter ',', "
        "quote '\"', nullstr '')"
    )
    payload = tmp_data.read_bytes()
    rows = payload.count(b"\n") - 1
    digest = hashlib.sha256(payload).hexdigest()
    tmp_control = exports / f".{control.name}.tmp"
    tmp_control.write_text(f"{data.name},{rows},{len(payload)},{digest}\n", encoding="utf-8")
    _replace_durably(tmp_data, data)
    _replace_durably(tmp_control, control)
    report = {}
    if run_id is not None:
        for source_name, source_kpis in withheld.items():
            kept_rows, kept_from = con.execute(
                f"select count(*), max(run_id) from {PUBLISHED_TABLE} where list_contains(?, kpi_code)",
                [source_kpis or ["-"]]).fetchone()
            report[source_name] = {"kpis": source_kpis, "kept_rows": kept_rows, "kept_from_run": kept_from}
        con.execute("begin transaction")
        con.execute(f"delete from {PUBLISHED_TABLE} where not coalesce({in_kpis}, false)")
        con.execute(f"insert into {PUBLISHED_TABLE} select {cols}, $run from fct_kpi_snapshot "
                    f"where not coalesce({in_kpis}, false)", {"run": run_id})
        con.execute("commit")
    else:
        report = {s: {"kpis": k, "kept_rows": 0, "kept_from_run": None} for s, k in withheld.items()}
    return SnapshotFiles(data, control, rows, len(payload), digest, report)
