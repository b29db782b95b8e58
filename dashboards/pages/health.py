"""Data health: the last run (ingest, remediation and quality reports), per-source
freshness, late and rejected files, rejected rows, file reconciliation, GX Data Docs."""

from __future__ import annotations

import json
from datetime import datetime

import dash
from dash import html

from dashboards.components.common import empty_state, rag_badge
from dashboards.components.grid import data_grid, number_col, text_col
from dashboards.components.tables import is_missing, simple_table
from dashboards.data import NoBoardData
from dashboards.data import health as data
from dashboards.i18n import t

dash.register_page(__name__, path="/health", name="health", title="QualityLoop · Data health")

RAW_VALUES_SHOWN = 4
REJECTED_ROWS_SHOWN = 1000


def _date(value) -> str:
    return "—" if is_missing(value) else str(value)[:10]


def _time(value) -> str:
    return "—" if is_missing(value) else str(value)[:19]


def _raw_preview(text: str) -> str:
    """The first few raw values of a rejected record."""
    try:
        values = json.loads(text)
    except (TypeError, ValueError):
        return str(text)[:120]
    if not isinstance(values, dict):
        return str(values)[:120]
    items = list(values.items())
    shown = ", ".join(f"{k}={v!r}" for k, v in items[:RAW_VALUES_SHOWN])
    return shown + (" …" if len(items) > RAW_VALUES_SHOWN else "")


def run_section() -> html.Section:
    reports = data.latest_reports()
    cards = []
    ingest = reports.get("ingest")
    if ingest and isinstance(ingest[2], list):
        outcomes: dict[str, int] = {}
        for f in ingest[2]:
            outcomes[str(f.get("outcome"))] = outcomes.get(str(f.get("outcome")), 0) + 1
        cards.append(_report_card("report_ingest", ingest, [
            (t("files"), str(len(ingest[2]))),
            *((t(f"outcome_{k}") if k in ("loaded", "rejected", "failed", "skipped") else k,
               str(v)) for k, v in sorted(outcomes.items())),
            (t("rows_read"), f"{sum(int(f.get('rows_read') or 0) for f in ingest[2]):,}"),
        ]))
    else:
        cards.append(_missing_card("report_ingest", ingest))
    rem = reports.get("remediation")
    if rem and isinstance(rem[2], dict):
        d = rem[2]
        det = d.get("detection") or {}
        ver = d.get("verification") or {}
        facts = [(t("as_of"), str(d.get("as_of", "—"))),
                 (t("detection_opened"), _count(det.get("opened"))),
                 (t("detection_reopened"), _count(det.get("reopened"))),
                 (t("detection_evidence"), _count(det.get("evidence_added"))),
                 (t("detection_warnings"), _count(det.get("warnings")))]
        facts += [(t("verified"), str(len(ver.get("verified") or []))),
                  (t("active_issues"), str(d.get("active", "—"))),
                  (t("overdue"), str(d.get("overdue", "—")))]
        cards.append(_report_card("report_remediation", rem, facts))
    else:
        cards.append(_missing_card("report_remediation", rem))
    quality = reports.get("quality")
    if quality and isinstance(quality[2], dict):
        q = quality[2]
        failed = int(q.get("blocking_failed") or 0)
        facts = [(t("suites"), str(q.get("suite_count", "—"))),
                 (t("expectations"), str(q.get("expectation_count", "—"))),
                 (t("blocking_failed"), str(q.get("blocking_failed", "—"))),
                 (t("warnings_failed"), str(q.get("warnings_failed", "—"))),
                 (t("withheld_sources"), ", ".join(q.get("withheld_sources") or []) or "—")]
        badge = rag_badge("red" if failed else "green", t("red" if failed else "green"))
        cards.append(_report_card("report_quality", quality, facts, badge))
    else:
        cards.append(_missing_card("report_quality", quality))
    docs = (html.A(t("open_data_docs"), href="/data-docs/index.html", target="_blank",
                   id="data-docs-link")
            if data.data_docs_available() else html.Span(t("no_data_docs"), className="muted",
                                                         id="data-docs-link-missing"))
    return html.Section([html.H3(t("last_run")), html.Div(cards, className="report-cards"),
                         html.P(docs)], className="card", id="health-run")


def _count(value) -> str:
    if isinstance(value, (list, tuple)):
        return str(len(value))
    return "—" if value is None else str(value)


