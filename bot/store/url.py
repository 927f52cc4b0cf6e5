"""Which database to use: `MTASTS_DATABASE_URL`, else `DATABASE_URL`, else a SQLite file.

Hosting platforms set `DATABASE_URL` as `postgres://…` or `postgresql://…`
(often with `?sslmode=require`); both mean PostgreSQL through asyncpg here, and
`sslmode` becomes asyncpg's `ssl`. A plain `sqlite:///path` means aiosqlite.
Without either variable the database is `mtasts.db` in `MTASTS_DATA_DIR`
(default: the current directory), so one instance needs no setup.

Every error names the variable the URL came from, in one line, with any
password hidden.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DATABASE_VAR = "MTASTS_DATABASE_URL"
PLATFORM_VAR = "DATABASE_URL"
DATA_DIR_VAR = "MTASTS_DATA_DIR"
DEFAULT_FILE = "mtasts.db"

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"
# libpq's sslmode values, as asyncpg's `ssl` understands them.
_SSLMODES = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message is one line naming the variable."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    url: URL
    source: str  # the variable it came from, or "default" (MTASTS_DATA_DIR / cwd)

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url.get_backend_name() == "sqlite" else "postgresql"

    @property
    def shown(self) -> str:
        """The URL with its password hidden, for messages and logs."""
        return self.url.render_as_string(hide_password=True)

    @property
    def named(self) -> str:
        """How error messages name where the URL came from (always naming the main variable)."""
        if self.source == DATABASE_VAR:
            return DATABASE_VAR
        if self.source == PLATFORM_VAR:
            return f"{DATABASE_VAR} (unset; {PLATFORM_VAR} is used)"
        return f"{DATABASE_VAR} (unset; the default SQLite file is used)"


def database_url(environ: Mapping[str, str] | None = None) -> DatabaseUrl:
    """The database to use, from the environment; raises DatabaseUrlError."""
    env = os.environ if environ is None else environ
    for var in (DATABASE_VAR, PLATFORM_VAR):
        text = env.get(var, "").strip()
        if text:
            return DatabaseUrl(parse(text, var), var)
    folder = Path(env.get(DATA_DIR_VAR, "").strip() or ".")
    path = (folder / DEFAULT_FILE).absolute()
    return DatabaseUrl(URL.create(SQLITE_DRIVER, database=str(path)), "default")


def parse(text: str, var: str = DATABASE_VAR) -> URL:
    """A SQLAlchemy URL for SQLite (aiosqlite) or PostgreSQL (asyncpg) from `text`."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise DatabaseUrlError(
            f"{var} is not a database URL (expected postgresql://user:password@host/db "
            "or sqlite:///path/to/mtasts.db)"
        ) from None
    backend = url.get_backend_name()
    shown = url.render_as_string(hide_password=True)
    if backend in ("postgres", "postgresql"):
        if url.drivername not in ("postgres", "postgresql", POSTGRES_DRIVER):
            raise DatabaseUrlError(
                f"{var} {shown}: use the asyncpg driver (postgresql+asyncpg://…) "
                "or plain postgresql://"
            )
        url = url.set(drivername=POSTGRES_DRIVER)
        if not url.host:
            raise DatabaseUrlError(f"{var} {shown}: no host given")
        return _sslmode_to_ssl(url, var, shown)
    if backend == "sqlite":
        if url.drivername not in ("sqlite", SQLITE_DRIVER):
            raise DatabaseUrlError(
                f"{var} {shown}: use the aiosqlite driver (sqlite+aiosqlite://…) or plain sqlite://"
            )
        if not url.database or url.database == ":memory:":
            raise DatabaseUrlError(
                f"{var} {shown}: give a file (sqlite:///path/to/mtasts.db); "
                "an in-memory database would lose every watch on restart"
            )
        return url.set(drivername=SQLITE_DRIVER)
    raise DatabaseUrlError(
        f"{var} {shown}: {backend!r} is not supported; use PostgreSQL (postgresql://…) "
        "or SQLite (sqlite:///path)"
    )


def _sslmode_to_ssl(url: URL, var: str, shown: str) -> URL:
    query = dict(url.query)
    mode = query.pop("sslmode", None)
    if mode is None:
        return url
    if isinstance(mode, tuple):
        mode = mode[-1]
    if mode not in _SSLMODES:
        raise DatabaseUrlError(f"{var} {shown}: sslmode={mode!r} is not a libpq sslmode")
    query.setdefault("ssl", mode)
    return url.set(query=query)
