"""Landing: encodings, headers by name, record splitting, whole-file rejects, re-delivery.

Each test builds a tiny inbox by hand and loads it into a real DuckDB file.
"""

from __future__ import annotations

import os

import pytest

from dagster_project.lib.extracts import ENTITIES
from dagster_project.lib.ingest import load_inbox
from dagster_project.lib.warehouse import DELIVERIES_TABLE, FILES_TABLE, UNPARSED_TABLE, connect

from .qloop_cli import SAMPLE

TICKET_HEADER = "ticket_id,store_id,business_type,taken_at,called_at,service_end_at,abandoned_at,status,updated_at"
TICKET_ROW = "{id},S1,payment,2026-10-01 08:00:00,2026-10-01 08:15:00,2026-10-01 08:20:00,,served,2026-10-01 08:20:00"
COMPLAINT_HEADER = ("complaint_id,customer_id,city_code,channel,category,severity,summary,"
                    "created_at,closed_at,status,updated_at")


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def con(tmp_path):
    connection = connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


def write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def by_name(results):
    return {r.file_name: r for r in results}


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_gb18030_quoted_fields_with_commas_quotes_and_line_breaks(inbox, con):
    summary = '话费,多扣了"十元"\n请核实，谢谢'
    quoted = '"' + summary.replace('"', '""') + '"'
    text = (f"{COMPLAINT_HEADER}\r\n"
            f"C1,U1,NJ,hotline,billing,normal,{quoted},2026-10-01 08:00:00,,open,2026-10-01 08:00:00\r\n"
            "C2,U2,苏州,store,other,urgent,普通投诉,2026-10-01 09:00:00,,open,2026-10-01 09:00:00\r\n")
    write(inbox, "crm_complaint_20261001.csv", text, "gb18030")

    result = by_name(load_inbox(con, inbox, "run-1"))["crm_complaint_20261001.csv"]

    assert (result.outcome, result.rows_read, result.rows_landed, result.rows_unparsed) == ("loaded", 2, 2, 0)
    assert rows(con, "select complaint_id, city_code, summary, _line, _file_date::varchar "
                     "from raw_crm_complaint order by _line") == [
        ("C1", "NJ", summary, 2, "2026-10-01"),
        ("C2", "苏州", "普通投诉", 4, "2026-10-01"),  # C1 spans physical lines 2-3
    ]


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_carriage_return_without_a_line_feed_is_data_not_a_line_end(inbox, con, line_end):
    """Line ends are LF or CRLF (section 2): a lone CR, quoted or not, stays in its field
    and does not move the next record's line number; nor does a NUL or another control."""
    values = ["a\rb", '"x\ry"', "tail\r", "n\x00ul", '"q\x0br"']  # ASCII: read from disk
    text = TICKET_HEADER + line_end + "".join(
        TICKET_ROW.format(id=f"T{i}").replace("payment", value) + line_end
        for i, value in enumerate(values))
    write(inbox, "crm_queue_ticket_20261001.csv", text, "gb18030")

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.rows_landed, result.rows_unparsed) == (5, 0)
    assert rows(con, "select _line, business_type from raw_crm_queue_ticket order by _line") == [
        (2, "a\rb"), (3, "x\ry"), (4, "tail\r"), (5, "n\x00ul"), (6, "q\x0br")]


def test_columns_matched_by_name_in_any_order_and_unknown_columns_reported(inbox, con):
    write(inbox, "crm_queue_ticket_20261001.csv",
          "status,extra_col,ticket_id,store_id,business_type,taken_at,called_at,service_end_at,"
          "abandoned_at,updated_at\n"
          "served,zz,T1,S1,payment,2026-10-01 08:00:00,2026-10-01 08:15:00,,,2026-10-01 08:20:00\n")

    result = load_inbox(con, inbox, "run-1")[0]

    assert result.unknown_columns == ["extra_col"]
    assert rows(con, "select ticket_id, status, taken_at, service_end_at from raw_crm_queue_ticket") == [
        ("T1", "served", "2026-10-01 08:00:00", None)]


