"""Land the inbox's extract files in the warehouse, one file = one transaction.

What happens to a file (source-extracts.md, sections 1, 2 and 6):
- a name that matches no pattern is ignored (reported);
- a file that cannot be read as a whole (zero bytes, wrong encoding, missing or doubled
  required column) is rejected with its reason and replaces nothing;
- otherwise its records land as text in `raw_<entity>` with their physical start line,
  replacing every row of an earlier delivery of the same name; records that cannot be
  split into the header's fields go to `raw_unparsed_records` (rule 2).
The other acceptance rules, de-duplication and the KPIs are SQL in dbt, over all landed
files, so that a new reference file re-judges old rows (rule 4) and nothing is lost.

Splitting records and fields is pushed into DuckDB: it reads the file's lines itself (or,
for a file that had to be transcoded, takes the text as one value), numbers them, glues
quoted records spanning lines back together by quote parity, and splits fields with
`string_split` (or an RFC 4180 regex when a record has quotes). Python only decodes, checks
the header and hashes; no Python loop touches the rows.

Two files land at a time, each in its own transaction on its own cursor: writing a
landing table keeps DuckDB at about 1.4 of the 2 cores, and the next file's reading,
hashing and GB18030 decoding (Python) overlaps the other's insert. Different file names
never share rows, so the transactions never conflict.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from .extracts import FILE_COLUMN, FILE_DATE_COLUMN, LINE_COLUMN, InboxFile, match_file_name
from .warehouse import DELIVERIES_TABLE, FILES_TABLE, UNPARSED_TABLE, ensure_schema

LOADED, REPLACED, UNCHANGED, REJECTED, IGNORED, FAILED = (
    "loaded", "replaced", "unchanged", "rejected", "ignored", "failed",
)
# Longest raw record text kept with an unparsed-record reject (the rest is cut).
RAW_RECORD_KEEP = 2000
# Files landed at the same time (module docstring). More than two only contend on 2 cores.
LANDING_WORKERS = 2


@dataclass
class FileResult:
    file_name: str
    outcome: str
    entity: str | None = None
    reason: str | None = None
    rows_read: int = 0
    rows_landed: int = 0
    rows_unparsed: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    seconds_decode: float = 0.0  # reading, hashing and decoding (GB18030 transcoding)
    seconds_land: float = 0.0  # splitting and inserting in DuckDB
    # when reading the file began and its transaction ended (epoch seconds), for the
    # benchmark's wall time of the landing: files land LANDING_WORKERS at a time
    started_at: float | None = None
    ended_at: float | None = None


@dataclass(frozen=True)
class Backfill:
    """A backfill: the inbox files of these business dates are read and landed again even
    when unchanged (a daily file by its date, a monthly file when its month overlaps).
    Re-landed files count as new deliveries downstream, so their rows are judged and
    de-duplicated again. Reference files have no date and are not re-read."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError(f"backfill from {self.first} to {self.last}: the range is empty")

    def covers(self, inbox_file: InboxFile) -> bool:
        day = inbox_file.business_date
        if day is None:
            return False
        if inbox_file.entity.kind == "monthly":
            month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            return day <= self.last and month_end >= self.first
        return self.first <= day <= self.last


class FileRejected(Exception):
    """The file cannot be used as a whole; the message is the reason given to upstream."""


def decode(data: bytes, encoding: str) -> str:
    """Decode a delivery strictly in its declared encoding, dropping a BOM."""
    if not data:
        raise FileRejected("zero-byte file")
    if encoding == "gb18030" and not data.isascii():
        # GB18030 decodes almost any byte string, so a UTF-8 file would slip through as
        # mojibake. Non-ASCII text that is valid UTF-8 is, in practice, never GB18030.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise FileRejected("not in its declared encoding GB18030 (the file is UTF-8)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        raise FileRejected(
            f"not in its declared encoding {encoding.upper()}: "
            f"invalid byte 0x{data[err.start]:02x} at offset {err.start}"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def parse_header(text: str, required: tuple[str, ...]) -> tuple[dict[str, int], list[str]]:
    """Map each required column to its position; return it and the unknown extra columns."""
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise FileRejected("no header line")
    names = next(csv.reader([first_line]))
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise FileRejected(f"column named twice: {', '.join(doubled)}")
    missing = [c for c in required if c not in names]
    if missing:
        raise FileRejected(f"missing required column(s): {', '.join(missing)}")
    positions = {name: i for i, name in enumerate(names)}
    return {c: positions[c] for c in required}, [n for n in names if n not in required]


