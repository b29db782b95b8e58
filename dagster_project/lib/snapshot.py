"""The group upload snapshot (kpi-catalog.md, "Group report interface").

`kpi_snapshot_<YYYYMMDD>.csv` and its `.chk` control file, written to temporary names and
renamed into place (data file first, control file last), so a reader never sees a partial
file under a final name and a present `.chk` always describes a complete data file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

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


def _replace_durably(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, final)


def snapshot_paths(exports: Path, report_date: date) -> tuple[Path, Path]:
    """The data and control file names for a report date (T - 1 day)."""
    data = exports / f"kpi_snapshot_{report_date:%Y%m%d}.csv"
    return data, data.with_suffix(".chk")


def export_snapshot(con: duckdb.DuckDBPyConnection, exports: Path) -> SnapshotFiles | None:
    """Write the snapshot for the warehouse's as-of time; None when no daily file is loaded."""
    as_of = con.execute("select report_date from int_as_of").fetchone()
    if as_of is None:
        return None
    exports.mkdir(parents=True, exist_ok=True)
    data, control = snapshot_paths(exports, as_of[0])
    tmp_data = exports / f".{data.name}.tmp"
    cols = ", ".join(SNAPSHOT_COLUMNS)
    # Plain byte order: DuckDB's default collation compares strings as bytes.
    con.execute(
        f"copy (select {cols} from fct_kpi_snapshot order by period_type, period_start, "
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
    return SnapshotFiles(data, control, rows, len(payload), digest)
