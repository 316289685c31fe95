"""The durable inbox and outbox: what arrived and must be acted on, and what is owed to someone.

Both are tables this app owns (`bot/store/inbox.py`), claimed by worker processes with a lease:

- On PostgreSQL a claim is one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`: replicas
  take different rows without waiting on each other. On SQLite the same statement runs without the
  locking clause; SQLite takes its one write lock for the whole statement, so claims never overlap.
- A claimed row stays `pending` with `locked_by` / `locked_until` set. A process that dies leaves its
  lease to expire, and the row is taken over.
- Rows of one conversation (`conv`: a person in a thread or DM) are taken in order, one at a time: a
  row is claimable only while no older pending row of its conversation exists (the "lock" of a
  procrastinate job). A person's second answer is never graded before, or beside, their first.
- Finishing is fenced: `finish_inbox` marks the row done only while this worker still holds it, inside
  the transaction that did the work, so work whose lease was taken over rolls back instead of
  happening twice.

No library serves both backends: procrastinate and pgqueuer are PostgreSQL-only (LISTEN/NOTIFY, PL/pgSQL),
Huey and persist-queue are SQLite/Redis-only, and none would put a reply in the same transaction as
the grade. Knows nothing about Slack.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, event, exists, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from bot.store.inbox import DONE, FAILED, PENDING, SENT, InboxItem, OutboxItem
from bot.store.models import utcnow


def worker_name() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is someone new)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(Exception):
    """Another worker took this row over (our lease expired): the work in hand must roll back."""


# ---- the inbox --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    id: int
    new: bool  # False when the row was already there (a retry, or another replica got it first)


def record(db: Engine, *, kind: str, workspace: str, user_id: str, conv: str, payload: dict,
           event_id: str | None = None, channel: str | None = None, ts: str | None = None,
           only_if=None) -> Recorded | None:
    """Write a delivery to the inbox, or find the row an earlier delivery of it wrote.

    One statement on the acknowledgement path: `INSERT … SELECT … [WHERE only_if] ON CONFLICT DO
    NOTHING`. Returns None when `only_if` (a SQL condition, such as "this channel gets prompts") is false."""
    t = InboxItem.__table__
    now = utcnow()
    values = {"kind": kind, "event_id": event_id, "workspace": workspace, "channel": channel, "ts": ts,
              "user_id": user_id, "conv": conv, "payload": payload, "status": PENDING, "attempts": 0,
              "available_at": now, "created_at": now}
    if isinstance(only_if, PromptChannel):
        # The common cases (a thread reply, a DM), as statements built once and reused from the cache.
        stmt = _insert_if_prompt_channel(db.dialect.name)
        params = {**values, "w": only_if.workspace, "c": only_if.channel}
    elif only_if is None:
        stmt, params = _insert_plain(db.dialect.name), values
    else:
        source = select(*[literal(value, type_=t.c[name].type) for name, value in values.items()])
        if only_if is not None:
            source = source.where(only_if)
        stmt = _dialect_insert(db)(t).from_select(list(values), source).on_conflict_do_nothing()
        stmt, params = stmt.returning(t.c.id), {}
    new_id = _insert_now(db, stmt, params)
    if new_id is not None:
        return Recorded(new_id, True)
    conds = []
    if event_id is not None:
        conds.append(t.c.event_id == event_id)
    if ts is not None:
        conds.append((t.c.workspace == workspace) & (t.c.channel == channel) & (t.c.ts == ts)
                     & (t.c.kind == kind))
    with db.connect() as conn:
        found = conn.execute(select(t.c.id).where(or_(*conds))).scalar() if conds else None
    return Recorded(found, False) if found is not None else None


@dataclass(frozen=True)
class PromptChannel:
    """`record(only_if=…)`: only when the gauntlet posts prompts in this channel."""

    workspace: str
    channel: str


def _dialect_insert(db: Engine):
    return pg_insert if db.dialect.name == "postgresql" else sqlite_insert


_NAMES = ("kind", "event_id", "workspace", "channel", "ts", "user_id", "conv", "payload", "status",
          "attempts", "available_at", "created_at")


@functools.cache
def _insert_if_prompt_channel(dialect: str):
    from bot.store.channels import DailyPost

    t = InboxItem.__table__
    d = DailyPost.__table__
    source = select(*[bindparam(n, type_=t.c[n].type) for n in _NAMES]).where(
        exists().where(d.c.workspace == bindparam("w"), d.c.channel == bindparam("c")))
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert_(t).from_select(list(_NAMES), source).on_conflict_do_nothing().returning(t.c.id)


@functools.cache
def _insert_plain(dialect: str):
    t = InboxItem.__table__
    source = select(*[bindparam(n, type_=t.c[n].type) for n in _NAMES])
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert_(t).from_select(list(_NAMES), source).on_conflict_do_nothing().returning(t.c.id)


_SQLITE_WRITE = threading.Lock()
# How long a web process waits between tries for SQLite's write lock while a worker holds it.
SQLITE_LOCK_POLL = 0.0005
SQLITE_LOCK_WAIT = 30.0


def _sqlite_writer(db: Engine):
    return _SQLITE_WRITE if db.dialect.name == "sqlite" else contextlib.nullcontext()


class _AckConnections:
    """The driver's own connections for the inbox insert on PostgreSQL, about one per acknowledging thread.

    The acknowledgement is one statement, so it goes to psycopg directly, prepared on the server once per
    connection and each its own transaction (autocommit): no pool checkout and reset on return, no
    SQLAlchemy execution context around it. The commit still waits for the WAL flush (the server's
    `synchronous_commit`, on by default): a row Slack was told 200 for is on disk. Connections are made
    by the engine (its URL, connect arguments and connect events) and then detached from its pool;
    kept LIFO (the warm ones are reused); one that fails is closed, and the insert is tried once more
    on a fresh one. `engine.dispose()` closes them too."""

    KEEP = 32  # idle connections kept; a burst beyond that opens and closes its own

    def __init__(self, db: Engine):
        self.db = db
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.idle: list = []
        self.compiled = {stmt: _raw_insert(db, stmt) for stmt in _ack_statements(db.dialect.name)}

    def _open(self):
        proxied = self.db.raw_connection()
        conn = proxied.driver_connection
        proxied.detach()  # ours now: the pool neither resets nor counts it
        conn.rollback()
        conn.autocommit = True
        conn.prepare_threshold = 0  # prepared on its first use: parsed and planned once per connection
        return conn

    def _take(self):
        with self.lock:
            if self.idle:
                return self.idle.pop()
        return self._open()

    def _give(self, conn) -> None:
        with self.lock:
            if len(self.idle) < self.KEEP and not conn.closed and self.pid == os.getpid():
                self.idle.append(conn)
                return
        conn.close()

    def warm(self, n: int) -> None:
        """Have `n` connections open, before the first request needs one."""
        opened = [self._open() for _ in range(max(0, n - len(self.idle)))]
        for conn in opened:
            self._give(conn)

    def insert(self, stmt, params: dict):
        sql, bind = self.compiled[stmt]
        values = {name: (proc(params[name]) if proc is not None else params[name])
                  for name, proc in bind.items()}
        error = self.db.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            try:
                conn = self._take() if attempt == 1 else self._open()
            except error as exc:
                raise _as_dbapi_error(self.db, exc, sql, values, broken=True) from exc
            try:
                row = conn.execute(sql, values).fetchone()
            except error as exc:
                broken = conn.closed or conn.broken
                conn.close()
                if attempt == 1 and broken:
                    # The server dropped it (a restart, a failover): the idle ones went with it. Once
                    # more, on a fresh connection.
                    self.close()
                    continue
                raise _as_dbapi_error(self.db, exc, sql, values, broken=broken) from exc
            except BaseException:
                conn.close()  # in an unknown state: never reused
                raise
            self._give(conn)
            return row[0] if row is not None else None
        return None  # pragma: no cover - the loop returns or raises

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        if self.pid != os.getpid():
            _INHERITED.extend(idle)  # the parent's sockets: closing them here would end its sessions
            return
        for conn in idle:
            conn.close()


_ACK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ACK_LOCK = threading.Lock()
_INHERITED: list = []


def _ack_connections(db: Engine) -> _AckConnections:
    found = _ACK.get(db)
    if found is None or found.pid != os.getpid():
        with _ACK_LOCK:
            found = _ACK.get(db)
            if found is None or found.pid != os.getpid():
                if found is not None:  # a forked child opens its own
                    found.close()
                else:
                    event.listen(db, "engine_disposed", _close_ack_connections)
                found = _ACK[db] = _AckConnections(db)
    return found


def _close_ack_connections(db: Engine) -> None:
    found = _ACK.get(db)
    if found is not None:
        found.close()


def warm_ack_connections(db: Engine, n: int) -> None:
    """Open the connections `n` acknowledging threads will use (PostgreSQL; nothing on SQLite)."""
    if db.dialect.name == "postgresql":
        _ack_connections(db).warm(n)


def _ack_statements(dialect: str) -> tuple:
    """The inserts that go to the driver directly: a prompt-thread reply and a DM (nearly every ack)."""
    return _insert_if_prompt_channel(dialect), _insert_plain(dialect)


def _raw_insert(db: Engine, stmt) -> tuple[str, dict]:
    """An insert compiled once for this engine's dialect (the SQL SQLAlchemy itself would send), and
    each parameter's bind processor (JSON to text, aware datetimes to UTC)."""
    compiled = stmt.compile(dialect=db.dialect)
    bind = {name: bp.type.dialect_impl(db.dialect).bind_processor(db.dialect)
            for bp, name in compiled.bind_names.items()}
    return compiled.string, bind


