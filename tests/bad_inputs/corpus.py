"""The bad-input corpus: every fault of source-extracts.md section 5, built from the sample
generator into a temporary folder (nothing large is committed).

`base_inbox(dir)` is a clean 22-day inbox (2026-09-22 .. 10-13, sample scale) without two
files: net_speed_test_20261006.csv (a day missing) and crm_subscriber_202609.csv (the
month's denominator not there yet). `add_faults(inbox)` then turns it into the second
delivery: the two withheld files arrive (late), and one file per fault is delivered again
with that fault. Each fault touches its own file, so they do not interfere; FAULTS says
where each one is and what the run must report.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tools.sample_data import generate

START, DAYS = date(2026, 9, 22), 22
HELD_BACK = ("net_speed_test_20261006.csv", "crm_subscriber_202609.csv")


@dataclass(frozen=True)
class Fault:
    fault: str  # the words of section 5
    file: str
    expect: str  # what the run must do with it


FAULTS = [
    Fault("missing required column", "billing_refund_20260925.csv",
          "file rejected as a whole (missing required column(s): updated_at); the earlier delivery stays"),
    Fault("zero-byte file", "crm_survey_20260926.csv",
          "file rejected as a whole (zero-byte file); the earlier delivery stays"),
    Fault("header-only file", "billing_dispute_20260927.csv",
          "loaded with no records (replaces the earlier delivery, as a delivery does); warning"),
    Fault("file not in its declared encoding", "crm_complaint_20260928.csv",
          "file rejected as a whole (not in its declared encoding GB18030); the earlier delivery stays"),
    Fault("truncated last line", "cc_call_20260929.csv", "the last record rejected, rule 2, with its line"),
    Fault("unknown enum", "crm_queue_ticket_20260930.csv", "two records rejected, rule 3 (status 'Served')"),
    Fault("unknown city", "crm_complaint_20261001.csv", "one record rejected, rule 4 (city_code 'SH')"),
    Fault("clock skew", "fo_work_order_20261002.csv", "one record rejected, rule 5 (arrived_at before created_at)"),
    Fault("duplicates", "cc_call_20261003.csv",
          "two exact duplicates in the file and one of cc_call_20261002.csv: accepted, de-duplicated, KPIs unchanged"),
    Fault("re-delivery with corrections", "net_speed_test_20261004.csv",
          "replaces the earlier delivery: rows in force = the new file's, no double count"),
    Fault("a day missing", "net_speed_test_20261006.csv", "missing in run 1 (freshness warning); late in run 2"),
    Fault("monthly files late", "crm_subscriber_202609.csv", "missing month in run 1; late in run 2"),
    Fault("broken extraction (volume drop)", "cc_call_20261010.csv",
          "re-delivered with 30 % of its records: blocking; call_center KPIs not published, last good kept"),
]
BY_FAULT = {f.fault: f for f in FAULTS}


def base_inbox(inbox: Path, later: Path) -> None:
    generate(inbox, start=START, days=DAYS, faults=False)
    later.mkdir(parents=True, exist_ok=True)
    for name in HELD_BACK:
        shutil.move(str(inbox / name), str(later / name))


def encoding_of(name: str) -> str:
    return "gb18030" if name.startswith("crm_") else "utf-8"


def read_records(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode(encoding_of(path.name)).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def write_records(path: Path, header: list[str], rows: list[list[str]], encoding: str | None = None) -> list[int]:
    """Write an RFC 4180 file; return the physical start line of every record (header = 1)."""
    out, starts, line = io.StringIO(), [], 2
    csv.writer(out, lineterminator="\n").writerow(header)
    for row in rows:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        starts.append(line)
        line += buf.getvalue().count("\n")
        out.write(buf.getvalue())
    path.write_bytes(out.getvalue().encode(encoding or encoding_of(path.name)))
    return starts


def add_faults(inbox: Path, later: Path) -> dict:
    """Deliver the second batch into `inbox`; return the expected line numbers per fault."""
    expected: dict = {}
    for name in HELD_BACK:
        shutil.move(str(later / name), str(inbox / name))

    p = inbox / BY_FAULT["missing required column"].file
    header, rows = read_records(p)
    i = header.index("updated_at")
    write_records(p, header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows])

    (inbox / BY_FAULT["zero-byte file"].file).write_bytes(b"")

    p = inbox / BY_FAULT["header-only file"].file
    write_records(p, read_records(p)[0], [])

    p = inbox / BY_FAULT["file not in its declared encoding"].file
    header, rows = read_records(p)
    write_records(p, header, rows, encoding="utf-8")

    p = inbox / BY_FAULT["truncated last line"].file
    text = p.read_text(encoding="utf-8").rstrip("\n")
    last_start = text.rfind("\n") + 1
    expected["truncated_line"] = text.count("\n") + 1
    p.write_text(text[:last_start + (len(text) - last_start) // 2], encoding="utf-8")

    p = inbox / BY_FAULT["unknown enum"].file
    header, rows = read_records(p)
    s = header.index("status")
    picked = [i for i, r in enumerate(rows) if r[s] == "served"][:2]
    for i in picked:
        rows[i][s] = "Served"
    starts = write_records(p, header, rows)
    expected["enum_lines"] = [starts[i] for i in picked]

    p = inbox / BY_FAULT["unknown city"].file
    header, rows = read_records(p)
    rows[0][header.index("city_code")] = "SH"
    expected["city_line"] = write_records(p, header, rows)[0]

    p = inbox / BY_FAULT["clock skew"].file
    header, rows = read_records(p)
    a, c = header.index("arrived_at"), header.index("created_at")
    i = next(i for i, r in enumerate(rows) if r[a])
    rows[i][a] = rows[i][c].replace(rows[i][c][:4], str(int(rows[i][c][:4]) - 1), 1)  # a year earlier
    expected["skew_line"] = write_records(p, header, rows)[i]

    p = inbox / BY_FAULT["duplicates"].file
    header, rows = read_records(p)
    _, previous = read_records(inbox / "cc_call_20261002.csv")
    expected["duplicate_rows"] = len(rows) + 3
    write_records(p, header, rows[:1] + rows[:1] + rows[1:2] + rows[1:] + previous[:1])

    p = inbox / BY_FAULT["re-delivery with corrections"].file
    header, rows = read_records(p)
    m = header.index("measured_down_mbps")
    for r in rows[:5]:
        r[m] = "0.5"  # corrected: these lines were in fact far below their rate
    expected["corrected_rows"] = len(rows)
    expected["corrected_ids"] = [r[header.index("test_id")] for r in rows[:5]]
    write_records(p, header, rows)

    p = inbox / BY_FAULT["broken extraction (volume drop)"].file
    header, rows = read_records(p)
    expected["broken_rows"] = len(rows) * 3 // 10
    write_records(p, header, rows[:expected["broken_rows"]])
    return expected
