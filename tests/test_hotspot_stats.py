"""The hotspot test's binomial tail (dbt macro binomial_upper_tail_ln), evaluated by DuckDB
exactly as dbt renders it, against exact sums in Python (integers and fractions)."""

from __future__ import annotations

import math
from fractions import Fraction

import duckdb
import jinja2
import pytest

from dagster_project.lib.settings import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "stats" / "binomial_upper_tail_ln.sql"


@pytest.fixture(scope="module")
def tail_sql() -> str:
    # The macro uses plain Jinja only, so jinja2 renders it as dbt does.
    module = jinja2.Environment().from_string(MACRO.read_text(encoding="utf-8")).module
    return module.binomial_upper_tail_ln("k", "n", "q")


def _ln_tail(con, sql: str, k: int, n: int, q: float) -> float:
    return con.execute(f"select {sql} from (select cast(? as bigint) as k, "
                       "cast(? as bigint) as n, cast(? as double) as q)", [k, n, q]).fetchone()[0]


def _exact_ln_tail(k: int, n: int, q: Fraction) -> float:
    """ln of the whole sum in integers: q = a / b, P = sum C(n, i) a^i (b - a)^(n - i) / b^n."""
    a, b = q.numerator, q.denominator
    term = math.comb(n, k) * a ** k * (b - a) ** (n - k)
    total = 0
    for i in range(k, n + 1):
        total += term
        if i < n:  # C(n, i + 1) a^(i+1) (b-a)^(n-i-1) from the term before, exactly
            term = term * (n - i) * a // ((i + 1) * (b - a))
    return math.log(total) - n * math.log(b)


@pytest.mark.parametrize(("k", "n", "q"), [
    (10, 10, Fraction(1, 5)),       # never seen in 4 baseline weeks: p = 0.2^10
    (10, 10, Fraction(1, 3)),       # never seen in 2 weeks: 3^-10
    (12, 14, Fraction(1, 3)),
    (11, 13, Fraction(1, 3)),
    (30, 50, Fraction(1, 4)),
    (1500, 3500, Fraction(1, 3)),   # 1.5 x 1000 expected: p ~ 6e-32
    (50, 170, Fraction(1, 9)),      # a cycle-weighted baseline
    (6000, 20000, Fraction(1, 5)),  # province scale, p far below double's range
])
def test_ln_tail_matches_the_exact_sum(tail_sql, k, n, q):
    got = _ln_tail(duckdb.connect(), tail_sql, k, n, float(q))
    assert got == pytest.approx(_exact_ln_tail(k, n, q), rel=1e-9)


def test_hand_computed_tails(tail_sql):
    con = duckdb.connect()
    # P(Bin(13, 1/3) >= 11) = (C(13,11) 2^2 + C(13,12) 2 + 1) / 3^13 = 339 / 1594323
    assert math.exp(_ln_tail(con, tail_sql, 11, 13, 1 / 3)) == pytest.approx(339 / 1594323,
                                                                               rel=1e-12)
    # P(Bin(10, 0.2) >= 10) = 0.2^10
    assert math.exp(_ln_tail(con, tail_sql, 10, 10, 0.2)) == pytest.approx(0.2 ** 10, rel=1e-12)


def test_close_to_the_expectation_the_cut_sum_still_holds(tail_sql):
    # 1.1 x the expectation: the terms fall slowly; 200 of them keep the error below 1e-9
    k, n, q = 110, 500, Fraction(1, 5)
    got = _ln_tail(duckdb.connect(), tail_sql, k, n, float(q))
    assert got == pytest.approx(_exact_ln_tail(k, n, q), rel=1e-9)
