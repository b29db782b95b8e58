"""The short run summary `qloop run` prints: files, rows, KPI statuses, where outputs are."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import duckdb

from .ingest import FileResult
from .settings import Settings, target_overrides_file
from .snapshot import snapshot_paths

# How many red KPI rows of the latest day to name one by one.
RED_ROWS_LISTED = 12


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]).fetchone()[0])


def render_issues(remediation_report: Path) -> list[str]:
    """Detection and verification of this run (the report the rem_issues asset wrote)."""
    run = json.loads(remediation_report.read_text(encoding="utf-8"))
    d, v = run["detection"], run["verification"]
    return [
        f"Issues: {len(d['opened'])} opened, {d['evidence_added']} breaches added as evidence "
        f"({d['severity_raised']} raised severity), {len(d['reopened']) + len(v['reopened'])} "
        f"reopened, {len(v['verified'])} verified; {d['warnings']} R4 early warning(s)",
        f"  {run['active']} active issue(s), {run['overdue']} overdue "
        "(qloop issues list; qloop issues warnings)",
    ]


# How many failing expectations and missing days to name one by one.
QUALITY_LINES_LISTED, FILES_NAMED = 20, 3


def render_post_evaluation(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The change register and the post-evaluation verdicts, when there is one."""
    if not (_table_exists(con, "rem_changes") and _table_exists(con, "fct_change_post_evaluation")):
        return []
    states = dict(con.execute("select state, count(*) from rem_changes group by state").fetchall())
    if not states:
        return []
    verdicts = dict(con.execute(
        "select verdict, count(*) from fct_change_post_evaluation group by verdict").fetchall())
    return [
        "Changes: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        + "; post-evaluation (KPI x region): " + ", ".join(
            f"{verdicts.get(v, 0)} {v}" for v in ("improved", "no_change", "worse", "pending", "no_data"))
        + " (board: /post-evaluation)"]


def _files(unexpected: list[dict], count: int | None) -> str:
    named = ", ".join(f"{u['file_name']} ({u['value']})" for u in unexpected[:FILES_NAMED])
    more = (count or 0) - min(len(unexpected), FILES_NAMED)
    return f"{count} file(s): {named}" + (f" and {more} more" if more > 0 else "")


def render_quality(quality_report: Path, publication_report: Path | None) -> list[str]:
    """The data-quality part of the summary: suites, what is withheld, freshness."""
    q = json.loads(quality_report.read_text(encoding="utf-8"))
    failed = [(s, e) for s in q["suites"] for e in s["expectations"] if not e["success"]]
    blocking = [f for f in failed if f[1]["severity"] == "blocking"]
    errors = [s for s in q["suites"] if s["error"]]
    out = [f"Quality: {q['suite_count']} suites, {q['expectation_count']} expectations: "
           f"{len(blocking) + len(errors)} blocking failed, {len(failed) - len(blocking)} warning(s) "
           f"({q['seconds']['total']:.1f} s)"]
    for s in errors:
        out.append(f"  BLOCKING {s['suite']}: the suite could not run: {s['error']}")
    for s, e in sorted(failed, key=lambda f: (f[1]["severity"] != "blocking", f[0]["suite"]))[:QUALITY_LINES_LISTED]:
        out.append(f"  {e['severity'].upper():8} {s['suite']}: {e['why']} [{e['column'] or ''} {e['kwargs']}]: "
                   + _files(e["unexpected"], e["unexpected_count"]))
    if len(failed) > QUALITY_LINES_LISTED:
        out.append(f"  ... and {len(failed) - QUALITY_LINES_LISTED} more (see the Data Docs)")
    withheld = {}
    if publication_report is not None and publication_report.exists():
        withheld = json.loads(publication_report.read_text(encoding="utf-8"))["withheld"]
    for source in q["withheld_sources"]:
        w = withheld.get(source)
        kept = (f"the last good values stay ({w['kept_rows']} rows from run {w['kept_from_run']})"
                if w and w["kept_rows"] else "no good values were published before: left out of the snapshot")
        kpis = f" ({', '.join(w['kpis'])})" if w else ""
        out.append(f"  NOT PUBLISHED from this run: KPIs of {source}{kpis}; {kept}")
    report_date = next((f["report_date"] for f in q["freshness"] if f["report_date"]), None)
    out.append(f"Freshness per source (latest business date; days missing up to {report_date}; late files):")
    by_source: dict[str, list[dict]] = {}
    for f in q["freshness"]:
        by_source.setdefault(f["source"], []).append(f)
    for source, entities in by_source.items():
        latest = max((f["latest_date"] for f in entities if f["kind"] == "daily" and f["latest_date"]), default="-")
        missing = [f"{f['entity']} {m['date']} ({m['note'].split(' ', 1)[1]})" for f in entities for m in f["missing"]]
        count = sum(f["missing_count"] for f in entities)
        late = [f"{x['file_name']} ({x['note']})" for f in entities for x in f["late"]]
        line = f"  {source:12} latest {latest}; " + (f"WARNING {count} missing: " + "; ".join(missing[:FILES_NAMED])
                                                     + (" ..." if count > FILES_NAMED else "") if count else "none missing")
        if late:
            line += f"; WARNING late: {'; '.join(late[:FILES_NAMED])}"
        out.append(line)
    return out