def _as_dbapi_error(db: Engine, exc: Exception, sql: str, params: dict, *, broken: bool) -> Exception:
    """The driver's error as SQLAlchemy would have raised it, so callers tell an outage from a bug the
    same way on both paths (`is_database_outage`)."""
    if not isinstance(exc, db.dialect.loaded_dbapi.Error):
        return exc
    return DBAPIError.instance(sql, params, exc, db.dialect.loaded_dbapi.Error,
                               connection_invalidated=broken,
                               dialect=db.dialect)


_AUTOCOMMIT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _autocommit(db: Engine) -> Engine:
    """The engine's pool, with each statement its own transaction."""
    found = _AUTOCOMMIT.get(db)
    if found is None:
        found = _AUTOCOMMIT[db] = db.execution_options(isolation_level="AUTOCOMMIT")
    return found


def _insert_now(db: Engine, stmt, params: dict):
    """The inbox insert, on the acknowledgement path: one statement that is its own transaction.

    On PostgreSQL a prompt-thread reply's or a DM's insert (nearly every acknowledgement) is one round
    trip on the driver's own connection (`_AckConnections`); other inserts go through the engine's pool, in
    autocommit. Either way the commit's WAL flush is waited for: a row Slack was told 200 for is on
    disk. A pooled connection that went stale (the server restarted) is replaced once, instead of
    pinging before every use.
    On SQLite the threads of one process take turns (`_SQLITE_WRITE`), and a worker process holding
    the write lock is waited for in half-millisecond steps: SQLite's own busy handler sleeps 1, 2, 5,
    10 … up to 100 ms between tries, which is what an acknowledgement's p99 was made of."""
    if db.dialect.name == "sqlite":
        return _insert_sqlite(db, stmt, params)
    if db.dialect.name == "postgresql" and any(stmt is known for known in _ack_statements("postgresql")):
        return _ack_connections(db).insert(stmt, params)
    engine = _autocommit(db)
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                return conn.execute(stmt, params).scalar()
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    return None  # pragma: no cover - the loop returns or raises


