"""Security: server-side board sessions, disabled users and their audit trail, a login
throttle per user name and client address, and an audit trail the database keeps
append-only (triggers refuse UPDATE and DELETE on the event tables).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EVENT_TABLES = ("issue_events", "change_events", "user_events")


def sqlite_triggers(table: str) -> list[str]:
    """One trigger per refused statement; RAISE(ABORT) rolls the statement back."""
    return [f"CREATE TRIGGER {table}_refuse_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")]


# No "%" placeholders: the DBAPI's paramstyle would have them escaped.
POSTGRESQL_FUNCTION = """CREATE OR REPLACE FUNCTION qloop_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END
$$"""


def postgresql_triggers(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_refuse_change BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION qloop_refuse_event_change()",
            f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION qloop_refuse_event_change()"]


def upgrade() -> None:
    op.add_column("users", sa.Column("disabled", sa.Boolean, nullable=False,
                                     server_default=sa.false()))
    op.create_table(
        "board_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_board_sessions_user", "board_sessions", ["user_id"])
    op.create_table(
        "user_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16)),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.UniqueConstraint("user_name", "seq", name="uq_user_events_user_seq"),
    )
    # Failures per user name alone let anyone lock a user out; the new table counts them
    # per user name and client address (the old rows are only a throttle's memory).
    op.drop_table("login_failures")
    op.create_table(
        "login_throttle",
        sa.Column("user_name", sa.String(64), primary_key=True),
        sa.Column("remote_addr", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=False),
    )
    postgresql = op.get_context().dialect.name == "postgresql"
    if postgresql:
        op.execute(POSTGRESQL_FUNCTION)
    for table in EVENT_TABLES:
        for statement in postgresql_triggers(table) if postgresql else sqlite_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    # The append-only triggers protect the audit trail; no migration removes them.
    raise NotImplementedError("revision 0004 is not downgraded: it would remove the audit "
                              "trail's protection and the user audit events")