def _lines_sql(path: Path | None, has_cr: bool) -> str:
    """SQL for (line_no, line) of every physical line after the header, blank ones included.

    From disk, DuckDB's parallel CSV reader reads whole lines (the "delimiter" is the unit
    separator 0x1F, which text files do not contain; no quoting) and WITH ORDINALITY numbers
    them in file order. Text that had to be transcoded first is
    passed in as one value and split with generate_subscripts. A trailing carriage return
    is cut only when the file has one (the test over every line is not free); only one, the
    CR of a CRLF line end: another before it is data.
    """
    line = ("case when suffix(line, chr(13)) then line[:-2] else coalesce(line, '') end"
            if has_cr else "coalesce(line, '')")
    if path is not None:
        literal = "'" + str(path).replace("'", "''") + "'"
        return f"""
        lines as (
            select ordinality + 1 as line_no, {line} as line
            from read_csv({literal}, columns = {{'line': 'VARCHAR'}}, delim = chr(31), quote = '',
                          escape = '', header = false, skip = 1, auto_detect = false,
                          strict_mode = false) with ordinality
        )"""
    return f"""
        lines as (
            select line_no, {line} as line from (
                select generate_subscripts(l, 1) as line_no, unnest(l) as line
                from (select string_split($text::varchar, chr(10)) as l)
            ) where line_no > 1
        )"""


def _records_sql(has_quotes: bool) -> str:
    """SQL for (line_no, record): lines glued into records (a record starts on its line)."""
    if not has_quotes:
        return """
        records as (select line_no, line as record from lines)"""
    # A line starts a record unless it follows an odd number of quotes (an open quoted
    # field). RFC 4180 doubles quotes inside quoted fields, so parity is exact.
    return """
        parity as (
            select line_no, line,
                coalesce(sum(length(line) - length(replace(line, '"', ''))) over (
                    order by line_no rows between unbounded preceding and 1 preceding
                ), 0) % 2 = 1 as continues
            from lines
        ),
        numbered as (
            select line_no, line, sum(case when continues then 0 else 1 end)
                over (order by line_no rows unbounded preceding) as record_no
            from parity
        ),
        records as (
            select min(line_no) as line_no, string_agg(line, chr(10) order by line_no) as record
            from numbered group by record_no
        )"""


def _split_sql(has_quotes: bool) -> str:
    """The non-blank records to keep in the temp table `_parsed`.

    Without quotes only (line_no, record) is kept (cheap) and `_fields_sql` splits the
    fields while inserting; with quotes the regex split and its well-formedness are kept.
    """
    if not has_quotes:
        return """
        select line_no, record from records where record <> ''"""
    return """
        select line_no, record,
            -- a quoted record is well-formed only when its tokens rebuild it exactly
            (not contains(record, '"') or array_to_string(tokens, ',') = record) as well_formed,
            list_transform(tokens, lambda t:
                case when starts_with(t, '"') then replace(t[2:-2], '""', '"') else t end) as fields
        from (
            select line_no, record,
                case when contains(record, '"')
                    then regexp_extract_all(record || ',', '("(?:[^"]|"")*"|[^,"]*),', 1)
                    else string_split(record, ',')
                end as tokens
            from records where record <> ''
        )"""


