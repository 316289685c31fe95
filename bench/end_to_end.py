"""Graded replies end to end through `gauntlet serve --http`: none lost, and the throughput, on SQLite and
on PostgreSQL.

    .venv/bin/python bench/end_to_end.py [--replies 1000] [--people 200] [--concurrency 50]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--no-pg] [--quick]

The real app runs as a subprocess against a fake Slack Web API (its own process) and a fresh database
holding one posted daily prompt. `--people` people each send `replies / people` answers in the prompt's
thread as signed Events API requests, `--concurrency` at a time; a person's next answer is sent once
their previous one has been answered. A reply is counted as delivered when its grade is in the
database (`GradeRecord`) and its graded reply was posted to the fake Slack. Throughput is replies per
second from the first request to the last reply posted.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S
from sqlalchemy import func
from sqlmodel import Session, select

from bot.store.db import make_engine
from bot.store.models import Answer, GradeRecord

CHANNEL = "CBENCHE2E"
PROMPT_TS = "1700000000.888888"
GRADED = re.compile(r"^\d+/100")
STALL_S = 60  # give up when nothing new is graded for this long


def counts(db, api_url: str) -> tuple[int, int, int]:
    """(grade records, answers still ungraded, graded replies posted in the thread)."""
    with Session(db) as s:
        grades = s.exec(select(func.count()).select_from(GradeRecord)).one()
        waiting = s.exec(select(func.count()).select_from(Answer).where(Answer.status != "graded")).one()
    posts = S.fake_stats(api_url)["posts"]
    posted = sum(1 for p in posts if p["thread_ts"] == PROMPT_TS and GRADED.match(p["text"] or ""))
    return grades, waiting, posted


def run(db_url: str, replies: int, people: int, concurrency: int) -> dict:
    per_person = replies // people
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp, S.fake_slack() as api:
        S.seed_prompt(db_url, CHANNEL, PROMPT_TS)
        db = make_engine(db_url)
        try:
            with S.gauntlet_serve(api, db_url, tmp) as (_, base):
                url = base + "/slack/events"
                not_acked = 0
                t0 = time.perf_counter()
                sent = 0
                for step in range(per_person):
                    bodies = [S.thread_reply(S.answer_for(step, k), user=f"UE2E{k:05d}", channel=CHANNEL,
                                             thread_ts=PROMPT_TS) for k in range(people)]
                    with ThreadPoolExecutor(max_workers=concurrency) as pool:
                        statuses = list(pool.map(lambda b: S.post(url, b, S.signed_headers(b))[0], bodies))
                    not_acked += sum(1 for st in statuses if st != 200)
                    sent += len(bodies)
                    # Everyone's answer for this step is graded and answered before their next one.
                    last, last_change = -1, time.monotonic()
                    while True:
                        grades, _, posted = counts(db, api)
                        if grades >= sent and posted >= sent:
                            break
                        if grades + posted != last:
                            last, last_change = grades + posted, time.monotonic()
                        elif time.monotonic() - last_change > STALL_S:
                            break
                        time.sleep(0.1)
                elapsed = time.perf_counter() - t0
                grades, waiting, posted = counts(db, api)
        finally:
            db.dispose()
    return {"sent": sent, "not_acked": not_acked, "grades": grades, "waiting": waiting, "posted": posted,
            "elapsed": elapsed}


def rows_for(backend: str, r: dict) -> list[tuple[str, str, str, str]]:
    lost = r["sent"] - min(r["grades"], r["posted"])
    return [
        (f"{backend}: replies sent / acked 200", f"{r['sent']} / {r['sent'] - r['not_acked']}", "", ""),
        (f"{backend}: grades in the database", str(r["grades"]), str(r["sent"]), ""),
        (f"{backend}: graded replies posted to Slack", str(r["posted"]), str(r["sent"]), ""),
        (f"{backend}: lost (sent − delivered)", str(lost), "0", S.verdict(lost == 0 and not r["not_acked"])),
        (f"{backend}: throughput", f"{r['sent'] / r['elapsed']:.1f} replies/s ({r['elapsed']:.1f} s)",
         "", ""),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--people", type=int, default=200, help="people answering (default 200)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--pg-url",
                        help=f"PostgreSQL server (default $TEST_DATABASE_URL or {S.DEFAULT_PG_URL})")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 replies from 20 people")
    args = parser.parse_args()
    if args.quick:
        args.replies, args.people = 100, 20
    # Five answers each at most: a sixth could arrive after the person's scorecard, when nothing is graded.
    args.people = max(args.people, -(-args.replies // 5))
    args.replies -= args.replies % args.people

    rows = []
    with S.sqlite_url() as url:
        rows += rows_for("SQLite", run(url, args.replies, args.people, args.concurrency))
    base, skipped = S.pg_target(args.no_pg, args.pg_url)
    if base is not None:
        with S.pg_database(base) as url:
            rows += rows_for("PostgreSQL", run(url, args.replies, args.people, args.concurrency))
    S.table(f"{args.replies} graded replies end to end through gauntlet serve --http "
            f"({args.people} people, {args.concurrency} in flight)", rows)
    if skipped:
        print(skipped)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
