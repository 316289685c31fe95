"""Leaderboard query time over a big history: p50 of `leaderboard.board(...)` for the week, the month and
all time, on SQLite and on PostgreSQL.

    .venv/bin/python bench/leaderboard_query.py [--answers 1000000] [--people 10000] [--runs 20]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--no-pg] [--quick]

The history is a year of thread interviews under one prompt a day: `--answers` graded rounds (one
`PointEntry` each, five per interview) from `--people` people, spread evenly over the 365 days before
the fixed "now". Rows go in with executemany (SQLite) or COPY (PostgreSQL) into tables made by the
app's own `init_db`; PostgreSQL uses a fresh database, dropped at the end. Grade records are not
generated: the board never reads them. A bulk load bypasses the ORM writes that keep the running
totals (`BoardTotal`), so they are built afterwards with `leaderboard.rebuild_totals`, as the migration
does for an existing database; that time is reported on its own.

Besides `board(...)` it times `rank_of(...)` (a person in the middle of the all-time board) and one
award: a `PointEntry` added through the ORM, which refreshes that person's totals in the same
transaction.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S
from sqlmodel import Session, select

from bot.boards import leaderboard
from bot.store.db import make_engine, session_scope
from bot.store.models import Interview, PointEntry
from bot.store.schema import init_db

TARGET_MS = 50.0
NOW = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)  # a Wednesday mid-month: week and month both partial
DAYS = 365
CHANNEL = "CBOARD"
ROUNDS = ("opening", "probe", "constraint", "curveball", "synthesis")


def history(answers: int, people: int, seed: int):
    """(daily posts, interviews, point entries) as plain tuples, ids assigned here."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=DAYS)
    posts = []
    for d in range(DAYS + 1):
        day = (start + timedelta(days=d)).date()
        posts.append((d + 1, S.TEAM, CHANNEL, day, f"1600000000.{d:06d}"))
    interviews, entries = [], []
    n_interviews = answers // len(ROUNDS)
    span = (NOW - start).total_seconds() - 3600
    for i in range(1, n_interviews + 1):
        user = f"U{rng.randrange(people):07d}"
        at = start + timedelta(seconds=rng.random() * span)
        day_index = (at.date() - start.date()).days
        interviews.append((i, S.TEAM, user, at, posts[day_index][4]))
        for k, round_id in enumerate(ROUNDS):
            points = 0 if rng.random() < 0.05 else rng.randint(5, 100)
            at_k = at + timedelta(minutes=3 * k)
            entries.append((len(entries) + 1, S.TEAM, user, i, round_id, points, at_k))
    return posts, interviews, entries


def _sqlite_ts(dt: datetime) -> str:
    # How SQLAlchemy stores a UTC datetime in SQLite.
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(url: str, posts, interviews, entries) -> None:
    db = make_engine(url)
    init_db(db)
    raw = db.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(
            "INSERT INTO dailypost (id, workspace, channel, day, slot, status, prompt_id, message_ts,"
            " attempts, error, late, claimed_at) VALUES (?, ?, ?, ?, 0, 'posted', 'p', ?, 1, '', 0, ?)",
            [(i, w, c, d.isoformat(), ts, _sqlite_ts(NOW)) for i, w, c, d, ts in posts])
        cur.executemany(
            "INSERT INTO interview (id, workspace, user_id, source, channel, thread_ts, level, status,"
            " round, asked_probes, path, done, score, created_at, updated_at)"
            " VALUES (?, ?, ?, 'thread', ?, ?, 'mid', 'finished', 'synthesis', '[]', '[]', '[]', 60, ?, ?)",
            [(i, w, u, CHANNEL, ts, _sqlite_ts(at), _sqlite_ts(at)) for i, w, u, at, ts in interviews])
        cur.executemany(
            "INSERT INTO pointentry (id, workspace, user_id, interview_id, round, points, channel,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, w, u, iv, r, p, CHANNEL, _sqlite_ts(at)) for i, w, u, iv, r, p, at in entries])
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    db.dispose()


def load_pg(url: str, posts, interviews, entries) -> None:
    import psycopg

    db = make_engine(url)
    init_db(db)
    db.dispose()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY dailypost (id, workspace, channel, day, slot, status, prompt_id, message_ts,"
                      " attempts, error, late, claimed_at) FROM STDIN") as copy:
            for i, w, c, d, ts in posts:
                copy.write_row((i, w, c, d, 0, "posted", "p", ts, 1, "", False, NOW))
        with cur.copy("COPY interview (id, workspace, user_id, source, channel, thread_ts, level, status,"
                      " round, asked_probes, path, done, score, created_at, updated_at) FROM STDIN") as copy:
            for i, w, u, at, ts in interviews:
                copy.write_row((i, w, u, "thread", CHANNEL, ts, "mid", "finished", "synthesis", "[]", "[]",
                                "[]", 60, at, at))
        with cur.copy("COPY pointentry (id, workspace, user_id, interview_id, round, points, channel,"
                      " created_at) FROM STDIN") as copy:
            for i, w, u, iv, r, p, at in entries:
                copy.write_row((i, w, u, iv, r, p, CHANNEL, at))
        for table in ("dailypost", "interview", "pointentry"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")


def rebuild(url: str) -> tuple[float, int]:
    """Seconds to build the running totals from the loaded entries, and the rows written."""
    db = make_engine(url)
    try:
        t0 = time.perf_counter()
        written = leaderboard.rebuild_totals(db)
        return time.perf_counter() - t0, written
    finally:
        db.dispose()


def _p50(runs: int, call) -> tuple[float, object]:
    call()  # warm the connection and the caches
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - t0) * 1000)
    return S.median(times), result


