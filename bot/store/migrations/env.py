"""Alembic's environment: migrations run on a connection `bot.store.migrate` hands over.

There is no alembic.ini: `mtasts db upgrade` (or `mtasts serve`) opens the
database from MTASTS_DATABASE_URL and runs Alembic on that connection, inside
its transaction (DDL is transactional on both SQLite and PostgreSQL, so a
failed migration leaves nothing half-done). Batch mode lets later revisions
alter SQLite tables.
"""

from __future__ import annotations

from alembic import context

from bot.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `mtasts db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
