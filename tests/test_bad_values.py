"""No value in an extract can fail a run (property-based, through the real `qloop run`).

Hypothesis writes, into a clean 3-day inbox, extra records that are copies of accepted ones
with a new key and one typed or enumerated field replaced by a text of its grammar: a real
value, a near miss (year 0000, 2026-02-29, 24:00:00, a full-width digit, a 15-digit
decimal) or any text at all, several per column of every daily and monthly entity. Then:

- the run completes (exit 0, a snapshot, the board's copy published, no traceback);
- each such record is accepted with the value the spec gives its text (tests/spec_values.py),
  or rejected with a reason: rule 2 naming the column exactly when its text does not parse,
  rule 3 for an enum outside the list;
- every record of the clean inbox keeps its verdict and its values, and every entity keeps
  its versions of the clean keys.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dagster_project.lib.extracts import DATE, DECIMAL, ENTITIES, ENUM, INTEGER, MONTH, TIMESTAMP
from tools.sample_data import generate
from dagster_project.lib.warehouse import connect

from . import spec_values
from .bad_inputs.corpus import encoding_of, read_records
from .qloop_cli import qloop_run

START, DAYS = date(2026, 9, 28), 3  # September ends inside: its monthly files come too
TYPED = {TIMESTAMP: "timestamp", DATE: "date", MONTH: "month", INTEGER: "integer",
         DECIMAL: "decimal"}
FUZZED = [(entity, column, kind) for entity in ENTITIES if entity.kind != "reference"
          for column, kind in entity.columns if kind in TYPED or kind == ENUM]
PER_COLUMN = 8
STAGING = {"crm_queue_ticket": "stg_crm__queue_tickets", "crm_complaint": "stg_crm__complaints",
           "crm_survey": "stg_crm__surveys", "crm_subscriber": "stg_crm__subscribers",
           "billing_dispute": "stg_billing__disputes", "billing_refund": "stg_billing__refunds",
           "billing_bill_run": "stg_billing__bill_runs", "cc_call": "stg_cc__calls",
           "fo_work_order": "stg_fo__work_orders", "net_speed_test": "stg_net__speed_tests"}
ENTITY_MODEL = {"crm_queue_ticket": "int_queue_tickets", "crm_complaint": "int_complaints",
                "crm_survey": "int_surveys", "crm_subscriber": "int_subscribers",
                "billing_dispute": "int_disputes", "billing_refund": "int_refunds",
                "billing_bill_run": "int_bill_runs", "cc_call": "int_calls",
                "fo_work_order": "int_work_orders", "net_speed_test": "int_speed_tests"}


def physical_lines(text: str) -> int:
    return text.count("\n")


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The clean inbox and the home of its run."""
    root = tmp_path_factory.mktemp("bad-values")
    inbox, home = root / "inbox", root / "home"
    generate(inbox, start=START, days=DAYS, faults=False)
    result = qloop_run(inbox, home)
    assert result.returncode == 0, result.stdout + result.stderr
    return inbox, home


def texts_for(kind: str, is_key: bool) -> st.SearchStrategy[str]:
    if is_key and kind == MONTH:  # never a clean record's month: that record's key is not fuzzed
        return spec_values.texts("month").filter(
            lambda text: (spec_values.parse_month(text) or date.min).year < 2000)
    if kind == ENUM:  # a listed value, one in the wrong case, one not listed, any text
        return st.one_of(st.sampled_from(["", "open", "Open", "OPEN", "served", "hotline", "day",
                                          "wifi_app", "urban ", "install"]), st.text(max_size=12))
    return spec_values.texts(TYPED[kind])


# The Hypothesis strategy: for every fuzzed column, PER_COLUMN texts.
fuzz_values = st.fixed_dictionaries({
    (entity.prefix, column): st.lists(texts_for(kind, column in entity.key), min_size=PER_COLUMN, max_size=PER_COLUMN)
    for entity, column, kind in FUZZED})


