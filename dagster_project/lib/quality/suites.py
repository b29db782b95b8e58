"""The hand-written expectation suites in `expectations/` (one JSON file per raw entity).

A suite file is Great Expectations' own suite format without any generated state (no ids):

    {"name": "raw_net_speed_test",
     "meta": {"entity": "net_speed_test", "kpi_sources": ["network"],
              "staging_model": "stg_net__speed_tests", "entity_model": "int_speed_tests",
              "min_rows": 30, "volume": {...}, "null_share_columns": [...], "metrics": {...}},
     "expectations": [{"type": "expect_column_values_to_be_between",
                       "kwargs": {"column": "volume_ratio", "min_value": 0.5},
                       "meta": {"severity": "blocking", "why": "..."}}, ...]}

`meta` of the suite says how to compute the entity's metric frame (dagster_project/lib/
quality/metrics.py): one row per delivery in force, with the columns the expectations
judge. Every expectation carries `meta.severity`: "blocking" (the KPIs of `kpi_sources`
are not published from this run) or "warning" (published, flagged).

Besides the written expectations, every suite counts its entity's rejects by rule
(`reject_count_expectations`): one sum per rule over the files in force, and one of the
records that could not be split into fields, with severity "count". They never fail; the
Data Docs and the results show how many records each rule rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..extracts import ENTITY_BY_PREFIX, Entity
from ..settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"
BLOCKING, WARNING, COUNT = "blocking", "warning", "count"
# KPI catalog `source_system` values (dbt/seeds/kpi_catalog.csv).
KPI_SOURCES = ("crm", "call_center", "billing", "field_ops", "network")


@dataclass(frozen=True)
class Suite:
    name: str  # = the raw landing table, the asset the check is on
    entity: Entity
    kpi_sources: tuple[str, ...]
    staging_model: str
    entity_model: str
    # dbt's unique test on the entity key stores its failing keys in this table (in
    # DBT_TEST_AUDIT_SCHEMA): the suite reads them instead of grouping the table again.
    duplicate_keys_from: str | None
    min_rows: int
    volume: dict | None
    null_share_columns: tuple[str, ...]
    metrics: dict[str, str]
    expectations: list[dict] = field(repr=False)
    path: Path | None = None

    @property
    def blocking_count(self) -> int:
        return sum(1 for e in self.expectations if e["meta"]["severity"] == BLOCKING)


class SuiteError(ValueError):
    """A suite file that does not say what the code needs (caught by the tests)."""


def parse_suite(data: dict, path: Path | None = None) -> Suite:
    meta = data.get("meta", {})
    where = path.name if path else data.get("name")
    entity = ENTITY_BY_PREFIX.get(meta.get("entity", ""))
    if entity is None:
        raise SuiteError(f"{where}: meta.entity is not an entity of the registry")
    if data.get("name") != entity.table:
        raise SuiteError(f"{where}: the suite's name must be the raw table {entity.table}")
    unknown = set(meta.get("kpi_sources", [])) - set(KPI_SOURCES)
    if unknown:
        raise SuiteError(f"{where}: unknown kpi_sources {sorted(unknown)}")
    for i, exp in enumerate(data.get("expectations", [])):
        if exp.get("meta", {}).get("severity") not in (BLOCKING, WARNING):
            raise SuiteError(f"{where}: expectation {i} ({exp.get('type')}) has no meta.severity "
                             "'blocking' or 'warning'")
        if "id" in exp:
            raise SuiteError(f"{where}: expectation {i} carries a generated id")
    return Suite(
        name=data["name"], entity=entity, kpi_sources=tuple(meta.get("kpi_sources", [])),
        staging_model=meta["staging_model"], entity_model=meta["entity_model"],
        duplicate_keys_from=meta.get("duplicate_keys_from"),
        min_rows=int(meta.get("min_rows", 1)), volume=meta.get("volume"),
        null_share_columns=tuple(meta.get("null_share_columns", [])),
        metrics=dict(meta.get("metrics", {})),
        expectations=list(data["expectations"]) + reject_count_expectations(), path=path,
    )


# The acceptance rules of source-extracts.md section 6, as the counts call them.
RULES = {1: "key missing", 2: "a value that does not parse", 3: "an enum value not listed",
         4: "an unknown or missing reference code", 5: "events out of order",
         6: "a status without its timestamp", 7: "a value out of its range"}
REJECT_COUNT_COLUMNS = tuple(f"rejected_rule_{n}" for n in RULES) + ("rows_unparsed",)


def reject_count_expectations() -> list[dict]:
    """How many records each rule rejected, and how many could not be split into the
    header's fields (rule 2 at landing): sums over the files in force, never failing."""
    whys = [f"records rejected by rule {n}: {text}" for n, text in RULES.items()]
    whys.append("records rejected by rule 2 at landing: wrong number of fields or quoting")
    return [{"type": "expect_column_sum_to_be_between",
             "kwargs": {"column": column, "min_value": 0},
             "meta": {"severity": COUNT, "why": why}}
            for column, why in zip(REJECT_COUNT_COLUMNS, whys)]


def load_suites(folder: Path = SUITES_DIR) -> list[Suite]:
    """Every `*.json` suite of the folder, in file-name order."""
    return [parse_suite(json.loads(p.read_text(encoding="utf-8")), p)
            for p in sorted(folder.glob("*.json"))]
