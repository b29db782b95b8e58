"""Run the suites with Great Expectations 1.x over the DuckDB metric frames; Data Docs.

One ephemeral GX context per run (no project folder, nothing generated on disk but the
Data Docs), one pandas datasource, one dataframe asset per suite; each suite is a
ValidationDefinition run on its entity's metric frame, so its result is stored in the
context and rendered into the Data Docs. The suites' ids are generated in memory only.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from ..dbt_state import project_fingerprint
from .metrics import metric_frame, refresh_file_metrics
from .suites import BLOCKING, Suite

# Most files a failing expectation names one by one (the count is always complete).
FILES_LISTED = 25
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["file_name"],
                 "partial_unexpected_count": FILES_LISTED}


@dataclass
class ExpectationOutcome:
    suite: str
    entity: str
    index: int
    expectation: str  # e.g. expect_column_values_to_be_between
    column: str | None
    kwargs: str  # the bounds, as text
    severity: str
    why: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    # [{"file_name": ..., "value": ...}] of the failing files (at most FILES_LISTED)
    unexpected: list[dict] = field(default_factory=list)
    observed_value: str | None = None


@dataclass
class SuiteOutcome:
    suite: str
    entity: str
    kpi_sources: list[str]
    files: int
    success: bool
    blocking_failed: bool
    expectations: list[ExpectationOutcome]
    error: str | None = None  # the suite could not run (counts as a blocking failure)
    seconds_metrics: float = 0.0
    seconds_validate: float = 0.0

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    def to_dict(self) -> dict:
        return asdict(self)


def _bounds(kwargs: dict) -> str:
    bounds = [f"{k}={v}" for k, v in kwargs.items()
              if k not in ("column", "row_condition", "condition_parser")]
    if kwargs.get("row_condition"):  # a blocking bound judges only files with enough records
        bounds.append(f"where {kwargs['row_condition']}")
    return ", ".join(bounds)


def _plain(value):
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value if isinstance(value, (int, str, bool, type(None))) else str(value)


def preload_gx() -> threading.Thread:
    """Import Great Expectations in a background thread. Its import costs ~2.7 s of one core;
    started with the dbt step, it overlaps the dbt process instead of delaying the quality
    step, whose own `import` then finds the module loaded (or waits on Python's import
    lock for the rest)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # SQLAlchemy's ORM first, in this thread (~0.2 s): GX imports it, and its first module
    # registers an inspector that Dagster's storage calls (from this thread, storing a
    # step's outputs) before the rest of the package exists: "partially initialized module
    # 'sqlalchemy.orm.exc'", seen when outputs were stored while the import ran.
    importlib.import_module("sqlalchemy.orm")
    thread = threading.Thread(target=importlib.import_module, args=("great_expectations",),
                              name="gx-preload", daemon=True)
    thread.start()
    return thread


def gx_context():
    """An ephemeral GX context: no project folder, no analytics, no progress bars."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def gx_suite(suite: Suite):
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx_s = gx.ExpectationSuite(name=suite.name, meta={"entity": suite.entity.prefix,
                                                      "kpi_sources": list(suite.kpi_sources)})
    for i, exp in enumerate(suite.expectations):
        # GX does not keep the suite's order in its results: the index finds them again.
        # (add_expectation_configuration would upsert by column: two bounds on one column
        # with different severities must both stay.)
        gx_s.add_expectation(ExpectationConfiguration(
            type=exp["type"], kwargs=dict(exp["kwargs"]), meta=dict(exp["meta"], index=i)).to_domain_obj())
    return gx_s


def run_suites(con: duckdb.DuckDBPyConnection, suites: list[Suite], context=None) -> list[SuiteOutcome]:
    """Compute each suite's metric frame in DuckDB and validate it with GX."""
    context = context or gx_context()
    datasource = context.data_sources.add_pandas("qualityloop_metrics")
    fingerprint = project_fingerprint()
    outcomes = []
    for suite in suites:
        started = time.perf_counter()
        try:
            refresh_file_metrics(con, suite, fingerprint)
            frame = metric_frame(con, suite, cached=True)
            computed = time.perf_counter()
            exps = validate_frame(context, datasource, suite, frame)
        except Exception as err:  # noqa: BLE001 - a suite that cannot run must not stop the others
            outcomes.append(SuiteOutcome(
                suite.name, suite.entity.prefix, list(suite.kpi_sources), 0, False, True, [],
                error=f"{type(err).__name__}: {err}".splitlines()[0]))
            continue
        blocking_failed = any(not e.success and e.severity == BLOCKING for e in exps)
        outcomes.append(SuiteOutcome(
            suite.name, suite.entity.prefix, list(suite.kpi_sources), len(frame),
            all(e.success for e in exps), blocking_failed, exps,
            seconds_metrics=computed - started, seconds_validate=time.perf_counter() - computed))
    return outcomes


def validate_frame(context, datasource, suite: Suite, frame) -> list[ExpectationOutcome]:
    """Validate one metric frame with the suite (a ValidationDefinition kept in the context
    for the Data Docs); one outcome per expectation, in the suite's order."""
    import great_expectations as gx

    batch_def = datasource.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("files")
    gx_s = context.suites.add(gx_suite(suite))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch_def, suite=gx_s))
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
    by_index = {res.expectation_config.meta["index"]: res for res in result.results}
    exps = []
    for i, spec in enumerate(suite.expectations):
        res = by_index[i]
        r = res.result or {}
        unexpected = [{"file_name": u.get("file_name"),
                       "value": _plain(u.get(spec["kwargs"].get("column")))}
                      for u in (r.get("unexpected_index_list") or [])[:FILES_LISTED]]
        exps.append(ExpectationOutcome(
            suite=suite.name, entity=suite.entity.prefix, index=i, expectation=spec["type"],
            column=spec["kwargs"].get("column"), kwargs=_bounds(spec["kwargs"]),
            severity=spec["meta"]["severity"], why=spec["meta"].get("why", ""),
            success=bool(res.success), element_count=r.get("element_count"),
            unexpected_count=r.get("unexpected_count"), unexpected=unexpected,
            observed_value=None if r.get("observed_value") is None else str(_plain(r["observed_value"])),
        ))
    return exps


# Data Docs reference Bootstrap, Font Awesome and jQuery on CDNs, without integrity hashes.
# Those references are removed: the board serves the pages without scripts (its
# Content-Security-Policy, dashboards/data_docs.py) and a page must not reach other sites.
# A few lines of local CSS keep them readable.
CDN_REFERENCE = re.compile(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>'
                           r'|<link[^>]*\bhref="https?://[^"]*"[^>]*>')
OFFLINE_CSS = """<style>
body{font-family:system-ui,sans-serif;margin:1em 2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
.alert-danger,.text-danger{color:#a00}.text-success{color:#070}.card{border:1px solid #ddd;margin:1em 0;padding:.5em 1em}
a{color:#0645ad}code,pre{background:#f6f6f6}.d-none,.hide{display:none}
</style>"""


def build_data_docs(context, target: Path) -> Path:
    """Render the run's suites and validation results into `target` (replaced whole)."""
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    context.add_data_docs_site("qualityloop", {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(staging)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    context.build_data_docs(site_names=["qualityloop"])
    for page in staging.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = CDN_REFERENCE.sub("", text)
        page.write_text(re.sub(r"</head>", OFFLINE_CSS + "</head>", text, count=1), encoding="utf-8")
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.replace(old)
    staging.replace(target)
    shutil.rmtree(old, ignore_errors=True)
    return target / "index.html"
