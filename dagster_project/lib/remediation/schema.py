"""The issue store's tables (SQLAlchemy Core). Alembic migrations create and change them.

Timestamps are naive local time (Asia/Shanghai), like every timestamp of the warehouse.
"""

from __future__ import annotations

import sqlalchemy as sa

ACTIVE_STATES = ("open", "acknowledged", "in_progress", "verifying", "verified", "reopened")
FINAL_STATES = ("closed", "cancelled")

metadata = sa.MetaData()

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
)

issues = sa.Table(
    "issues", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kpi_code", sa.String(8), nullable=False),
    sa.Column("region_code", sa.String(8), nullable=False),
    sa.Column("owner_department", sa.String(32), nullable=False),
    sa.Column("severity", sa.String(2), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),  # detection | promoted
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
)
# One active issue per KPI and region, enforced by the database too (several writers).
sa.Index(
    "uq_issues_active_kpi_region", issues.c.kpi_code, issues.c.region_code, unique=True,
    sqlite_where=issues.c.state.in_(ACTIVE_STATES),
    postgresql_where=issues.c.state.in_(ACTIVE_STATES),
)

issue_events = sa.Table(
    "issue_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),  # a user name, or "system"
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(16)),
    sa.Column("to_state", sa.String(16)),
    sa.Column("changes", sa.Text, nullable=False),  # JSON: field -> new value
    sa.Column("comment", sa.Text),
    sa.UniqueConstraint("issue_id", "seq", name="uq_issue_events_issue_seq"),
)

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
    sa.UniqueConstraint("kpi_code", "region_code", "rule", "period_start",
                        name="uq_issue_evidence_signal"),
)

# Failed board logins, for throttling (migration 0002).
login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("remote_addr", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)
