"""Alembic environment: the application passes its open connection (no alembic.ini).

Offline (`upgrade(..., sql=True)` with `sqlalchemy.url` set) it prints the SQL for that
URL's dialect instead, e.g. to review the PostgreSQL DDL without a server."""

from alembic import context

# render_as_batch: SQLite changes columns by copying tables; Alembic does that in batch mode.
if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"),
                      literal_binds=True, render_as_batch=True)
else:
    context.configure(connection=context.config.attributes["connection"],
                      target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
