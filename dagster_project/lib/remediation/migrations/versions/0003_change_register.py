"""The change register: changes, the KPIs x regions each may affect, their events;
and the link from an issue to the change whose pre-launch veto opened it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE_STATES = ("open", "acknowledged", "in_progress", "verifying", "verified", "reopened")


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("change_type", sa.String(16), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("owner_department", sa.String(32), nullable=False),
        sa.Column("planned_launch_date", sa.Date, nullable=False),
        sa.Column("launched_on", sa.Date),
        sa.Column("state", sa.String(16), nullable=False),
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
    op.create_table(
        "change_scopes",
        sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id"), primary_key=True),
        sa.Column("kpi_code", sa.String(8), primary_key=True),
        sa.Column("region_code", sa.String(8), primary_key=True),
    )
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("changes.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.UniqueConstraint("change_id", "seq", name="uq_change_events_change_seq"),
    )
    op.create_index("ix_change_events_change", "change_events", ["change_id"])
    # A plain integer: SQLite cannot add a foreign key to an existing table without
    # rebuilding it; the workflow service is the only writer of the link.
    op.add_column("issues", sa.Column("change_id", sa.Integer))
    op.create_index("ix_issues_change", "issues", ["change_id"])
    # A veto issue is not a KPI breach: "one active issue per KPI and region" is about
    # breach issues only, so the index leaves change-linked issues out.
    op.drop_index("uq_issues_active_kpi_region", table_name="issues")
    breach = sa.and_(sa.column("state").in_(ACTIVE_STATES), sa.column("change_id").is_(None))
    op.create_index("uq_issues_active_kpi_region", "issues", ["kpi_code", "region_code"],
                    unique=True, sqlite_where=breach, postgresql_where=breach)


def downgrade() -> None:
    op.drop_index("uq_issues_active_kpi_region", table_name="issues")
    active = sa.column("state").in_(ACTIVE_STATES)
    op.create_index("uq_issues_active_kpi_region", "issues", ["kpi_code", "region_code"],
                    unique=True, sqlite_where=active, postgresql_where=active)
    op.drop_index("ix_issues_change", table_name="issues")
    op.drop_column("issues", "change_id")
    for table in ("change_events", "change_scopes", "changes"):
        op.drop_table(table)
