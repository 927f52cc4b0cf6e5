"""A fresh, empty PostgreSQL database on a given server, dropped afterwards: what the tests
(tests/real_services.py, each session its own) and the benches (bench/common.py, each run
its own) isolate themselves with on the machine's shared server."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit


def asyncpg_dsn(url: str) -> str:
    """asyncpg speaks plain `postgresql://`; SQLAlchemy URLs carry a driver name."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def with_database(url: str, name: str) -> str:
    """`url` (any postgres URL) naming database `name` instead."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def create_database(server: str, prefix: str, *, connect_timeout: float = 60.0) -> str:
    """Create a database named `prefix` + a random part on the server of `server` (any
    postgres URL, reached through the database it names); returns the new name. Connection
    errors (OSError, TimeoutError, asyncpg's) are the caller's to report."""
    import asyncpg

    name = prefix + secrets.token_hex(6)
    admin = await asyncpg.connect(asyncpg_dsn(server), timeout=connect_timeout)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def drop_database(server: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(asyncpg_dsn(server))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_database(server: str, prefix: str) -> AsyncIterator[str]:
    """A new database on `server`'s PostgreSQL: its plain `postgresql://` URL; dropped
    afterwards (connections still open to it are closed)."""
    name = await create_database(server, prefix)
    try:
        yield with_database(asyncpg_dsn(server), name)
    finally:
        await drop_database(server, name)