def test_bom_blank_lines_and_crlf(inbox, con):
    # U+FEFF encoded in GB18030 is the four bytes 84 31 95 33: a GB18030 BOM.
    text = "\ufeff" + TICKET_HEADER + "\r\n\r\n" + TICKET_ROW.format(id="T1") + "\r\n\n" + TICKET_ROW.format(id="T2") + "\n"
    write(inbox, "crm_queue_ticket_20261001.csv", text, "gb18030")

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.rows_read, result.rows_landed) == (2, 2)
    assert rows(con, "select ticket_id, _line, updated_at from raw_crm_queue_ticket order by 2") == [
        ("T1", 3, "2026-10-01 08:20:00"), ("T2", 5, "2026-10-01 08:20:00")]


def test_wrong_field_counts_and_truncated_last_line_are_rule_2_rejects(inbox, con):
    text = "\n".join([TICKET_HEADER, TICKET_ROW.format(id="T1"), TICKET_ROW.format(id="T2") + ",extra",
                      TICKET_ROW.format(id="T3"), "T4,S1,payment,2026-10-01 08:0"])  # no final newline
    write(inbox, "crm_queue_ticket_20261001.csv", text)

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.rows_read, result.rows_landed, result.rows_unparsed) == (4, 2, 2)
    assert rows(con, "select ticket_id from raw_crm_queue_ticket order by 1") == [("T1",), ("T3",)]
    assert rows(con, "select _line, reason from raw_unparsed_records order by 1") == [
        (3, "10 fields, header has 9"), (5, "4 fields, header has 9")]


def test_unterminated_quote_rejects_only_that_record(inbox, con):
    text = (f"{COMPLAINT_HEADER}\n"
            "C1,U1,NJ,store,other,normal,ok,2026-10-01 08:00:00,,open,2026-10-01 08:00:00\n"
            'C2,U1,NJ,store,other,normal,"never closed,2026-10-01 08:00:00,,open,2026-10-01 08:00:00\n')
    write(inbox, "crm_complaint_20261001.csv", text, "gb18030")

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.rows_landed, result.rows_unparsed) == (1, 1)
    assert rows(con, "select _line, reason from raw_unparsed_records") == [
        (3, "malformed quoting (unterminated or stray quote)")]


def test_quoted_empty_field_is_null_and_quoted_comma_kept(inbox, con):
    write(inbox, "crm_queue_ticket_20261001.csv",
          TICKET_HEADER + '\n"T1","S1","payment","2026-10-01 08:00:00","","","","waiting","a,b"\n')

    load_inbox(con, inbox, "run-1")

    assert rows(con, "select ticket_id, called_at, updated_at from raw_crm_queue_ticket") == [("T1", None, "a,b")]


@pytest.mark.parametrize("name, content, encoding, reason", [
    ("cc_call_20261001.csv", "", "utf-8", "zero-byte file"),
    ("crm_queue_ticket_20261001.csv", "ticket_id,store_id\nT1,S1\n", "utf-8",
     "missing required column(s): business_type, taken_at, called_at, service_end_at, "
     "abandoned_at, status, updated_at"),
    ("crm_queue_ticket_20261001.csv", TICKET_HEADER + ",status\n", "utf-8", "column named twice: status"),
    ("crm_complaint_20261001.csv", COMPLAINT_HEADER + "\nC1,U1,NJ,store,other,normal,中文,,,open,\n",
     "utf-8", "not in its declared encoding GB18030 (the file is UTF-8)"),
    ("net_speed_test_20261001.csv", "test_id,line_id,city_code,tested_at,method,subscribed_down_mbps,"
     "measured_down_mbps,measured_up_mbps\nX,L,南京,,probe,1,1,1\n", "gb18030",
     "not in its declared encoding UTF-8: invalid byte 0xc4 at offset 104"),  # header line (100 bytes) + "X,L,"
])
def test_unreadable_file_is_rejected_whole_with_its_reason(inbox, con, name, content, encoding, reason):
    write(inbox, name, content, encoding)

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.outcome, result.reason) == ("rejected", reason)
    assert rows(con, "select count(*) from raw_files") == [(0,)]
    assert rows(con, "select outcome, reason from raw_deliveries") == [("rejected", reason)]


def test_utf8_bom_is_dropped_from_the_first_column_name(inbox, con):
    write(inbox, "ref_city.csv", "\ufeffcity_code,city_name_zh,city_name_en\nNJ,南京,Nanjing\n")

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.outcome, result.rows_landed) == ("loaded", 1)


