"""Alembic migrations, shipped inside the package (`pip install .` carries them).

Run them with `mtasts db upgrade` (or let `mtasts serve` do it at start-up);
`bot.store.migrate` drives Alembic on the app's own engine.
"""
