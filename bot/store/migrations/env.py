"""Alembic environment, driven from code (bot.store.schema builds the Config; there is no alembic.ini).

Online runs use the connection handed over in `config.attributes["connection"]`; offline runs
(`--sql`) only need `config.attributes["url"]` for the dialect.
"""

from __future__ import annotations

from alembic import context
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from bot.store.db import load_tables
from bot.store.schema import include_object

config = context.config
target_metadata = load_tables()


def render_item(type_, obj, autogen_context):
    # Revisions spell plain SQLAlchemy types, so they never depend on SQLModel's type classes.
    if type_ == "type" and isinstance(obj, AutoString):
        length = obj.impl.length
        return f"sa.String(length={length})" if length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


OPTIONS = {
    "target_metadata": target_metadata,
    # Batch mode lets SQLite alter tables (copy and move); on PostgreSQL it emits plain ALTERs, so
    # one revision serves both backends whichever one it was generated against.
    "render_as_batch": True,
    "render_item": render_item,
    "include_object": include_object,
    "compare_type": True,
}


def run_migrations() -> None:
    with context.begin_transaction():
        if context.get_context().dialect.name == "postgresql":
            # A migration waiting for a lock queues every request behind it: give up after 10 s and
            # let the operator retry, rather than stall the app. LOCAL ends with the transaction.
            context.execute("SET LOCAL lock_timeout = '10s'")
            context.execute("SET LOCAL statement_timeout = '15min'")
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=config.attributes["url"], literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, **OPTIONS)
    run_migrations()


def run_online() -> None:
    context.configure(connection=config.attributes["connection"], **OPTIONS)
    run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
