"""The issue store: users, issues, their events and evidence.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE_STATES = ("open", "acknowledged", "in_progress", "verifying", "verified", "reopened")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("department_code", sa.String(32)),
        sa.Column("email", sa.String(256)),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kpi_code", sa.String(8), nullable=False),
        sa.Column("region_code", sa.String(8), nullable=False),
        sa.Column("owner_department", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
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
        sa.Column("missed_deadlines", sa.Integer, nullable=False),
        sa.Column("evidence_count", sa.Integer, nullable=False),
        sa.Column("last_breach_day", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    active = sa.column("state").in_(ACTIVE_STATES)
    op.create_index("uq_issues_active_kpi_region", "issues", ["kpi_code", "region_code"],
                    unique=True, sqlite_where=active, postgresql_where=active)
    op.create_table(
        "issue_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_id", sa.Integer, sa.ForeignKey("issues.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.UniqueConstraint("issue_id", "seq", name="uq_issue_events_issue_seq"),
    )
    op.create_table(
        "issue_evidence",
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
        sa.UniqueConstraint("kpi_code", "region_code", "rule", "period_start",
                            name="uq_issue_evidence_signal"),
    )
    op.create_index("ix_issue_events_issue", "issue_events", ["issue_id"])
    op.create_index("ix_issue_evidence_issue", "issue_evidence", ["issue_id"])


def downgrade() -> None:
    for table in ("issue_evidence", "issue_events", "issues", "users"):
        op.drop_table(table)