def _fields_sql(has_quotes: bool) -> str:
    """(line_no, record, well_formed, fields) over `_parsed`."""
    if has_quotes:
        return "_parsed"
    return "(select line_no, record, true as well_formed, string_split(record, ',') as fields from _parsed)"


def land_file(con: duckdb.DuckDBPyConnection, inbox_file: InboxFile, text: str,
              positions: dict[str, int], header_width: int,
              readable_path: Path | None = None, replacing: bool = True) -> tuple[int, int, int]:
    """Replace the file's rows in the landing tables; return (read, landed, unparsed).

    `readable_path`: the file itself, when DuckDB can read its bytes as they are (UTF-8
    without the delimiter byte); otherwise the decoded `text` is used. `replacing`: an
    earlier delivery of the same name may have rows to remove (a scan of the whole table,
    skipped for a new file name).
    """
    entity = inbox_file.entity
    has_quotes = '"' in text
    con.execute(
        f"create or replace temp table _parsed as with {_lines_sql(readable_path, chr(13) in text)}, "
        f"{_records_sql(has_quotes)} {_split_sql(has_quotes)}",
        {} if readable_path is not None else {"text": text},
    )
    params = {"file": inbox_file.name, "file_date": inbox_file.business_date}
    # An empty field, quoted or not, is NULL (source-extracts.md section 2).
    select_cols = ", ".join(f"nullif(fields[{positions[c] + 1}], '')" for c in entity.column_names)
    col_list = ", ".join(f'"{c}"' for c in entity.column_names)
    fits = f"well_formed and len(fields) = {header_width}"
    if replacing:
        con.execute(f"delete from {entity.table} where {FILE_COLUMN} = $file", {"file": inbox_file.name})
        con.execute(f"delete from {UNPARSED_TABLE} where {FILE_COLUMN} = $file", {"file": inbox_file.name})
    landed = con.execute(
        f"insert into {entity.table} ({col_list}, {FILE_COLUMN}, {FILE_DATE_COLUMN}, {LINE_COLUMN}) "
        f"select {select_cols}, $file, $file_date, line_no from {_fields_sql(has_quotes)} where {fits}",
        params,
    ).fetchone()[0]
    unparsed = con.execute(
        f"insert into {UNPARSED_TABLE} select '{entity.prefix}', $file, $file_date, line_no, "
        f"left(record, {RAW_RECORD_KEEP}), "
        f"case when not well_formed then 'malformed quoting (unterminated or stray quote)' "
        f"else len(fields) || ' fields, header has {header_width}' end "
        f"from {_fields_sql(has_quotes)} where not ({fits})",
        params,
    ).fetchone()[0]
    con.execute("drop table _parsed")
    return landed + unparsed, landed, unparsed


def _known_deliveries(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict]:
    in_force = {
        r[0]: (r[1], r[2], r[3])
        for r in con.execute(f"select file_name, size_bytes, mtime_ns, sha256 from {FILES_TABLE}").fetchall()
    }
    # The latest rejection of each name, so an unchanged bad file is not re-read every run.
    rejected = {
        r[0]: (r[1], r[2], r[3])
        for r in con.execute(
            f"select file_name, size_bytes, mtime_ns, reason from {DELIVERIES_TABLE} "
            "qualify row_number() over (partition by file_name order by seen_at desc, rowid desc) = 1 "
            f"and outcome = '{REJECTED}'"
        ).fetchall()
    }
    return in_force, rejected


def load_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, run_id: str,
               backfill: Backfill | None = None, workers: int = LANDING_WORKERS,
               progress: Callable[[int, int], object] | None = None) -> list[FileResult]:
    """Land every new or re-delivered file of the inbox (and, in a backfill, every file of
    its dates); return what became of each file, in file name order. `progress(done, total)`
    is called as files are done, in that order."""
    ensure_schema(con)
    in_force, rejected = _known_deliveries(con)

    def load(path: Path) -> FileResult:
        cursor = con.cursor()  # a connection of its own: its own transaction and temp tables
        try:
            return _load_one(cursor, path, run_id, in_force, rejected, backfill)
        finally:
            cursor.close()

    paths = sorted(p for p in inbox.iterdir() if p.is_file())
    results: list[FileResult] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="landing") as pool:
        for result in pool.map(load, paths):
            results.append(result)
            if progress is not None:
                progress(len(results), len(paths))
    return results


