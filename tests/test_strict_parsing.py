"""The warehouse's strict parsers (dbt/macros/parsing/strict_parsers.sql) against the spec
read literally in Python (tests/spec_values.py), on texts Hypothesis generates: real values,
near misses (year 0000, 2026-02-29, 24:00:00, a full-width digit, a fraction) and any text."""

from __future__ import annotations

import duckdb
import jinja2
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dagster_project.lib.settings import DBT_PROJECT_DIR

from . import spec_values

MACROS = jinja2.Environment().from_string(
    (DBT_PROJECT_DIR / "macros" / "parsing" / "strict_parsers.sql").read_text(encoding="utf-8")
).module


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as connection:
        yield connection


def parse_in_sql(con, kind: str, values: list[str]) -> list:
    """Every value through the dbt macro parse_<kind>, in one query, in order."""
    expression = getattr(MACROS, f"parse_{kind}")("v")
    return [row[0] for row in con.execute(
        f"select {expression} from unnest(?::varchar[]) with ordinality as t(v, i) order by i",
        [values]).fetchall()]


@pytest.mark.parametrize("kind, text, expected", [
    ("timestamp", "0000-05-01 00:00:00", None),
    ("timestamp", "0001-01-01 00:00:00", spec_values.parse_timestamp("0001-01-01 00:00:00")),
    ("timestamp", "9999-12-31 23:59:59", spec_values.parse_timestamp("9999-12-31 23:59:59")),
    ("timestamp", "2026-02-29 10:00:00", None),
    ("timestamp", "2024-02-29 10:00:00", spec_values.parse_timestamp("2024-02-29 10:00:00")),
    ("timestamp", "2026-04-31 10:00:00", None),
    ("timestamp", "2026-10-05 24:00:00", None),
    ("timestamp", "2026-10-05 23:60:00", None),
    ("timestamp", "2026-10-05 23:59:60", None),
    ("timestamp", "2026-10-05T08:00:00", None),
    ("timestamp", "2026-10-05 08:00:00.5", None),
    ("timestamp", "2026-10-05 08:00", None),
    ("timestamp", "２026-10-05 08:00:00", None),
    ("date", "0000-05-01", None),
    ("date", "2026-02-29", None),
    ("date", "2026-13-01", None),
    ("month", "0000-05", None),
    ("month", "2026-13", None),
    ("month", "2026-00", None),
    ("month", "9999-12", spec_values.parse_month("9999-12")),
    ("integer", "9223372036854775807", 2**63 - 1),
    ("integer", "9223372036854775808", None),
    ("integer", "+1", None),
    ("integer", "1.0", None),
    ("decimal", "99999999999999.9999", spec_values.parse_decimal("99999999999999.9999")),
    ("decimal", "100000000000000", None),
    ("decimal", "1.23456", None),
    ("decimal", "1e3", None),
    ("decimal", ".5", None),
])
def test_boundaries_by_hand(con, kind, text, expected):
    assert parse_in_sql(con, kind, [text]) == [expected]
    assert spec_values.PARSERS[kind](text) == expected


@pytest.mark.parametrize("kind", sorted(spec_values.PARSERS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_sql_parsers_read_the_spec_literally(con, kind, data):
    values = data.draw(st.lists(spec_values.texts(kind), min_size=1, max_size=40), label="texts")
    assert parse_in_sql(con, kind, values) == [spec_values.PARSERS[kind](v) for v in values]


@given(st.lists(st.text(max_size=30), min_size=1, max_size=40))
@example(["0000-01-01 00:00:00", "\x00", "2026-10-05 08:00:00\n"])
@settings(max_examples=100, deadline=None)
def test_no_text_makes_a_parser_fail(con, values):
    """Whatever the text, every parser answers a value or NULL; none raises."""
    for kind in spec_values.PARSERS:
        assert len(parse_in_sql(con, kind, values)) == len(values)
