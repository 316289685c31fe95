"""The one database engine: SQLite in the working directory by default, or DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

DEFAULT_URL = "sqlite:///gauntlet.db"


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str | None = None, *, checkpoints: bool = True) -> Engine:
    """`checkpoints=False` (SQLite): commits made here leave WAL checkpoints to other processes, so an
    HTTP web process's acknowledgement never waits for one (a worker always runs beside it)."""
    url = normalise_url(url or os.environ.get("DATABASE_URL") or DEFAULT_URL)
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        _sqlite_pragmas(engine, wal=not in_memory, checkpoints=checkpoints)
        return engine
    # No ping before every checkout (a round trip on every acknowledgement): a connection found stale
    # is invalidated with the whole pool when it fails, the inbox insert tries once more, and workers
    # retry; connections are recycled before servers and proxies drop idle ones.
    return create_engine(url, pool_recycle=1800, pool_size=10, max_overflow=10)


def _sqlite_pragmas(engine: Engine, *, wal: bool, checkpoints: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        cur = dbapi_conn.cursor()
        if wal:
            # WAL lets the scheduler and the request handlers read while one of them writes.
            cur.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL still survives the process being killed at any point (what a commit
            # wrote is in the OS's hands); only an OS crash or power cut can lose the last commits. It
            # spares an fsync per commit, which every acknowledgement would otherwise wait for.
            cur.execute("PRAGMA synchronous=NORMAL")
            if not checkpoints:
                # This process's commits never copy the WAL back into the database (with its fsyncs)
                # on the way: the worker processes' commits do.
                cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


def load_tables() -> MetaData:
    """SQLModel.metadata with every table on it (importing the table modules registers them)."""
    import bot.store.channels
    import bot.store.cohorts
    import bot.store.inbox
    import bot.store.models
    import bot.store.peers  # noqa: F401

    return SQLModel.metadata


def is_database_outage(error: BaseException) -> bool:
    """A failure to reach the database (as opposed to a bug): worth a "try again", not an apology."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
