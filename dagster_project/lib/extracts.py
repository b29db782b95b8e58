"""The upstream extract interface (shared/spec/source-extracts.md) as data.

One registry drives file-name matching, header checks and the raw landing tables.
Types here are the spec's column types; the landing tables keep every value as text
(exactly as delivered) and the dbt staging models parse and validate them, so that the
acceptance rules live in SQL next to the KPI definitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

TEXT, ENUM, TIMESTAMP, DATE, MONTH, INTEGER, DECIMAL = (
    "text", "enum", "timestamp", "date", "month", "integer", "decimal",
)

# Bookkeeping columns every landing table carries besides the spec's columns.
FILE_COLUMN, FILE_DATE_COLUMN, LINE_COLUMN = "_file", "_file_date", "_line"


@dataclass(frozen=True)
class Entity:
    source: str  # crm, billing, cc, fo, net, ref
    name: str  # queue_ticket, ...
    kind: str  # daily, monthly, reference
    columns: tuple[tuple[str, str], ...]  # (column, spec type), in spec order
    key: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return f"{self.source}_{self.name}"

    @property
    def table(self) -> str:
        """Landing table in the warehouse (also the Dagster asset key)."""
        return f"raw_{self.prefix}"

    @property
    def encoding(self) -> str:
        return "gb18030" if self.source == "crm" else "utf-8"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(part.split(":")) for part in spec.split())  # type: ignore[misc]


ENTITIES: tuple[Entity, ...] = (
    Entity("crm", "queue_ticket", "daily", _cols(
        "ticket_id:text store_id:text business_type:enum taken_at:timestamp "
        "called_at:timestamp service_end_at:timestamp abandoned_at:timestamp "
        "status:enum updated_at:timestamp"), ("ticket_id",)),
    Entity("crm", "complaint", "daily", _cols(
        "complaint_id:text customer_id:text city_code:text channel:enum category:enum "
        "severity:enum summary:text created_at:timestamp closed_at:timestamp "
        "status:enum updated_at:timestamp"), ("complaint_id",)),
    Entity("crm", "survey", "daily", _cols(
        "survey_id:text contact_type:enum contact_id:text city_code:text sent_at:timestamp "
        "responded_at:timestamp score:integer updated_at:timestamp"), ("survey_id",)),
    Entity("crm", "subscriber", "monthly", _cols(
        "month:month city_code:text product:enum active_subscribers:integer"),
        ("month", "city_code", "product")),
    Entity("billing", "dispute", "daily", _cols(
        "dispute_id:text account_id:text city_code:text bill_month:month amount:decimal "
        "raised_at:timestamp resolved_at:timestamp outcome:enum status:enum "
        "updated_at:timestamp"), ("dispute_id",)),
    Entity("billing", "refund", "daily", _cols(
        "refund_id:text dispute_id:text account_id:text city_code:text amount:decimal "
        "requested_at:timestamp completed_at:timestamp status:enum updated_at:timestamp"),
        ("refund_id",)),
    Entity("billing", "bill_run", "monthly", _cols(
        "bill_month:month city_code:text bills_issued:integer"), ("bill_month", "city_code")),
    Entity("cc", "call", "daily", _cols(
        "call_id:text caller_id:text city_code:text arrived_at:timestamp "
        "ivr_exit_at:timestamp queue_entered_at:timestamp answered_at:timestamp "
        "ended_at:timestamp skill_group:enum agent_id:text transferred:integer"),
        ("call_id",)),
    Entity("fo", "work_order", "daily", _cols(
        "order_id:text order_type:enum line_id:text city_code:text district_code:text "
        "area_type:enum team_id:text technician_id:text created_at:timestamp "
        "promised_by:timestamp appointment_start:timestamp appointment_end:timestamp "
        "arrived_at:timestamp completed_at:timestamp status:enum fault_cause:enum "
        "updated_at:timestamp"), ("order_id",)),
    Entity("net", "speed_test", "daily", _cols(
        "test_id:text line_id:text city_code:text tested_at:timestamp method:enum "
        "subscribed_down_mbps:decimal measured_down_mbps:decimal "
        "measured_up_mbps:decimal"), ("test_id",)),
    Entity("ref", "city", "reference", _cols(
        "city_code:text city_name_zh:text city_name_en:text"), ("city_code",)),
    Entity("ref", "district", "reference", _cols(
        "district_code:text city_code:text district_name_zh:text area_type:enum"),
        ("district_code",)),
    Entity("ref", "store", "reference", _cols(
        "store_id:text store_name:text city_code:text district_code:text store_level:enum"),
        ("store_id",)),
    Entity("ref", "team", "reference", _cols(
        "team_id:text team_name:text city_code:text team_type:enum site_id:text"),
        ("team_id",)),
    Entity("ref", "agent", "reference", _cols("agent_id:text team_id:text"), ("agent_id",)),
)

ENTITY_BY_PREFIX = {e.prefix: e for e in ENTITIES}

_DAILY_RE = re.compile(r"^([a-z]+_[a-z_]+?)_([0-9]{8})\.csv$")
_MONTHLY_RE = re.compile(r"^([a-z]+_[a-z_]+?)_([0-9]{6})\.csv$")
_REF_RE = re.compile(r"^(ref_[a-z_]+)\.csv$")


@dataclass(frozen=True)
class InboxFile:
    """A file name matched to its entity; `business_date` is the first day for monthly files."""

    name: str
    entity: Entity
    business_date: date | None


def match_file_name(name: str) -> InboxFile | None:
    """Return what a file name declares, or None when it matches no pattern of the spec."""
    for pattern, kind in ((_DAILY_RE, "daily"), (_MONTHLY_RE, "monthly"), (_REF_RE, "reference")):
        m = pattern.match(name)
        if not m:
            continue
        entity = ENTITY_BY_PREFIX.get(m.group(1))
        if entity is None or entity.kind != kind:
            continue
        if kind == "reference":
            return InboxFile(name, entity, None)
        digits = m.group(2)
        try:
            day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]) if kind == "daily" else 1)
        except ValueError:
            return None
        return InboxFile(name, entity, day)
    return None
