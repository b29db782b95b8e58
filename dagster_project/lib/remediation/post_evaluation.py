"""Acting on the post-evaluation of launched changes (后评估).

dbt computes the verdicts (fct_change_post_evaluation); this step, run after it:

1. turns every `worse` row into a breach signal of rule PE for the workflow service, so the
   loop's own rules apply: one active issue per KPI and region (a PE breach on a KPI and
   region that already has an active issue is added to it as evidence), a signal is acted
   on once, ever (the evidence key), breaches older than the detection look-back open
   nothing;
2. sends every new or changed verdict (not `pending`) to the change's owner department: a
   CSV and a workbook per department in <home>/exports/post_evaluation/, e-mailed to the
   department owners when SMTP is configured. A verdict is sent once: what was sent is kept
   in the warehouse table `rem_post_evaluations` (with the issue a worse row opened, which
   the board links to). A department whose e-mail failed is not marked: its rows go again
   with the next run.

Rows are changes x KPIs x regions (tens, not millions): the Python loops here are over
those, the facts are summed in dbt.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..csv_cells import neutralise
from ..settings import Settings
from ..warehouse import connect
from . import warehouse_io
from .closure_list import _atomic_target
from .mailer import DeliveryResult, SmtpConfig, describe_error, send_mail
from .reference import departments, kpi_catalog
from .schema import issue_evidence
from .workflow import DetectionOutcome, Signal, Workflow

MART = "fct_change_post_evaluation"
# The action step's own table in the warehouse: per change x KPI x region, the issue its
# worse verdict opened (or added evidence to) and the verdict last sent to the department.
LOG_TABLE = "rem_post_evaluations"
LOG_DDL = f"""
create table if not exists {LOG_TABLE} (
    change_id bigint not null,
    kpi_code varchar not null,
    region_code varchar not null,
    issue_id bigint,                 -- the issue holding the PE evidence of a worse verdict
    notified_verdict varchar,        -- the verdict last sent to the owner department
    notified_at timestamp,
    notified_file varchar,           -- the CSV it was sent in
    mailed boolean,                  -- e-mailed (false: SMTP not configured, file only)
    primary key (change_id, kpi_code, region_code)
)
"""

RULE = "PE"
# A launched change that made a KPI significantly worse is a confirmed degradation with a
# known cause: as serious as a red day (R1, P2), not a province-wide alarm (R2, P1).
SEVERITY = "P2"
FINAL_VERDICTS = ("improved", "no_change", "worse", "no_data")

# (key, Chinese header, English header) of the department files, in order.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("change_id", "变更编号", "Change ID"),
    ("title", "变更名称", "Change"),
    ("change_type", "变更类型", "Change type"),
    ("owner_department", "责任部门", "Owner department"),
    ("launched_on", "上线日期", "Launched on"),
    ("kpi_code", "指标编码", "KPI code"),
    ("kpi_name_zh", "指标名称", "KPI name (Chinese)"),
    ("kpi_name_en", "指标名称(英文)", "KPI name"),
    ("region_code", "区域编码", "Region"),
    ("before_start", "上线前起", "Before from"),
    ("before_end", "上线前止", "Before to"),
    ("before_numerator", "上线前分子", "Before numerator"),
    ("before_denominator", "上线前分母", "Before denominator"),
    ("before_value", "上线前值", "Before value"),
    ("after_start", "上线后起", "After from"),
    ("after_end", "上线后止", "After to"),
    ("after_numerator", "上线后分子", "After numerator"),
    ("after_denominator", "上线后分母", "After denominator"),
    ("after_value", "上线后值", "After value"),
    ("difference", "差值", "Difference"),
    ("rate_ratio", "率比", "Rate ratio"),
    ("test_method", "检验方法", "Test"),
    ("z_statistic", "检验统计量z", "z"),
    ("p_value", "p值", "p-value"),
    ("significance_level", "显著性水平", "Significance level"),
    ("verdict", "结论", "Verdict"),
    ("previous_verdict", "上次结论", "Previous verdict"),
    ("issue_id", "问题编号", "Issue ID"),
)
COLUMN_KEYS = tuple(key for key, _, _ in COLUMNS)
NO_RECIPIENTS = "no recipients"
VERDICT_FILL = {"worse": "FFFFC7CE", "improved": "FFC6EFCE"}


@dataclass(frozen=True)
class DepartmentFiles:
    department_code: str
    csv: Path
    xlsx: Path
    rows: int
    worse: int


@dataclass
class PostEvaluationRun:
    worse_signals: int = 0
    detection: DetectionOutcome = field(default_factory=DetectionOutcome)
    notified: int = 0
    files: list[DepartmentFiles] = field(default_factory=list)
    deliveries: list[DeliveryResult] = field(default_factory=list)


# --------------------------------------------------------------------------- warehouse


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
          ) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def read_worse_signals(con: duckdb.DuckDBPyConnection) -> list[Signal]:
    """One PE signal per worse row. The breach day is the after window's last day (the day
    the evidence became complete), so the detection look-back counts from there; two changes
    launched the same day on the same KPI and region have the same windows and numbers, and
    are one breach."""
    rows = _rows(con, f"""
        select kpi_code, region_code, after_end, after_value, after_numerator,
               after_denominator, change_id, title, owner_department, launched_on,
               window_days, before_value, z_statistic, p_value
        from {MART}
        where verdict = 'worse'
        order by after_end, kpi_code, region_code, change_id
    """)
    return [Signal(
        kpi_code=r["kpi_code"], region_code=r["region_code"], rule=RULE, severity=SEVERITY,
        period_type="day", period_start=r["after_end"], status=None, value=r["after_value"],
        numerator=round(r["after_numerator"]), denominator=round(r["after_denominator"]),
        detail=(f"change {r['change_id']} {r['title']} ({r['owner_department']}) launched "
                f"{r['launched_on']}: {r['window_days']} days before {_fmt(r['before_value'])}"
                f" -> after {_fmt(r['after_value'])}, z = {r['z_statistic']}, "
                f"p = {r['p_value']}"),
    ) for r in rows]


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _issue_ids(workflow: Workflow, signals: Sequence[Signal]) -> dict[tuple, int]:
    """Evidence key -> the issue holding that PE evidence (absent when none opened, e.g. a
    breach older than the look-back)."""
    if not signals:
        return {}
    return {(k, r, RULE, d): issue_id for (k, r, d), issue_id in worse_verdict_issues(workflow).items()}


def worse_verdict_issues(workflow: Workflow) -> dict[tuple[str, str, date], int]:
    """(KPI, region, after window's last day) -> the issue holding the PE evidence of that
    worse verdict, from the issue store (the board links a verdict to its issue by it)."""
    with workflow.store.begin_read() as conn:
        found = conn.execute(
            sa.select(issue_evidence.c.kpi_code, issue_evidence.c.region_code,
                      issue_evidence.c.period_start, issue_evidence.c.issue_id)
            .where(issue_evidence.c.rule == RULE)).all()
    return {(k, r, d): issue_id for k, r, d, issue_id in found}


def _record_issue_links(con: duckdb.DuckDBPyConnection, links: list[tuple]) -> None:
    if links:
        con.executemany(f"""
            insert into {LOG_TABLE} (change_id, kpi_code, region_code, issue_id)
            values (?, ?, ?, ?)
            on conflict (change_id, kpi_code, region_code)
            do update set issue_id = excluded.issue_id
        """, links)


def unsent_verdicts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Rows whose (final) verdict differs from the one last sent: new or changed."""
    return _rows(con, f"""
        select m.*, l.notified_verdict as previous_verdict, l.issue_id
        from {MART} as m
        left join {LOG_TABLE} as l using (change_id, kpi_code, region_code)
        where m.verdict in {FINAL_VERDICTS}
          and l.notified_verdict is distinct from m.verdict
        order by m.owner_department, m.change_id, m.kpi_code, m.region_code
    """)


def _mark_sent(con: duckdb.DuckDBPyConnection, rows: Sequence[Mapping[str, Any]],
               files: DepartmentFiles, mailed: bool, now: datetime) -> None:
    con.executemany(f"""
        insert into {LOG_TABLE} (change_id, kpi_code, region_code, notified_verdict,
                                 notified_at, notified_file, mailed)
        values (?, ?, ?, ?, ?, ?, ?)
        on conflict (change_id, kpi_code, region_code) do update set
            notified_verdict = excluded.notified_verdict, notified_at = excluded.notified_at,
            notified_file = excluded.notified_file, mailed = excluded.mailed
    """, [(r["change_id"], r["kpi_code"], r["region_code"], r["verdict"], now,
           files.csv.name, mailed) for r in rows])


# --------------------------------------------------------------------------- files


def _cell(row: Mapping[str, Any], key: str) -> Any:
    if key in ("kpi_name_zh", "kpi_name_en"):
        kpi = kpi_catalog()[row["kpi_code"]]
        return kpi.name_zh if key == "kpi_name_zh" else kpi.name_en
    return row.get(key)


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def file_stem(department_code: str, now: datetime) -> str:
    # a timestamp, not a date: two runs on one day send different rows
    return f"post_evaluation_{department_code}_{now:%Y%m%d_%H%M%S}"


def write_department_files(rows: Sequence[Mapping[str, Any]], department_code: str,
                           out_dir: Path, now: datetime) -> DepartmentFiles:
    """CSV (UTF-8 with BOM, snake_case header, like the closure lists) and a workbook with
    Chinese and English headers, worse rows red and improved rows green."""
    stem = file_stem(department_code, now)
    csv_path, xlsx_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.xlsx"
    with _atomic_target(csv_path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMN_KEYS)
            for row in rows:
                writer.writerow([_csv_text(neutralise(_cell(row, key))) for key in COLUMN_KEYS])
    wb = Workbook()
    ws = wb.active
    ws.title = "后评估"
    dept = departments()[department_code]
    ws.cell(1, 1, f"变更后评估 Post-evaluation of changes — {dept.name_zh} {dept.name_en} "
                  f"({department_code}) · {now:%Y-%m-%d %H:%M}").font = Font(bold=True, size=13)
    for col, (_, zh, en) in enumerate(COLUMNS, start=1):
        ws.cell(2, col, zh).font = Font(bold=True)
        ws.cell(3, col, en).font = Font(bold=True)
    for index, row in enumerate(rows, start=4):
        fill = VERDICT_FILL.get(row["verdict"])
        for col, key in enumerate(COLUMN_KEYS, start=1):
            cell = ws.cell(index, col)
            value = _cell(row, key)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # a title starting with "=" stays text
            if fill:
                cell.fill = PatternFill("solid", fgColor=fill)
    ws.freeze_panes = "B4"
    with _atomic_target(xlsx_path) as tmp:
        wb.save(tmp)
    return DepartmentFiles(department_code, csv_path, xlsx_path, len(rows),
                           sum(r["verdict"] == "worse" for r in rows))


# --------------------------------------------------------------------------- mail


def mail_subject(department_code: str, now: datetime) -> str:
    return f"变更后评估 Post-evaluation of changes {department_code} {now:%Y-%m-%d}"


def mail_body(files: DepartmentFiles, rows: Sequence[Mapping[str, Any]]) -> str:
    counts = defaultdict(int)
    for row in rows:
        counts[row["verdict"]] += 1
    lines = [f"变更后评估 Post-evaluation of launched changes — {files.department_code}", "",
             f"新的或变化的结论 New or changed verdicts: {files.rows}",
             *(f"  {verdict}: {counts[verdict]}" for verdict in FINAL_VERDICTS if counts[verdict]),
             ""]
    for row in rows:
        if row["verdict"] == "worse":
            issue = f", issue {row['issue_id']}" if row.get("issue_id") else ""
            lines.append(f"变差 WORSE: change {row['change_id']} {row['title']} — "
                         f"{row['kpi_code']} {row['region_code']}: {_fmt(row['before_value'])} -> "
                         f"{_fmt(row['after_value'])} (p = {row['p_value']}){issue}")
    lines += ["", f"附件 Attachment: {files.xlsx.name}", "", "— QualityLoop"]
    return "\n".join(lines)


def _deliver(config: SmtpConfig, files: DepartmentFiles, rows: Sequence[Mapping[str, Any]],
             recipients: Sequence[str], now: datetime) -> DeliveryResult:
    to = tuple(a.strip() for a in recipients if a and a.strip())
    if not to:
        return DeliveryResult(files.department_code, to, False, NO_RECIPIENTS)
    try:
        send_mail(config, to, mail_subject(files.department_code, now), mail_body(files, rows),
                  (files.xlsx,))
    except Exception as exc:  # noqa: BLE001 - one department's failure is its own result
        return DeliveryResult(files.department_code, to, False, describe_error(exc, config))
    return DeliveryResult(files.department_code, to, True, None)


# --------------------------------------------------------------------------- the step


def _check_departments(rows: Sequence[Mapping[str, Any]]) -> None:
    unknown = sorted({r["owner_department"] for r in rows} - set(departments()))
    if unknown:
        raise ValueError(f"post-evaluation rows for unknown owner department(s): "
                         f"{', '.join(unknown)}; nothing was sent and no issue opened")


def act_on_post_evaluations(settings: Settings, workflow: Workflow, send: bool = True,
                            out_dir: Path | None = None) -> PostEvaluationRun:
    """Open issues for worse verdicts, send new or changed verdicts; see the module doc."""
    run = PostEvaluationRun()
    con = connect(settings.warehouse)
    try:
        con.execute(LOG_DDL)
        as_of = warehouse_io.as_of(con)
        if as_of is None:
            return run
        unsent = unsent_verdicts(con)
        _check_departments(unsent)  # before anything is opened or written
        signals = read_worse_signals(con)
        run.worse_signals = len(signals)
        run.detection = workflow.apply_signals(signals, as_of)
        links = _issue_ids(workflow, signals)
        worse = _rows(con, f"select change_id, kpi_code, region_code, after_end from {MART} "
                           "where verdict = 'worse'")
        _record_issue_links(con, [
            (r["change_id"], r["kpi_code"], r["region_code"],
             links.get((r["kpi_code"], r["region_code"], RULE, r["after_end"])))
            for r in worse])
        unsent = unsent_verdicts(con)  # again: now with the issue ids
        now = workflow.now()
        config = SmtpConfig.from_env() if send else None
        recipients = workflow.recipients() if config is not None else {}
        by_department: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in unsent:
            by_department[row["owner_department"]].append(row)
        target = out_dir or settings.exports / "post_evaluation"
        for code, rows in sorted(by_department.items()):
            files = write_department_files(rows, code, target, now)
            run.files.append(files)
            mailed = False
            if config is not None:
                delivery = _deliver(config, files, rows, recipients.get(code, ()), now)
                run.deliveries.append(delivery)
                if not delivery.ok and delivery.error != NO_RECIPIENTS:
                    continue  # not marked: the rows go again with the next run
                # no department owner with an e-mail address: the file is the delivery
                mailed = delivery.ok
            _mark_sent(con, rows, files, mailed, now)
            run.notified += len(rows)
    finally:
        con.close()
    return run
