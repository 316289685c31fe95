"""Shared fixtures: a fresh database per test, on SQLite always and on PostgreSQL when
TEST_DATABASE_URL is set (each PostgreSQL test gets its own schema, so runs never interfere)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from bot.store.db import make_engine, normalise_url
from bot.store.schema import init_db

BACKENDS = ["sqlite", "postgres"]


def _postgres_engine(schema: str) -> Engine:
    url = normalise_url(os.environ["TEST_DATABASE_URL"])
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"}, pool_pre_ping=True)


def _drop_postgres_schema(schema: str) -> None:
    admin = create_engine(normalise_url(os.environ["TEST_DATABASE_URL"]))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def database_engine(backend: str, tmp_path, *, prepare=init_db) -> Iterator[Engine]:
    """A fresh database on `backend`, given to `prepare` first (init_db: every table; None: empty)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        if prepare is not None:
            prepare(engine)
        yield engine
        engine.dispose()
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL runs only when TEST_DATABASE_URL is set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = _postgres_engine(schema)
    try:
        if prepare is not None:
            prepare(engine)
        yield engine
    finally:
        engine.dispose()
        _drop_postgres_schema(schema)


@pytest.fixture
def pg_schema():
    """A fresh schema on the PostgreSQL test server, every table made; yields (engine, DATABASE_URL pinned
    to that schema), for tests that start processes of their own (replicas, workers) against it."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    engine = create_engine(normalise_url(url))
    init_db(engine)
    try:
        yield engine, url
    finally:
        engine.dispose()
        _drop_postgres_schema(schema)
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path) -> Iterator[Engine]:
    """A fresh, empty database with every table, on each backend."""
    yield from database_engine(request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path) -> Iterator[Engine]:
    """A database with nothing in it (no init_db), on each backend; PostgreSQL gets a fresh schema."""
    yield from database_engine(request.param, tmp_path, prepare=None)


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Engine]:
    """A fresh SQLite database (for tests that are about behaviour, not the backend)."""
    yield from database_engine("sqlite", tmp_path)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No stray token or database URL from the developer's shell leaks into a test."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
                 "DATABASE_URL", "GAUNTLET_CONTENT_DIR", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _stop_workers():
    """Workers an in-process app started stop with their test, before its database goes away."""
    yield
    from bot.slack.worker import Worker

    for worker in list(Worker.running):
        worker.stop(timeout=5)
