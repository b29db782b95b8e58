"""The spec's typed values (source-extracts.md section 2), read literally in plain Python:
the reference the warehouse's SQL parsers are checked against, and Hypothesis strategies
of texts that are, nearly are, or are not such values."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from hypothesis import strategies as st

# What the warehouse's types hold (docs/decisions.md, "Strict parsing"): a BIGINT, and a
# DECIMAL(18,4), 14 digits before the point. A longer number does not parse.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
DECIMAL_LIMIT = Decimal(10) ** 14

_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]{1,4})?")


def parse_timestamp(text: str | None) -> datetime | None:
    match = _TIMESTAMP.fullmatch(text or "")
    if not match:
        return None
    try:  # the Gregorian calendar: datetime refuses year 0, 2026-02-29, hour 24, ...
        return datetime(*map(int, match.groups()))
    except ValueError:
        return None


def parse_date(text: str | None) -> date | None:
    match = _DATE.fullmatch(text or "")
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def parse_month(text: str | None) -> date | None:
    """A month as its first day."""
    match = _MONTH.fullmatch(text or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None


def parse_integer(text: str | None) -> int | None:
    if not _INTEGER.fullmatch(text or ""):
        return None
    value = int(text)
    return value if BIGINT_MIN <= value <= BIGINT_MAX else None


def parse_decimal(text: str | None) -> Decimal | None:
    if not _DECIMAL.fullmatch(text or ""):
        return None
    value = Decimal(text)
    return value if abs(value) < DECIMAL_LIMIT else None


PARSERS = {"timestamp": parse_timestamp, "date": parse_date, "month": parse_month,
           "integer": parse_integer, "decimal": parse_decimal}


# -- texts: real values, near misses of every kind, and anything at all ------------------

def _two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


_years = st.one_of(st.sampled_from(["0000", "0001", "1969", "2024", "2026", "9999"]),
                   st.integers(0, 9999).map(lambda n: f"{n:04d}"))
_months = st.one_of(st.sampled_from(["00", "01", "02", "04", "12", "13"]), _two(0, 19))
_days = st.one_of(st.sampled_from(["00", "01", "28", "29", "30", "31", "32"]), _two(0, 39))
_hours = st.one_of(st.sampled_from(["00", "23", "24"]), _two(0, 29))
_sixties = st.one_of(st.sampled_from(["00", "59", "60"]), _two(0, 69))

# A character that looks like a digit or a separator but is not the spec's.
_lookalikes = st.sampled_from(["０", "٣", "੧", "¹", "O", "l", " ", "\t", "\n", "T", "/", ".", ",",
                               "+", "e", "E", "_", "\u00a0", "\u200b", "-"])


@st.composite
def _mutated(draw, text_strategy: st.SearchStrategy[str]) -> str:
    """A text of the format with one change: a character replaced, inserted or removed,
    or a prefix or suffix added."""
    text = draw(text_strategy)
    how = draw(st.sampled_from(["replace", "insert", "delete", "prefix", "suffix"]))
    at = draw(st.integers(0, max(len(text) - 1, 0)))
    piece = draw(_lookalikes)
    if how == "replace" and text:
        return text[:at] + piece + text[at + 1:]
    if how == "insert":
        return text[:at] + piece + text[at:]
    if how == "delete" and text:
        return text[:at] + text[at + 1:]
    if how == "prefix":
        return piece + text
    return text + piece


_dates = st.builds(lambda y, m, d: f"{y}-{m}-{d}", _years, _months, _days)
_timestamps = st.builds(lambda d, h, mi, s: f"{d} {h}:{mi}:{s}", _dates, _hours, _sixties, _sixties)
_month_texts = st.builds(lambda y, m: f"{y}-{m}", _years, _months)
_integers = st.one_of(st.integers(-10**3, 10**3), st.integers(BIGINT_MIN - 5, BIGINT_MAX + 5),
                      st.integers(-10**25, 10**25)).map(str)
_decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**15, max_value=10**15),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**3, max_value=10**3),
).map(lambda d: format(d, "f"))
_odd_numbers = st.sampled_from(["", "-", "+1", "1.", ".5", "1.23456", "1e3", "1,000", "0x10",
                                "00", "-0", "-0.0000", "99999999999999.9999", "100000000000000"])

FORMATS = {"timestamp": _timestamps, "date": _dates, "month": _month_texts,
           "integer": _integers, "decimal": _decimals}


def texts(kind: str) -> st.SearchStrategy[str]:
    """Texts for a field of `kind`: the format's own values (real or not), near misses, and
    any text at all."""
    own = FORMATS[kind]
    return st.one_of(own, _mutated(own), _odd_numbers, st.text(max_size=24))