def _report_card(key: str, report, facts, badge=None) -> html.Div:
    name, mtime, _ = report
    return html.Div([
        html.H4([t(key), " ", badge] if badge else t(key)),
        html.Div(f"{name} · {datetime.fromtimestamp(mtime):%Y-%m-%d %H:%M}", className="muted"),
        html.Dl([p for label, value in facts for p in (html.Dt(label), html.Dd(value))]),
    ], className="report-card", id=f"health-{key}")


def _missing_card(key: str, report) -> html.Div:
    text = t("report_missing") if report is None else f"{t('report_unreadable')}: {report[2]}"
    return html.Div([html.H4(t(key)), html.Div(text, className="muted")],
                    className="report-card", id=f"health-{key}")


def freshness_section() -> html.Section:
    fresh = data.freshness()
    late = data.late_files()
    records = []
    for r in fresh.to_dict("records"):
        missing = r["missing_days"]
        missing = [] if missing is None or (not isinstance(missing, (list, tuple))
                                             and is_missing(missing)) else list(missing)
        behind = (r["kind"] == "daily" and not is_missing(r["latest_date"])
                  and r["latest_date"] < r["report_date"])
        status = "red" if behind else ("amber" if r["missing_count"] else "green")
        records.append({**r, "missing_list": ", ".join(str(d)[:10] for d in missing[:10])
                        + (" …" if len(missing) > 10 else ""), "state": status})
    table = simple_table(
        [("entity", t("entity")), ("source", t("source")), ("kind", t("kind")),
         ("files", t("files")), ("first_date", t("first_date")),
         ("latest_date", t("latest_date")), ("missing_count", t("missing_days")),
         ("missing_list", t("missing_dates")), ("loaded_at", t("loaded_at")),
         ("state", t("status"))],
        records, "health-freshness", numeric=("files", "missing_count"),
        render={"first_date": _date, "latest_date": _date, "loaded_at": _time,
                "state": lambda s: rag_badge(s, t(s))},
        row_id=lambda r: {"type": "freshness-row", "entity": r["entity"]})
    late_part = (simple_table(
        [("file_name", t("file")), ("entity", t("entity")), ("business_date", t("business_date")),
         ("seen_at", t("seen_at")), ("later_date_seen", t("later_date_seen"))],
        late.to_dict("records"), "health-late",
        render={"business_date": _date, "seen_at": _time, "later_date_seen": _date})
        if not late.empty else html.P(t("no_late_files"), className="muted", id="health-late"))
    return html.Section([html.H3(t("freshness")), html.P(t("freshness_note"), className="muted"),
                         html.Div(table, className="scroll"), html.H4(t("late_files")),
                         late_part], className="card")


def rejected_files_section() -> html.Section:
    files = data.rejected_files()
    rows = [{"file_name": r["file_name"], "entity": r["entity"],
             "business_date": _date(r["business_date"]), "outcome": r["outcome"],
             "reason": r["reason"],
             "size_bytes": None if is_missing(r["size_bytes"]) else int(r["size_bytes"]),
             "seen_at": _time(r["seen_at"])} for r in files.to_dict("records")]
    columns = [text_col("file_name", t("file")), text_col("entity", t("entity")),
               text_col("business_date", t("business_date")), text_col("outcome", t("outcome")),
               text_col("reason", t("reason"), wrapText=True, autoHeight=True, minWidth=260),
               number_col("size_bytes", t("size_bytes")), text_col("seen_at", t("seen_at"))]
    return html.Section([html.H3(t("rejected_files")), data_grid(
        "health-rejected-files", columns, rows, file_name="rejected_files.csv",
        empty=t("no_rejected_files"))], className="card")


def rejected_rows_section() -> html.Section:
    """Counts of every reject by entity, rule and class, then the newest rejected rows in a
    grid. Capped at REJECTED_ROWS_SHOWN: a province quarter has ~100 k rejects, and a grid
    holds its rows in the browser; the counts cover all of them and the full list stays in
    the warehouse (fct_rejected_rows)."""
    total = data.rejected_row_count()
    counts = data.rejected_row_counts()
    latest = data.rejected_rows(REJECTED_ROWS_SHOWN)
    rows = [{"file_name": r["file_name"], "line": r["line"], "entity": r["entity"],
             "business_date": _date(r["business_date"]), "rule": r["rule"],
             "reason": r["reason"], "preview": _raw_preview(r["raw_values"])}
            for r in latest.to_dict("records")]
    columns = [text_col("file_name", t("file")), number_col("line", t("line")),
               text_col("entity", t("entity")), text_col("business_date", t("business_date")),
               number_col("rule", t("rule")), text_col("reason", t("reason"), minWidth=240),
               text_col("preview", t("raw_values"), minWidth=320)]
    return html.Section([
        html.H3([t("rejected_rows"), " ",
                 html.Span(f"{total:,}", id="health-rejected-count", className="count")]),
        html.Div([
            simple_table([("entity", t("entity")), ("rule", t("rule")),
                          ("reject_class", t("reject_class")), ("row_count", t("rows")),
                          ("example_reason", t("example_reason"))],
                         counts.to_dict("records"), "health-rejected-counts",
                         numeric=("rule", "row_count")),
        ]),
        html.H4(t("rejected_rows_capped").format(n=f"{len(rows):,}", total=f"{total:,}"),
                id="health-rejected-rows-title", **{"data-shown": str(len(rows))}),
        data_grid("health-rejected-rows", columns, rows, file_name="rejected_rows.csv"),
    ], className="card")


