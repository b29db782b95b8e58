"""A signal is one per KPI, region, rule, period type and first day: a red ISO week (R1 on
the week, closed-loop.md "Minimum volume") and a red Monday start on the same day.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issue_evidence") as batch:
        batch.drop_constraint("uq_issue_evidence_signal", type_="unique")
        batch.create_unique_constraint(
            "uq_issue_evidence_signal",
            ["kpi_code", "region_code", "rule", "period_type", "period_start"])


def downgrade() -> None:
    with op.batch_alter_table("issue_evidence") as batch:
        batch.drop_constraint("uq_issue_evidence_signal", type_="unique")
        batch.create_unique_constraint(
            "uq_issue_evidence_signal", ["kpi_code", "region_code", "rule", "period_start"])