def _insert_sqlite(db: Engine, stmt, params: dict):
    deadline = time.monotonic() + SQLITE_LOCK_WAIT
    with _SQLITE_WRITE, db.connect() as conn:
        raw = conn.connection.driver_connection  # the pragmas straight to sqlite3: microseconds
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    with conn.begin():
                        return conn.execute(stmt, params).scalar()
                except OperationalError as exc:
                    locked = "locked" in str(exc.orig) or "busy" in str(exc.orig)
                    if not locked or time.monotonic() > deadline:
                        raise
                    time.sleep(SQLITE_LOCK_POLL)
        finally:
            raw.execute("PRAGMA busy_timeout = 30000")


def _claim(db: Engine, table, *, worker: str, lease: timedelta, limit: int,
           now: datetime | None = None, key: str | None = None) -> list[int]:
    now = now or utcnow()
    c, e = table.alias("c"), table.alias("e")
    earlier = exists().where(e.c.conv == c.c.conv, e.c.status == PENDING, e.c.id < c.c.id)
    candidates = (
        select(c.c.id)
        .where(c.c.status == PENDING, c.c.available_at <= now,
               or_(c.c.locked_until.is_(None), c.c.locked_until < now), ~earlier)
        .order_by(c.c.id)
        .limit(limit)
    )
    if key is not None:
        candidates = candidates.where(c.c.key == key)
    # Idle workers poll: a plain read first (never blocks, and on SQLite takes no write lock) keeps
    # an empty poll from queueing behind the requests that are writing rows.
    with db.connect() as conn:
        if conn.execute(candidates.limit(1)).first() is None:
            return []
    if db.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=c)
    stmt = (
        update(table)
        .where(table.c.id.in_(candidates))
        .values(locked_by=worker, locked_until=now + lease, attempts=table.c.attempts + 1)
        .returning(table.c.id)
    )
    with db.begin() as conn:
        return sorted(conn.execute(stmt).scalars())


def claim_inbox(db: Engine, *, worker: str, lease: timedelta, limit: int = 1,
                now: datetime | None = None) -> list[int]:
    """Take up to `limit` inbox rows for `lease`; returns their ids (oldest first)."""
    return _claim(db, InboxItem.__table__, worker=worker, lease=lease, limit=limit, now=now)