def reconciliation_section() -> html.Section:
    totals = data.reconciliation()
    broken = data.unreconciled_files()
    cols = [("entity", t("entity")), ("files", t("files")), ("rows_read", t("rows_read")),
            ("rows_accepted", t("rows_accepted")), ("rows_rejected", t("rows_rejected")),
            ("rows_unparsed", t("rows_unparsed")), ("not_reconciling", t("not_reconciling"))]
    fmt = lambda v: "—" if is_missing(v) else f"{int(v):,}"  # noqa: E731
    numeric = [k for k, _ in cols[1:]]
    return html.Section([
        html.H3(t("reconciliation")),
        html.P(rag_badge("green", t("all_reconcile")) if broken.empty else
               rag_badge("red", t("some_do_not_reconcile").format(n=len(broken))),
               id="health-reconcile-state"),
        simple_table(cols, totals.to_dict("records"), "health-reconciliation", numeric=numeric,
                     render={k: fmt for k in numeric}),
        simple_table([("file_name", t("file")), *cols[2:6]], broken.to_dict("records"),
                     "health-unreconciled") if not broken.empty else None,
    ], className="card")


def _failing_text(failing) -> str:
    items = list(failing) if failing is not None and not is_missing(failing) else []
    return "; ".join(f"[{f['severity']}] {f['why']} ({f['unexpected_count'] or 0})"
                     for f in items[:4]) + (" …" if len(items) > 4 else "")


def checks_section() -> html.Section:
    """One row per GX suite of the latest run: passed, warning or error (blocking: its
    sources' KPIs were not published from that run)."""
    results = data.check_results()
    if results.empty:
        return html.Section([html.H3(t("check_results")), html.P(t("no_check_results"),
                             className="muted", id="health-checks")], className="card")
    records = []
    for r in results.to_dict("records"):
        error = None if is_missing(r["error"]) else r["error"]  # the suite could not run
        state = "red" if r["blocking_failed"] or error else ("green" if r["success"] else "amber")
        records.append({**r, "state": state, "failing_text": error or _failing_text(r["failing"])})
    state_text = {"red": t("check_error"), "amber": t("check_warning"), "green": t("check_passed")}
    return html.Section([
        html.H3(t("check_results")),
        html.Div(simple_table(
            [("suite", t("suite")), ("files", t("files")), ("state", t("status")),
             ("kpi_sources", t("kpi_sources")), ("failing_text", t("failing_expectations"))],
            records, "health-checks", numeric=("files",),
            render={"state": lambda s: rag_badge(s, state_text[s])},
            row_id=lambda r: {"type": "check-row", "suite": r["suite"]}), className="scroll"),
    ], className="card")


def alerts_section() -> html.Section:
    found = data.alerts()
    body = simple_table(
        [("at", t("alert_at")), ("kind", t("kind")), ("subject", t("alert_subject")),
         ("body", t("alert_body")), ("mailed", t("alert_mailed"))],
        [{**a, "mailed": t("yes") if a.get("mailed") else (a.get("mail_error") or t("no"))}
         for a in found], "health-alerts") if found else html.P(t("no_alerts"), className="muted",
                                                                 id="health-alerts")
    return html.Section([html.H3(t("alerts")), body], className="card")


def layout(**_):
    try:
        sections = [run_section(), alerts_section(), checks_section(), freshness_section(),
                    html.Div([rejected_files_section(), reconciliation_section()],
                             className="two-col"),
                    rejected_rows_section()]
    except NoBoardData:
        return html.Div([html.H2(t("nav_health")), run_section(), alerts_section(),
                         empty_state(t("no_board_data"))])
    return html.Div([html.H2(t("nav_health")), *sections])
