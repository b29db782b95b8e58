"""The KPI catalog and the departments, read from the dbt seeds (their one home)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from ..settings import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class Kpi:
    code: str
    name_en: str
    name_zh: str
    grain: str  # day | month
    direction: str  # up | down
    target: Decimal
    red_threshold: Decimal
    owner_department: str
    min_volume: int  # the smallest denominator detection judges (closed-loop.md)


@dataclass(frozen=True)
class Department:
    code: str
    name_zh: str
    name_en: str


def _rows(file_name: str) -> list[dict[str, str]]:
    with open(SEEDS / file_name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def kpi_catalog() -> dict[str, Kpi]:
    return {
        r["kpi_code"]: Kpi(r["kpi_code"], r["name_en"], r["name_zh"], r["grain"], r["direction"],
                           Decimal(r["target"]), Decimal(r["red_threshold"]), r["owner_department"],
                           int(r["min_volume"]))
        for r in _rows("kpi_catalog.csv")
    }


@cache
def departments() -> dict[str, Department]:
    return {
        r["department_code"]: Department(r["department_code"], r["department_name_zh"],
                                         r["department_name_en"])
        for r in _rows("departments.csv")
    }
