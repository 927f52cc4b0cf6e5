"""Persistence: watches, each watched domain's state, the alert ledger.

SQLAlchemy 2 (asyncio, Core) on SQLite (aiosqlite) or PostgreSQL (asyncpg),
one code path; schema migrations by Alembic, shipped in `migrations/`.

- `url.py`: which database (MTASTS_DATABASE_URL, DATABASE_URL, MTASTS_DATA_DIR).
- `engine.py`: the `Store` (write/read transactions, SQLite's single writer).
- `migrate.py`: `open_store()` connects and migrates, or says why not in one line.
- `tables.py`: the tables; `domains.py`, `watches.py`, `alerts.py`: the queries.
"""

from bot.store.engine import Store
from bot.store.migrate import StoreStartError, open_store

__all__ = ["Store", "StoreStartError", "open_store"]