def claim_outbox(db: Engine, *, worker: str, lease: timedelta, limit: int = 1,
                 now: datetime | None = None, key: str | None = None) -> list[int]:
    """Take up to `limit` outbox rows for `lease`; returns their ids (oldest first). With `key`, only
    that row, on the same terms (due, not leased, nothing older of its conversation pending)."""
    return _claim(db, OutboxItem.__table__, worker=worker, lease=lease, limit=limit, now=now, key=key)


def finish_inbox(s: Session, item_id: int, worker: str, *, status: str = DONE,
                 error: str | None = None) -> None:
    """Mark a row done (or failed) in the caller's transaction, only while `worker` still holds it."""
    t = InboxItem.__table__
    result = s.execute(
        update(t)
        .where(t.c.id == item_id, t.c.locked_by == worker, t.c.status == PENDING)
        # What people wrote is kept where it belongs (an answer), not in the inbox once handled.
        .values(status=status, done_at=utcnow(), locked_until=None, error=error, payload={})
    )
    if result.rowcount != 1:
        raise LeaseLost(f"inbox #{item_id} is no longer held by this worker")


def retry_inbox(db: Engine, item_id: int, worker: str, *, delay: timedelta, error: str) -> None:
    """Give a row back to be tried again after `delay` (its work failed and rolled back)."""
    t = InboxItem.__table__
    with db.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == item_id, t.c.locked_by == worker, t.c.status == PENDING)
            .values(locked_until=None, locked_by=None, available_at=utcnow() + delay, error=error[:200])
        )


# ---- the outbox -------------------------------------------------------------------------------------

def owe(s: Session, *, key: str, workspace: str, conv: str, mode: str, text: str, blocks: list,
        channel: str | None = None, user_id: str | None = None, thread_ts: str | None = None,
        response_url: str | None = None) -> None:
    """Add a message owed to someone to the caller's transaction (once per key)."""
    exists_already = s.execute(select(OutboxItem.__table__.c.id).where(OutboxItem.__table__.c.key == key))
    if exists_already.first() is not None:
        return
    s.add(OutboxItem(key=key, workspace=workspace, conv=conv, mode=mode, channel=channel, user_id=user_id,
                     thread_ts=thread_ts, response_url=response_url, text=text, blocks=blocks))


def outbox_sent(db: Engine, item_id: int, worker: str, *, ts: str | None, then=None) -> bool:
    """Record that Slack accepted the message. False when the lease had been taken over meanwhile.

    `then(conn)` runs in the same transaction, only when the row was ours: what the delivery settles
    elsewhere (a daily prompt's ts, which replies to it are matched on) is written with it or not at all."""
    t = OutboxItem.__table__
    with db.begin() as conn:
        result = conn.execute(
            update(t).where(t.c.id == item_id, t.c.status == PENDING, t.c.locked_by == worker)
            # Slack has the message now: a copy here would outlive forget-me (a digest names members).
            # The key is all a later lookup needs.
            .values(status=SENT, sent_ts=ts, sent_at=utcnow(), locked_until=None, error=None, text="",
                    blocks=[])
        )
        if result.rowcount == 1 and then is not None:
            then(conn)
    return result.rowcount == 1


def outbox_retry(db: Engine, item_id: int, worker: str, *, delay: timedelta, error: str,
                 reached_slack: bool) -> None:
    """Try again after `delay`. `reached_slack=False` records that this attempt surely posted nothing."""
    t = OutboxItem.__table__
    values: dict = {"locked_until": None, "locked_by": None, "available_at": utcnow() + delay,
                    "error": error[:200]}
    if not reached_slack:
        values["clean_through"] = t.c.attempts
    with db.begin() as conn:
        conn.execute(update(t).where(t.c.id == item_id, t.c.locked_by == worker, t.c.status == PENDING)
                     .values(**values))


def outbox_failed(db: Engine, item_id: int, worker: str, *, error: str, then=None) -> bool:
    """A terminal error: the entry stops. False when it was not ours to stop. `then(conn)` as in
    `outbox_sent`."""
    t = OutboxItem.__table__
    with db.begin() as conn:
        result = conn.execute(
            update(t).where(t.c.id == item_id, t.c.locked_by == worker, t.c.status == PENDING)
            .values(status=FAILED, error=error[:200], locked_until=None)
        )
        if result.rowcount == 1 and then is not None:
            then(conn)
    return result.rowcount == 1


def backlog(db: Engine) -> dict[str, int]:
    """Rows still pending in each table (for health checks, benchmarks and tests)."""
    from sqlalchemy import func

    with Session(db) as s:
        return {name: s.execute(select(func.count()).where(model.__table__.c.status == PENDING)).scalar()
                for name, model in (("inbox", InboxItem), ("outbox", OutboxItem))}