def test_header_only_file_counts_as_loaded(inbox, con):
    write(inbox, "cc_call_20261003.csv", "call_id,caller_id,city_code,arrived_at,ivr_exit_at,"
          "queue_entered_at,answered_at,ended_at,skill_group,agent_id,transferred\n")

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.outcome, result.rows_read) == ("loaded", 0)
    assert rows(con, "select kind, business_date::varchar, rows_read from raw_files") == [
        ("daily", "2026-10-03", 0)]


@pytest.mark.parametrize("name", [
    "notes.txt", "crm_queue_ticket_20261301.csv", "crm_subscriber_20261001.csv",
    "crm_queue_ticket_202610.csv", "crm_unknown_20261001.csv", "ref_city_20261001.csv",
])
def test_names_matching_no_pattern_are_ignored(inbox, con, name):
    write(inbox, name, TICKET_HEADER + "\n")

    result = load_inbox(con, inbox, "run-1")[0]

    assert result.outcome == "ignored"
    assert rows(con, "select count(*) from raw_files") == [(0,)]


def test_redelivery_replaces_the_earlier_file_completely(inbox, con):
    path = write(inbox, "crm_queue_ticket_20261001.csv",
                 "\n".join([TICKET_HEADER, TICKET_ROW.format(id="T1"), TICKET_ROW.format(id="T2"), "bad"]) + "\n")
    load_inbox(con, inbox, "run-1")
    write(inbox, path.name, "\n".join([TICKET_HEADER, TICKET_ROW.format(id="T9")]) + "\n")
    os.utime(path, ns=(1, 1))  # a different fingerprint even within one clock tick

    result = load_inbox(con, inbox, "run-2")[0]

    assert (result.outcome, result.rows_landed) == ("replaced", 1)
    assert rows(con, "select ticket_id from raw_crm_queue_ticket") == [("T9",)]
    assert rows(con, "select count(*) from raw_unparsed_records") == [(0,)]
    assert rows(con, "select rows_read from raw_files") == [(1,)]


def test_rejected_redelivery_keeps_the_earlier_delivery_in_force(inbox, con):
    path = write(inbox, "crm_queue_ticket_20261001.csv", TICKET_HEADER + "\n" + TICKET_ROW.format(id="T1") + "\n")
    load_inbox(con, inbox, "run-1")
    path.write_bytes(b"")

    result = load_inbox(con, inbox, "run-2")[0]

    assert (result.outcome, result.reason) == ("rejected", "zero-byte file")
    assert rows(con, "select ticket_id from raw_crm_queue_ticket") == [("T1",)]
    assert rows(con, "select file_name from raw_files") == [(path.name,)]


def test_loading_the_same_inbox_twice_changes_nothing(inbox, con):
    write(inbox, "crm_queue_ticket_20261001.csv", TICKET_HEADER + "\n" + TICKET_ROW.format(id="T1") + "\n")
    write(inbox, "cc_call_20261001.csv", "")
    load_inbox(con, inbox, "run-1")
    before = rows(con, "select * from raw_crm_queue_ticket"), rows(con, "select * from raw_deliveries")

    results = load_inbox(con, inbox, "run-2")

    assert sorted(r.outcome for r in results) == ["rejected", "unchanged"]
    assert (rows(con, "select * from raw_crm_queue_ticket"), rows(con, "select * from raw_deliveries")) == before


def test_touched_file_with_same_content_is_not_reloaded(inbox, con):
    path = write(inbox, "crm_queue_ticket_20261001.csv", TICKET_HEADER + "\n" + TICKET_ROW.format(id="T1") + "\n")
    load_inbox(con, inbox, "run-1")
    os.utime(path, ns=(5, 5))

    result = load_inbox(con, inbox, "run-2")[0]

    assert result.outcome == "unchanged"
    assert rows(con, "select mtime_ns, run_id from raw_files") == [(5, "run-1")]


def test_monthly_and_reference_files_land_with_their_dates(inbox, con):
    write(inbox, "crm_subscriber_202610.csv", "month,city_code,product,active_subscribers\n2026-10,NJ,mobile,100\n",
          "gb18030")
    write(inbox, "ref_city.csv", "city_code,city_name_zh,city_name_en\nNJ,南京,Nanjing\n")

    load_inbox(con, inbox, "run-1")

    assert rows(con, "select kind, business_date::varchar from raw_files order by 1") == [
        ("monthly", "2026-10-01"), ("reference", None)]
    assert rows(con, "select city_name_zh, _file_date from raw_ref_city") == [("南京", None)]


