"""One quality pass after the dbt models: suites (GX), freshness, Data Docs, rejects CSV.

Writes the results to the warehouse (qa_suite_results, qa_expectation_results,
qa_freshness: one set of rows per run, kept across runs) and to
`<home>/runs/<run_id>.quality.json`, which the run summary and the asset checks read.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import duckdb

from ..warehouse import EXPECTATION_RESULTS, FRESHNESS, QUALITY_DDL, SUITE_RESULTS
from .freshness import freshness
from .rejects import write_rejects_csv
from .suites import Suite, load_suites
from .validate import build_data_docs, gx_context, run_suites

def quality_report_path(runs: Path, run_id: str) -> Path:
    return runs / f"{run_id}.quality.json"


def rejects_path(runs: Path, run_id: str) -> Path:
    return runs / f"{run_id}.rejects.csv"


def run_quality(con: duckdb.DuckDBPyConnection, home: Path, runs: Path, run_id: str,
                suites: list[Suite] | None = None, data_docs: bool = True) -> dict:
    """Run every suite and the freshness checks; store and return the report (a dict)."""
    started = time.perf_counter()
    suites = load_suites() if suites is None else suites
    context = gx_context()
    imported = time.perf_counter()
    outcomes = run_suites(con, suites, context)
    validated = time.perf_counter()
    fresh = freshness(con, run_id)
    docs_index, docs_error = None, None
    if data_docs:
        try:
            docs_index = build_data_docs(context, home / "data-docs")
        except Exception as err:  # noqa: BLE001 - the docs are a view; the results stand without them
            docs_error = f"{type(err).__name__}: {err}".splitlines()[0]
    documented = time.perf_counter()
    rejects = rejects_path(runs, run_id)
    rejects_rows = write_rejects_csv(con, run_id, rejects)

    now = datetime.now()
    con.execute(QUALITY_DDL)
    con.execute("begin transaction")
    try:
        for table in (SUITE_RESULTS, EXPECTATION_RESULTS, FRESHNESS):
            con.execute(f"delete from {table} where run_id = ?", [run_id])
        for o in outcomes:
            con.execute(f"insert into {SUITE_RESULTS} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, now, o.suite, o.entity, o.kpi_sources, o.files, o.success,
                         o.blocking_failed, o.error])
            if o.expectations:
                con.executemany(
                    f"insert into {EXPECTATION_RESULTS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[run_id, now, e.suite, e.entity, e.index, e.expectation, e.column, e.kwargs,
                      e.severity, e.why, e.success, e.element_count, e.unexpected_count,
                      json.dumps(e.unexpected, ensure_ascii=False, default=str), e.observed_value]
                     for e in o.expectations])
        for f in fresh:
            d = f.to_dict()
            con.execute(f"insert into {FRESHNESS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, now, f.entity, f.source, f.kind, f.first_date, f.latest_date,
                         f.report_date, f.missing_count, json.dumps(d["missing"], ensure_ascii=False),
                         json.dumps(d["late"], ensure_ascii=False), f.passed])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise

    withheld = sorted({s for o in outcomes if o.blocking_failed for s in o.kpi_sources})
    report = {
        "run_id": run_id,
        "checked_at": now.isoformat(timespec="seconds"),
        "suites": [o.to_dict() for o in outcomes],
        "suite_count": len(outcomes),
        "expectation_count": sum(len(o.expectations) for o in outcomes),
        "blocking_failed": sum(1 for o in outcomes for e in o.failed if e.severity == "blocking")
        + sum(1 for o in outcomes if o.error),
        "warnings_failed": sum(1 for o in outcomes for e in o.failed if e.severity == "warning"),
        "withheld_sources": withheld,
        "freshness": [f.to_dict() | {"passed": f.passed} for f in fresh],
        "data_docs": str(docs_index) if docs_index else None,
        "data_docs_error": docs_error,
        "rejects_csv": str(rejects),
        "rejects_rows": rejects_rows,
        "seconds": {"gx_import_and_context": round(imported - started, 3),
                    "suites": round(validated - imported, 3),
                    "metrics_sql": round(sum(o.seconds_metrics for o in outcomes), 3),
                    "data_docs": round(documented - validated, 3),
                    "total": round(time.perf_counter() - started, 3)},
    }
    path = quality_report_path(runs, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return report


def withheld_sources(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """KPI sources whose blocking expectations failed in this run (their KPIs are not
    published from it). No quality results for the run: nothing is withheld."""
    if not con.execute("select count(*) from information_schema.tables where table_name = ?",
                       [SUITE_RESULTS]).fetchone()[0]:
        return []
    rows = con.execute(
        f"select distinct unnest(kpi_sources) from {SUITE_RESULTS} where run_id = ? and blocking_failed",
        [run_id]).fetchall()
    return sorted(r[0] for r in rows)