def _load_one(con, path: Path, run_id: str, in_force: dict, rejected: dict,
              backfill: Backfill | None = None) -> FileResult:
    name = path.name
    inbox_file = match_file_name(name)
    if inbox_file is None:
        return FileResult(name, IGNORED, reason="file name matches no pattern of the spec")
    entity = inbox_file.entity
    stat = path.stat()
    fingerprint = (stat.st_size, stat.st_mtime_ns)
    forced = backfill is not None and backfill.covers(inbox_file)
    if not forced and name in in_force and in_force[name][:2] == fingerprint:
        return FileResult(name, UNCHANGED, entity.prefix)
    if not forced and name in rejected and rejected[name][:2] == fingerprint:
        return FileResult(name, REJECTED, entity.prefix, reason=rejected[name][2])

    started_at = time.time()
    started = time.perf_counter()
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    now = datetime.now()

    def log(outcome: str, reason: str | None = None) -> None:
        con.execute(
            f"insert into {DELIVERIES_TABLE} (run_id, seen_at, file_name, entity, business_date, "
            "size_bytes, mtime_ns, sha256, outcome, reason) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, now, name, entity.prefix, inbox_file.business_date, stat.st_size,
             stat.st_mtime_ns, sha256, outcome, reason],
        )

    if not forced and name in in_force and in_force[name][2] == sha256:
        # Same content delivered again (only touched): nothing to reload.
        con.execute(f"update {FILES_TABLE} set mtime_ns = ? where file_name = ?", [stat.st_mtime_ns, name])
        return FileResult(name, UNCHANGED, entity.prefix)
    try:
        text = decode(data, entity.encoding)
        positions, unknown = parse_header(text, entity.column_names)
    except FileRejected as err:
        log(REJECTED, str(err))
        return FileResult(name, REJECTED, entity.prefix, reason=str(err))

    outcome = REPLACED if name in in_force else LOADED
    decoded = time.perf_counter()
    header_width = len(positions) + len(unknown)
    con.execute("begin transaction")
    try:
        # DuckDB reads the file itself when its bytes are the text (UTF-8, or ASCII CRM)
        # and its lines are what DuckDB's reader takes for lines: it also ends one at a
        # carriage return that no line feed follows, which the spec counts as data.
        readable = ((entity.encoding == "utf-8" or data.isascii()) and b"\x1f" not in data
                    and data.count(b"\r") == data.count(b"\r\n"))
        read, landed, unparsed = land_file(con, inbox_file, text, positions, header_width,
                                           path if readable else None, replacing=name in in_force)
        con.execute(f"delete from {FILES_TABLE} where file_name = ?", [name])
        con.execute(
            f"insert into {FILES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, entity.prefix, entity.kind, inbox_file.business_date, stat.st_size,
             stat.st_mtime_ns, sha256, read, landed, unparsed, ",".join(unknown) or None, now, run_id],
        )
        log(outcome, f"unknown column(s) ignored: {', '.join(unknown)}" if unknown else None)
        con.execute("commit")
    except duckdb.Error as err:
        # Not the file's fault as far as we know: logged as failed (retried next run).
        con.execute("rollback")
        reason = f"could not be loaded: {err}".splitlines()[0]
        log(FAILED, reason)
        return FileResult(name, FAILED, entity.prefix, reason=reason)
    return FileResult(name, outcome, entity.prefix, rows_read=read, rows_landed=landed,
                      rows_unparsed=unparsed, unknown_columns=unknown,
                      seconds_decode=decoded - started, seconds_land=time.perf_counter() - decoded,
                      started_at=started_at, ended_at=time.time())

