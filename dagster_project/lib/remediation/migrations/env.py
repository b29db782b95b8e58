"""Alembic environment: the application passes its open connection (no alembic.ini)."""

from alembic import context

connection = context.config.attributes["connection"]
# render_as_batch: SQLite changes columns by copying tables; Alembic does that in batch mode.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