def time_queries(url: str, runs: int) -> list[tuple[str, float, str]]:
    """(what, p50 ms, detail) for board(...) per period, rank_of(...) and one award."""
    db = make_engine(url)
    out = []
    try:
        for period in leaderboard.PERIODS:
            p50, rows = _p50(runs, lambda p=period: leaderboard.board(db, S.TEAM, p, now=NOW))
            out.append((f"board {period}", p50, f"{len(rows)} rows"))
        with Session(db) as s:  # whoever the generator gave the first interview: a random person
            interview_id, who = s.exec(select(Interview.id, Interview.user_id).order_by(Interview.id)).first()
        p50, rank = _p50(runs, lambda: leaderboard.rank_of(db, S.TEAM, who, "all", now=NOW))
        out.append(("rank_of all-time", p50, f"#{rank}"))
        rounds = iter(range(10**6))

        def award() -> None:
            with session_scope(db) as s:
                s.add(PointEntry(workspace=S.TEAM, user_id=who, interview_id=interview_id,
                                 round=f"extra-{next(rounds)}", points=50, channel=CHANNEL, created_at=NOW))

        p50, _ = _p50(runs, award)
        out.append(("award (entry + its totals, one transaction)", p50, ""))
    finally:
        db.dispose()
    return out


def report(backend: str, load_s: float, built: tuple[float, int], timings: list[tuple[str, float, str]],
           answers: int, people: int):
    rows = [(f"{backend}: load {answers:,} answers / {people:,} people", f"{load_s:.1f} s", "", ""),
            (f"{backend}: rebuild totals ({built[1]:,} rows)", f"{built[0]:.1f} s", "", "")]
    for what, p50, detail in timings:
        label = f"{backend}: {what} p50" + (f" ({detail})" if detail else "")
        rows.append((label, f"{p50:.1f} ms", f"≤ {TARGET_MS:.0f} ms", S.verdict(p50 <= TARGET_MS)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20, help="timed queries per period (default 20)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--pg-url",
                        help=f"PostgreSQL server (default $TEST_DATABASE_URL or {S.DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100,000 answers, 5 runs")
    args = parser.parse_args()
    if args.quick:
        args.answers, args.runs = 100_000, 5

    t0 = time.perf_counter()
    data = history(args.answers, args.people, args.seed)
    print(f"generated {len(data[2]):,} point entries in {len(data[1]):,} interviews "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    rows = []
    with S.sqlite_url() as url:
        t0 = time.perf_counter()
        load_sqlite(url, *data)
        load_s = time.perf_counter() - t0
        built = rebuild(url)
        rows += report("SQLite", load_s, built, time_queries(url, args.runs), args.answers,
                       args.people)

    base, skipped = S.pg_target(args.no_pg, args.pg_url)
    if base is not None:
        with S.pg_database(base) as url:
            t0 = time.perf_counter()
            load_pg(url, *data)
            load_s = time.perf_counter() - t0
            built = rebuild(url)
            rows += report("PostgreSQL", load_s, built, time_queries(url, args.runs),
                           args.answers, args.people)
    S.table(f"Leaderboard query, {args.answers:,} graded answers from {args.people:,} people, "
            f"p50 of {args.runs} runs", rows)
    if skipped:
        print(skipped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