def plant(inbox: Path, values: dict) -> list[dict]:
    """Append the fuzzed records to the first file of each entity that has records; return
    what was planted (file, line, column, kind, text)."""
    planted = []
    for entity in ENTITIES:
        if entity.kind == "reference":
            continue
        path = next(p for p in sorted(inbox.glob(f"{entity.prefix}_*.csv")) if read_records(p)[1])
        header, rows = read_records(path)
        template = rows[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        line = physical_lines(out.getvalue()) + 1
        for (prefix, column), texts in values.items():
            if prefix != entity.prefix:
                continue
            kind = dict(entity.columns)[column]
            for n, text in enumerate(texts):
                row = list(template)
                for key in entity.key:  # a key no clean record has, unless it is what is fuzzed
                    if key == column:
                        continue
                    if dict(entity.columns)[key] == MONTH:
                        row[header.index(key)] = f"{1900 + len(planted):04d}-01"
                    elif dict(entity.columns)[key] != ENUM:
                        row[header.index(key)] = f"{row[header.index(key)]}-fz-{column}-{n}"
                row[header.index(column)] = text
                record = io.StringIO()
                csv.writer(record, lineterminator="\n").writerow(row)
                planted.append({"file": path.name, "line": line, "entity": entity.prefix,
                                "column": column, "kind": kind, "text": text})
                line += physical_lines(record.getvalue())
                out.write(record.getvalue())
        path.write_bytes(out.getvalue().encode(encoding_of(path.name)))
    return planted


def columns_of(con, table: str, *left_out: str) -> str:
    """The table's columns, without those that say when a row was built (they differ
    between the two homes by design) and `left_out`."""
    names = [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = ? "
        "order by ordinal_position", [table]).fetchall()]
    return ", ".join(f'"{n}"' for n in names
                     if n not in ("_loaded_through", "_withdrawn", *left_out))


def staged(con, entity: str, where: str = "true") -> dict:
    """(file, line) -> the staging row, for the entity's rows that match `where`."""
    cursor = con.execute(f"select {columns_of(con, STAGING[entity], 'raw_values')} "
                         f"from {STAGING[entity]} where {where}")
    names = [d[0] for d in cursor.description]
    return {(r["_file"], r["_line"]): r for r in (dict(zip(names, row)) for row in cursor.fetchall())}


def check_planted(con, record: dict) -> None:
    row = staged(con, record["entity"], f"_file = '{record['file']}' and _line = {record['line']}")
    assert len(row) == 1, record
    row = next(iter(row.values()))
    text, column = record["text"], record["column"]
    rule, reason = row["reject_rule"], row["reject_reason"] or ""
    if record["kind"] == ENUM:
        # a listed value is accepted by rule 3 (later rules may still reject the record)
        if rule == 3:
            assert reason.startswith(f"{column}:"), (record, reason)
        return
    expected = spec_values.PARSERS[TYPED[record["kind"]]](text) if text else None
    if text and expected is None:
        assert rule == 2 and reason.startswith(f"{column}:"), (record, rule, reason)
    else:
        assert row[column] == expected, (record, row[column])
        assert rule != 2, (record, reason)


# A run takes half a minute: a few examples, each with some 200 odd values, and no shrinking
# (a failure is reported with its whole example, the planted values listed by column).
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True, phases=(Phase.explicit, Phase.generate))
@given(values=fuzz_values)
def test_no_value_fails_the_run(clean, tmp_path_factory, values):
    clean_inbox, clean_home = clean
    root = tmp_path_factory.mktemp("fuzzed")
    inbox, home = root / "inbox", root / "home"
    shutil.copytree(clean_inbox, inbox)
    planted = plant(inbox, values)

    result = qloop_run(inbox, home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output, output
    assert list((home / "exports").glob("kpi_snapshot_*.csv"))
    assert (home / "board" / "board.duckdb").exists()

    with connect(home / "warehouse.duckdb", read_only=True) as con, \
            connect(clean_home / "warehouse.duckdb", read_only=True) as before:
        for record in planted:
            check_planted(con, record)
        for entity in STAGING:
            clean_rows = staged(before, entity)
            assert {k: v for k, v in staged(con, entity).items() if k in clean_rows} == clean_rows
            model = ENTITY_MODEL[entity]
            columns = columns_of(before, model)
            clean_versions = before.execute(f"select {columns} from {model} order by all").fetchall()
            con.execute(f"attach '{clean_home / 'warehouse.duckdb'}' as clean (read_only)")
            now = con.execute(f"select {columns} from {model} semi join clean.{model} as c "
                              f"using (_file, _line) order by all").fetchall()
            con.execute("detach clean")
            assert now == clean_versions, model
