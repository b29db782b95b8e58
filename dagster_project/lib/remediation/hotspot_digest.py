"""The hotspots of the week in each department's closure list: a short section of the mail
and a sheet "本周热点" in the workbook (the CSV keeps the spec's issue columns only).

The week is the 7 complete days up to the warehouse's latest one (T - 1): on the Monday
08:00 schedule, after the 06:00 run, Monday to Sunday. A department's hotspots are those
of the categories it owns (seed hotspot_owners). One mail line per series (category,
channel, region): its most surprising day, how many days of the week it was a hotspot,
and the launched changes it may come from.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill

from ..settings import Settings
from ..warehouse import connect
from .hotspots import Hotspot, read_hotspots, series_name

WEEK_DAYS = 7
MAIL_LINES = 10  # the mail lists the most surprising series; the sheet has every day
SHEET_TITLE = "本周热点"
HEADER_FILL = "FFBDD7EE"
SHEET_COLUMNS = (
    ("day", "日期", "Day", 12), ("region", "区域", "Region", 8),
    ("series_zh", "热点", "Hotspot (Chinese)", 30), ("series_en", "热点(英文)", "Hotspot", 36),
    ("observed", "实际量", "Observed", 10), ("expected", "预期量", "Expected", 10),
    ("ratio", "倍数", "Ratio", 8), ("score", "异常分", "Score", 8),
    ("started_on", "起始日", "Since", 12), ("changes", "关联变更", "Changes", 14),
)


@dataclass
class WeekHotspots:
    first: date | None = None
    last: date | None = None
    by_department: dict[str, list[Hotspot]] = field(default_factory=dict)

    def of(self, department: str) -> list[Hotspot]:
        return self.by_department.get(department, [])

    @property
    def period(self) -> str:
        return f"{self.first} … {self.last}" if self.first else "—"


def read_week_hotspots(settings: Settings) -> WeekHotspots:
    """The hotspots of the last 7 complete days by owner department; empty when the
    warehouse cannot be read (none yet, a run holds it, built before the hotspot marts):
    the lists then go out without them rather than fail."""
    try:
        con = connect(settings.warehouse, read_only=True)
    except duckdb.Error:
        return WeekHotspots()
    try:
        row = con.execute("select report_date from int_as_of").fetchone()
        if row is None:
            return WeekHotspots()
        last = row[0]
        first = last - timedelta(days=WEEK_DAYS - 1)
        week = WeekHotspots(first, last)
        for hotspot in read_hotspots(con, first, last):
            week.by_department.setdefault(hotspot.owner_department, []).append(hotspot)
        return week
    except duckdb.Error:
        return WeekHotspots()
    finally:
        con.close()


@dataclass(frozen=True)
class SeriesOfTheWeek:
    peak: Hotspot  # the most surprising day
    days: int
    changes: tuple[int, ...]


def by_series(hotspots: Sequence[Hotspot]) -> list[SeriesOfTheWeek]:
    """One entry per series, most surprising first."""
    grouped: dict[tuple, list[Hotspot]] = {}
    for h in hotspots:
        grouped.setdefault((h.source, h.category, h.channel, h.region), []).append(h)
    entries = [SeriesOfTheWeek(max(days, key=lambda h: (h.score, h.day)), len(days),
                               tuple(sorted({c for h in days for c in h.changes})))
               for days in grouped.values()]
    return sorted(entries, key=lambda e: (-e.peak.score, e.peak.region))


def mail_section(week: WeekHotspots, department: str) -> list[str]:
    """The lines of the mail's hotspot section (Chinese and English, like the body)."""
    hotspots = week.of(department)
    if week.first is None:
        return []
    series = by_series(hotspots)
    lines = [f"本周热点 Hotspots of the week ({week.period}): "
             + (f"{len(series)} 项 series, {len(hotspots)} 天次 hotspot days" if series
                else "无 none")]
    for entry in series[:MAIL_LINES]:
        h = entry.peak
        changes = "".join(f"，变更 change #{c}" for c in entry.changes)
        lines.append(
            f"  {h.day} {h.region} {series_name(h.source, h.category, h.channel, 'zh')} "
            f"{series_name(h.source, h.category, h.channel, 'en')}: {h.observed} "
            f"(预期 expected {h.expected:.1f}), 异常分 score {h.score:.1f}"
            + (f", {entry.days} 天 days" if entry.days > 1 else "") + changes)
    if len(series) > MAIL_LINES:
        lines.append(f"  … 另有 {len(series) - MAIL_LINES} 项 more (附件“{SHEET_TITLE}”页 "
                     f"the workbook's {SHEET_TITLE} sheet)")
    if series:
        lines.append("  看板“热点”页可查看趋势与投诉明细 The board's Hotspots page shows "
                     "their trends and complaints.")
    return lines + [""]


def _sheet_row(h: Hotspot) -> dict[str, object]:
    return {"day": h.day, "region": h.region,
            "series_zh": series_name(h.source, h.category, h.channel, "zh"),
            "series_en": series_name(h.source, h.category, h.channel, "en"),
            "observed": h.observed, "expected": h.expected, "ratio": h.ratio, "score": h.score,
            "started_on": h.started_on, "changes": ", ".join(f"#{c}" for c in h.changes)}


def add_week_sheet(xlsx: Path, week: WeekHotspots, department: str) -> None:
    """A sheet of the department's hotspot days of the week in its closure-list workbook,
    replaced atomically (the mailer attaches the file after this)."""
    if week.first is None:
        return
    workbook = load_workbook(xlsx)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.cell(1, 1, f"本周热点 Hotspots of the week — {department} — {week.period}").font = \
        Font(bold=True, size=13)
    for col, (_key, zh, en, width) in enumerate(SHEET_COLUMNS, start=1):
        for row, text in ((2, zh), (3, en)):
            cell = sheet.cell(row, col, text)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        sheet.column_dimensions[cell.column_letter].width = width
    for row, hotspot in enumerate(week.of(department), start=4):
        values = _sheet_row(hotspot)
        for col, (key, *_rest) in enumerate(SHEET_COLUMNS, start=1):
            cell = sheet.cell(row, col, values[key])
            if isinstance(values[key], date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A4"
    fd, name = tempfile.mkstemp(dir=xlsx.parent, prefix=f".{xlsx.name}.", suffix=".tmp")
    os.close(fd)
    try:
        workbook.save(name)
        os.chmod(name, 0o644)
        os.replace(name, xlsx)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def add_week_sheets(files: Sequence, week: WeekHotspots) -> None:
    for listed in files:
        add_week_sheet(listed.xlsx, week, listed.department_code)


def mail_sections(files: Sequence, week: WeekHotspots) -> Mapping[str, list[str]]:
    """Each listed department's section, by department code."""
    return {listed.department_code: mail_section(week, listed.department_code)
            for listed in files}
