"""Why a red value has an issue or none (closed-loop.md section 1, "Minimum volume"), and
the marks of low-volume values. Pure: the facts come from the published copy (breach
signals, low_volume, the KPI's complete days and T) and the issue store (the periods its
evidence holds); here they are only put in detection's order and told.

Detection looks at a red value in this order, and so does `judge`: a period whose signal is
evidence of an issue is linked to it; a month of a daily KPI is never judged (its days and
ISO weeks are); a period not yet complete is not judged yet; a low-volume period fires none
of R1-R3; a signal older than T minus the look-back opens no issue; a signal detection has
not acted on waits for the next run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from dash import dcc, html

ISSUE, NOT_JUDGED, NOT_COMPLETE, LOW_VOLUME, TOO_OLD, PENDING, NO_SIGNAL = (
    "issue", "not_judged", "not_complete", "low_volume", "too_old", "pending", "no_signal")


@dataclass(frozen=True)
class DetectionFacts:
    """What detection knew about one KPI, for every red value of its page.

    signalled: (region, period type, period start) of its R1-R3 signals; evidence: the same
    key -> the issue holding it; complete_through: its last complete day; oldest_day: the
    first breach day that still opens an issue (T - look-back days); lookback_days: the
    setting, for the text."""

    grain: str
    signalled: frozenset
    evidence: dict
    complete_through: date | None
    oldest_day: date | None
    lookback_days: int


@dataclass(frozen=True)
class Judgement:
    reason: str
    issue_id: int | None = None
    n: int | None = None
    min_volume: int | None = None
    week_issue_id: int | None = None  # a low-volume day whose ISO week is an issue's evidence
    oldest_day: date | None = None
    lookback_days: int | None = None


def is_missing(value) -> bool:
    """None, NaN, NaT or pd.NA."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def period_end(period_type: str, start: date) -> date:
    """The last day of the period (a signal's breach day)."""
    if period_type == "week":
        return start + timedelta(days=6)
    if period_type == "month":
        following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - timedelta(days=1)
    return start


def _int(value) -> int | None:
    return None if is_missing(value) else int(value)


def judge(facts: DetectionFacts, region: str, period_type: str, start: date, status: str,
          low_volume: bool, denominator=None, min_volume=None) -> Judgement | None:
    """Why the red value of (region, period) has an issue or none; None for other statuses."""
    if status != "red":
        return None
    key = (region, period_type, start)
    if key in facts.evidence:
        return Judgement(ISSUE, issue_id=facts.evidence[key])
    if facts.grain == "day" and period_type == "month":
        return Judgement(NOT_JUDGED)
    if facts.complete_through is None or period_end(period_type, start) > facts.complete_through:
        return Judgement(NOT_COMPLETE)
    if low_volume:
        week = facts.evidence.get((region, "week", start - timedelta(days=start.weekday()))) \
            if period_type == "day" else None
        return Judgement(LOW_VOLUME, n=_int(denominator), min_volume=_int(min_volume),
                         week_issue_id=week)
    if key not in facts.signalled:
        return Judgement(NO_SIGNAL)
    if facts.oldest_day is not None and period_end(period_type, start) < facts.oldest_day:
        return Judgement(TOO_OLD, oldest_day=facts.oldest_day,
                         lookback_days=facts.lookback_days)
    return Judgement(PENDING)


def issue_href(issue_id: int) -> str:
    return f"/issues/{issue_id}"


def reason_text(judgement: Judgement, texts: dict[str, str]) -> str:
    """The judgement in words (texts: the page's translations, keys no_issue_<reason>)."""
    return texts[f"no_issue_{judgement.reason}"].format(
        issue=judgement.issue_id, n="?" if judgement.n is None else judgement.n,
        min_volume="?" if judgement.min_volume is None else judgement.min_volume,
        oldest=judgement.oldest_day, days=judgement.lookback_days)


def reason_mark(judgement: Judgement | None, texts: dict[str, str]):
    """Beside a red value: a link to its issue, or why there is none (None when not red)."""
    if judgement is None:
        return None
    attrs = {"data-reason": judgement.reason}
    if judgement.reason == ISSUE:
        return html.Span(dcc.Link(reason_text(judgement, texts),
                                  href=issue_href(judgement.issue_id)),
                         className="issue-reason", **attrs,
                         **{"data-issue": str(judgement.issue_id)})
    parts: list = [reason_text(judgement, texts)]
    if judgement.week_issue_id is not None:
        parts += ["; ", html.Span(dcc.Link(texts["no_issue_week_issue"].format(
            issue=judgement.week_issue_id), href=issue_href(judgement.week_issue_id)),
            **{"data-week-issue": str(judgement.week_issue_id)})]
    return html.Span(parts, className="issue-reason no-issue", **attrs)


def low_volume_label(n, texts: dict[str, str]) -> str:
    return texts["low_volume_mark"].format(n="?" if is_missing(n) else int(n))


def low_volume_mark(low_volume: bool, n, min_volume, texts: dict[str, str]):
    """'low volume (n=3)' beside a table value whose denominator is below min_volume."""
    if not low_volume:
        return None
    return html.Span(low_volume_label(n, texts), className="low-volume",
                     title=texts["low_volume_title"].format(
                         n="?" if is_missing(n) else int(n),
                         min_volume="?" if is_missing(min_volume) else int(min_volume)),
                     **{"data-n": "" if is_missing(n) else str(int(n)),
                        "data-min-volume": "" if is_missing(min_volume) else str(int(min_volume))})