def render_scope_targets(con: duckdb.DuckDBPyConnection) -> list[str]:
    """How many per-scope targets judged this run, and from which file (the set named by
    QLOOP_TARGET_OVERRIDES: the deployment's, the demo's)."""
    if not _table_exists(con, "kpi_target_overrides"):
        return []
    rows = con.execute("select count(*) from kpi_target_overrides").fetchone()[0]
    line = f"Per-scope targets: {rows} override row(s) from {target_overrides_file()}"
    return [line if rows else line + " (none: every region is judged by the catalog)"]


def render_summary(con: duckdb.DuckDBPyConnection, results: list[FileResult], settings: Settings,
                   ingest_report: Path | None, remediation_report: Path | None = None,
                   run_id: str | None = None) -> str:
    out: list[str] = []
    counts = Counter(r.outcome for r in results)
    out.append("Files: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
                                      ("loaded", "replaced", "unchanged", "rejected", "failed", "ignored")))
    for r in results:
        if r.outcome in ("rejected", "failed", "ignored"):
            out.append(f"  {r.outcome:8} {r.file_name}: {r.reason}")
        elif r.unknown_columns:
            out.append(f"  note     {r.file_name}: unknown column(s) ignored: {', '.join(r.unknown_columns)}")

    if _table_exists(con, "fct_file_reconciliation"):
        out.append("Rows per entity (deliveries in force): read = accepted + rejected")
        for entity, files, read, accepted, rejected in con.execute(
            "select entity, count(*), sum(rows_read), sum(rows_accepted), sum(rows_rejected) "
            "from fct_file_reconciliation group by entity order by entity"
        ).fetchall():
            out.append(f"  {entity:18} {files:4} files {read:>10} read {accepted:>10} accepted "
                       f"{rejected:>8} rejected")

    quality_report = settings.runs / f"{run_id}.quality.json" if run_id else None
    if quality_report is not None and quality_report.exists():
        out += render_quality(quality_report, settings.runs / f"{run_id}.publication.json")

    as_of = con.execute("select as_of_at, report_date from int_as_of").fetchone() \
        if _table_exists(con, "int_as_of") else None
    if as_of is None:
        out.append("As of: no daily extract loaded yet, so no KPI values and no snapshot.")
    else:
        out.append(f"As of T = {as_of[0]:%Y-%m-%d %H:%M:%S} (latest business date {as_of[1]})")
        for period_type, period_start in con.execute(
            "select 'day', max(period_start) from fct_kpi_values where period_type = 'day' union all "
            "select 'month', max(period_start) from fct_kpi_values where period_type = 'month'"
        ).fetchall():
            if period_start is None:
                continue
            status = dict(con.execute(
                "select status, count(*) from fct_kpi_values where period_type = ? and period_start = ? "
                "group by status", [period_type, period_start]).fetchall())
            out.append(f"  {period_type:5} {period_start}: " + ", ".join(
                f"{status.get(s, 0)} {s}" for s in ("green", "amber", "red", "no_data")))
        reds = con.execute(
            "select kpi_code, region_code, value from fct_kpi_values where period_type = 'day' "
            "and period_start = ? and status = 'red' order by kpi_code, region_code",
            [as_of[1]]).fetchall()
        for kpi, region, value in reds[:RED_ROWS_LISTED]:
            out.append(f"    red {kpi} {region} {value:.4f}")
        if len(reds) > RED_ROWS_LISTED:
            out.append(f"    ... and {len(reds) - RED_ROWS_LISTED} more red rows")

    out += render_scope_targets(con)
    if remediation_report is not None and remediation_report.exists():
        out += render_issues(remediation_report)
    out += render_post_evaluation(con)

    out.append("Outputs:")
    out.append(f"  warehouse  {settings.warehouse}")
    out.append(f"  issues     {settings.issues_url}")
    if as_of is not None:
        data, control = snapshot_paths(settings.exports, as_of[1])
        if control.exists():
            out.append(f"  snapshot   {data}")
            out.append(f"  control    {control}: {control.read_text().strip()}")
    for ranking in sorted(settings.exports.glob("horizontal_assessment_*.csv"))[-1:]:
        out.append(f"  ranking    {ranking}")
    if ingest_report is not None:
        out.append(f"  file report {ingest_report}")
    if quality_report is not None and quality_report.exists():
        q = json.loads(quality_report.read_text(encoding="utf-8"))
        if q["data_docs"]:
            out.append(f"  data docs  {q['data_docs']}")
        elif q.get("data_docs_error"):
            out.append(f"  data docs  not built: {q['data_docs_error']}")
        out.append(f"  rejects    {q['rejects_csv']} ({q['rejects_rows']} rows from this run's deliveries)")
    return "\n".join(out)