def test_late_file_for_an_earlier_date_is_picked_up(inbox, con):
    write(inbox, "crm_queue_ticket_20261003.csv", TICKET_HEADER + "\n" + TICKET_ROW.format(id="T3") + "\n")
    load_inbox(con, inbox, "run-1")
    write(inbox, "crm_queue_ticket_20261001.csv", TICKET_HEADER + "\n" + TICKET_ROW.format(id="T1") + "\n")

    results = by_name(load_inbox(con, inbox, "run-2"))

    assert results["crm_queue_ticket_20261001.csv"].outcome == "loaded"
    assert rows(con, "select ticket_id, _file_date::varchar from raw_crm_queue_ticket order by 1") == [
        ("T1", "2026-10-01"), ("T3", "2026-10-03")]


def test_line_numbers_stay_exact_in_a_large_file_read_in_parallel(inbox, con):
    # ~25 MB, read by DuckDB's parallel reader: every landed record must carry its own line.
    lines = [TICKET_HEADER]
    for n in range(2, 200_002):
        if n % 50_000 == 0:
            lines.append("")  # a blank line
        elif n % 70_001 == 0:
            lines.append(f"L{n},short")  # a record of the wrong width
        else:
            lines.append(TICKET_ROW.format(id=f"L{n}"))
    write(inbox, "crm_queue_ticket_20261001.csv", "\n".join(lines) + "\n")

    result = load_inbox(con, inbox, "run-1")[0]

    assert (result.rows_read, result.rows_unparsed) == (200_000 - 4, 2)
    assert rows(con, "select count(*) from raw_crm_queue_ticket where ticket_id <> 'L' || _line") == [(0,)]
    assert rows(con, "select _line from raw_unparsed_records order by 1") == [(70_001,), (140_002,)]


def test_files_landed_two_at_a_time_land_exactly_what_one_at_a_time_does(tmp_path):
    # The committed sample: every entity, GB18030 CRM, planted faults (unparsed records,
    # whole-file rejects). Landed with one worker and with two, the landing tables and
    # what became of each file must be the same.
    def landed(workers):
        con = connect(tmp_path / f"warehouse-{workers}.duckdb")
        try:
            results = load_inbox(con, SAMPLE, "run-1", workers=workers)
            tables = {  # all but the landing's clock
                FILES_TABLE: rows(con, f"select * exclude (loaded_at) from {FILES_TABLE} order by all"),
                DELIVERIES_TABLE: rows(con, f"select * exclude (seen_at) from {DELIVERIES_TABLE} order by all"),
            }
            for table in [UNPARSED_TABLE] + [e.table for e in ENTITIES]:
                tables[table] = rows(con, f"select * from {table} order by all")
            outcomes = [(r.file_name, r.outcome, r.reason, r.rows_landed, r.rows_unparsed) for r in results]
            return outcomes, tables
        finally:
            con.close()

    one_outcomes, one_tables = landed(1)
    two_outcomes, two_tables = landed(2)

    assert {o for _, o, *_ in one_outcomes} >= {"loaded", "rejected"}
    assert sum(len(t) for t in one_tables.values()) > 40_000
    assert one_tables[UNPARSED_TABLE]
    assert two_outcomes == one_outcomes
    for table, content in one_tables.items():
        assert two_tables[table] == content, table


@pytest.mark.parametrize("name, declares", [
    ("cc_call_20261005.csv", ("cc_call", "2026-10-05")),
    ("crm_subscriber_202609.csv", ("crm_subscriber", "2026-09-01")),
    ("ref_city.csv", ("ref_city", None)),
    ("cc_call_２０２６１００５.csv", None),  # full-width digits are not the spec's YYYYMMDD
    ("cc_call_20260229.csv", None),  # not a day of 2026
    ("cc_call_00000105.csv", None),  # no year 0000
    ("crm_subscriber_20260901.csv", None),  # a monthly entity with a daily name
    ("cc_call_2026100.csv", None),
    ("CC_CALL_20261005.csv", None),
])
def test_file_names_are_matched_strictly(name, declares):
    from dagster_project.lib.extracts import match_file_name

    matched = match_file_name(name)
    got = (matched.entity.prefix, matched.business_date and matched.business_date.isoformat()
           ) if matched else None
    assert got == declares
