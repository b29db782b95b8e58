"""The normal tail of the post-evaluation mart (dbt macro normal_two_sided_p), evaluated by
DuckDB exactly as dbt renders it, against Python's math.erfc (the exact two-sided p-value
of a standard normal statistic is erfc(|z| / sqrt 2))."""

from __future__ import annotations

import math

import duckdb
import jinja2
import pytest

from dagster_project.lib.settings import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "stats" / "normal_two_sided_p.sql"


@pytest.fixture(scope="module")
def p_value_sql() -> str:
    # The macro uses plain Jinja only, so jinja2 renders it as dbt does.
    module = jinja2.Environment().from_string(MACRO.read_text(encoding="utf-8")).module
    return module.normal_two_sided_p("z")


def _p(con, sql: str, z: float | None) -> float | None:
    return con.execute(f"select {sql} from (select cast(? as double) as z)", [z]).fetchone()[0]


def test_two_sided_p_is_within_1_5e_7_of_erfc_on_a_grid(p_value_sql):
    con = duckdb.connect()
    grid = [i / 100 for i in range(-800, 801)]
    worst = max(abs(_p(con, p_value_sql, z) - math.erfc(abs(z) / math.sqrt(2))) for z in grid)
    assert worst < 1.5e-7


@pytest.mark.parametrize(("z", "expected"), [
    (1.959963984540054, 0.05),   # the two-sided 5 % critical value
    (2.5758293035489, 0.01),
    (1.6448536269514722, 0.10),
    (-1.959963984540054, 0.05),  # symmetric
    (0.0, 1.0),
    (40.0, 0.0),                 # far tail: no overflow, no negative p
])
def test_known_quantiles(p_value_sql, z, expected):
    assert _p(duckdb.connect(), p_value_sql, z) == pytest.approx(expected, abs=1.5e-7)


def test_null_statistic_gives_null_p(p_value_sql):
    # least() skips nulls; the macro must not turn "no test" into p = 1
    assert _p(duckdb.connect(), p_value_sql, None) is None
