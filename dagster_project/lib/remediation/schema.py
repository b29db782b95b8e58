"""The issue store's tables (SQLAlchemy Core). Alembic migrations create and change them.

Timestamps are naive local time (Asia/Shanghai), like every timestamp of the warehouse.
"""

from __future__ import annotations

import sqlalchemy as sa

ACTIVE_STATES = ("open", "acknowledged", "in_progress", "verifying", "verified", "reopened")
FINAL_STATES = ("closed", "cancelled")

metadata = sa.MetaData()


def _event_table(name: str, key: sa.Column, unique_name: str) -> sa.Table:
    """An audit trail: the events of one kind of record, numbered per record (`seq`)."""
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        key,
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),  # a user name, "system" or "cli:..."
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("changes", sa.Text, nullable=False),  # JSON: field -> new value
        sa.Column("comment", sa.Text),
        sa.UniqueConstraint(key.name, "seq", name=unique_name),
    )


users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("department_code", sa.String(32)),
    sa.Column("email", sa.String(256)),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # A disabled user can neither log in nor act (migration 0004).
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

issues = sa.Table(
    "issues", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kpi_code", sa.String(8), nullable=False),
    sa.Column("region_code", sa.String(8), nullable=False),
    sa.Column("owner_department", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(2), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),  # detection | promoted | veto
    sa.Column("opened_at", sa.DateTime, nullable=False),
    # Deadlines count from the opening, or from the latest reopening.
    sa.Column("step_started_at", sa.DateTime, nullable=False),
    sa.Column("acknowledged_at", sa.DateTime),
    sa.Column("responsible", sa.String(128)),
    sa.Column("planned_at", sa.DateTime),
    sa.Column("root_cause_category", sa.String(16)),
    sa.Column("root_cause", sa.Text),
    sa.Column("corrective_actions", sa.Text),
    sa.Column("target_date", sa.Date),
    sa.Column("fix_claimed_at", sa.DateTime),
    sa.Column("fix_date", sa.Date),
    sa.Column("fix_note", sa.Text),
    sa.Column("verification_days", sa.Integer),
    sa.Column("verified_at", sa.DateTime),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("sign_off_comment", sa.Text),
    sa.Column("cancelled_at", sa.DateTime),
    sa.Column("cancel_reason", sa.String(16)),
    sa.Column("cancel_note", sa.Text),
    sa.Column("reopen_count", sa.Integer, nullable=False),
    sa.Column("reopened_at", sa.DateTime),
    # Steps completed after their deadline (an issue meets every deadline when 0 and
    # its current step is not past due).
    sa.Column("missed_deadlines", sa.Integer, nullable=False),
    sa.Column("evidence_count", sa.Integer, nullable=False),
    sa.Column("last_breach_day", sa.Date),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    # The change whose pre-launch veto opened this issue (origin "veto"); None for KPI
    # breaches (migration 0003, added last so the earlier columns keep their order).
    sa.Column("change_id", sa.Integer),  # indexed: ix_issues_change
)
# One active breach issue per KPI and region, enforced by the database too (several
# writers). Veto issues (change_id set) are not breaches and stay out of it.
_BREACH_ACTIVE = sa.and_(issues.c.state.in_(ACTIVE_STATES), issues.c.change_id.is_(None))
sa.Index(
    "uq_issues_active_kpi_region", issues.c.kpi_code, issues.c.region_code, unique=True,
    sqlite_where=_BREACH_ACTIVE, postgresql_where=_BREACH_ACTIVE,
)

issue_events = _event_table(
    "issue_events", sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    "uq_issue_events_issue_seq")

issue_evidence = sa.Table(
    "issue_evidence", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    sa.Column("kpi_code", sa.String(8), nullable=False),
    sa.Column("region_code", sa.String(8), nullable=False),
    sa.Column("rule", sa.String(4), nullable=False),
    sa.Column("severity", sa.String(2), nullable=False),
    sa.Column("period_type", sa.String(8), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("status", sa.String(8)),
    sa.Column("value", sa.Float),
    sa.Column("numerator", sa.BigInteger),
    sa.Column("denominator", sa.BigInteger),
    sa.Column("detail", sa.Text),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    # A signal is acted on once, ever: this is what makes detection idempotent.
    sa.UniqueConstraint("kpi_code", "region_code", "rule", "period_type", "period_start",
                        name="uq_issue_evidence_signal"),
)

# Failed board logins per user name and client address, for throttling (migration 0004):
# the failures counted since `window_start`; a successful login removes the row.
login_throttle = sa.Table(
    "login_throttle", metadata,
    sa.Column("user_name", sa.String(64), primary_key=True),
    sa.Column("remote_addr", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start", sa.DateTime, nullable=False),
)

# Board sessions (migration 0004): the signed cookie carries only `id`; logging out,
# a password reset, disabling a user or changing their role deletes the rows.
board_sessions = sa.Table(
    "board_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
)

# User administration's audit trail (migration 0004), like issue_events.
user_events = _event_table(
    "user_events", sa.Column("user_name", sa.String(64), nullable=False),
    "uq_user_events_user_seq")

# The audit trail: rows are appended, never changed or removed; the database refuses
# UPDATE and DELETE on these tables (triggers of migration 0004).
EVENT_TABLES = ("issue_events", "change_events", "user_events")

# -- the change register (migration 0003) -------------------------------------------------

CHANGE_TYPES = ("product", "tariff", "billing_rule", "network_cutover", "it_release")
CHANGE_STATES = ("registered", "passed", "vetoed", "launched", "cancelled")

changes = sa.Table(
    "changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("change_type", sa.String(16), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("owner_department", sa.String(32), nullable=False),
    sa.Column("planned_launch_date", sa.Date, nullable=False),
    sa.Column("launched_on", sa.Date),
    sa.Column("state", sa.String(16), nullable=False),
    # The latest experience test (前置体验): pass | veto, why, by whom, when.
    sa.Column("test_result", sa.String(8)),
    sa.Column("test_reason", sa.Text),
    sa.Column("tested_by", sa.String(64)),
    sa.Column("tested_at", sa.DateTime),
    sa.Column("cancelled_at", sa.DateTime),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("registered_by", sa.String(64), nullable=False),
    sa.Column("registered_at", sa.DateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

# The KPIs x regions (a city code, or JS) a change may affect.
change_scopes = sa.Table(
    "change_scopes", metadata,
    sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id"), primary_key=True),
    sa.Column("kpi_code", sa.String(8), primary_key=True),
    sa.Column("region_code", sa.String(8), primary_key=True),
)

change_events = _event_table(
    "change_events",
    sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id"), nullable=False),
    "uq_change_events_change_seq")
