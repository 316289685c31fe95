"""The durable inbox and outbox under load, on SQLite and PostgreSQL.

    .venv/bin/python bench/durable.py [--answers 400] [--concurrency 50] [--quick] [--no-pg | --no-sqlite]
                                      [--ack-only] [--pg-url URL]

1. Acknowledgement latency under sustained load: `--answers` thread answers (each a new person's opening,
   so every one is recorded, graded and answered) sent by `--concurrency` senders back to back at the real
   `gauntlet serve --http` (gunicorn web processes + its worker), grading overlapping the next requests;
   then the same load at a bare Bolt app on the same gunicorn settings whose listener does nothing. Two
   rounds each, alternating. Figures: p50 and p99 of the time to Slack's 200, their ratio, failed requests.
2. Answer → reply: for the app's answers in (1), the time from sending the answer to the fake Slack
   receiving the graded reply that mentions its author, p50 and p99.
3. Throughput: `--answers` answers acknowledged by `gauntlet serve --http --no-worker` (nothing graded),
   then 1 (and, on a fresh database, 2) `gauntlet worker` processes started; graded answers per second
   from the first reply to the last.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S

CHANNEL = "CBENCHDUR"
PROMPT_TS = "1700000000.888888"
TARGET_RATIO = 1.3
TARGET_REPLY_P99 = 3.0  # seconds: a person sees feedback while still looking at the thread
_run = {"prefix": "S"}  # people of one backend's run are never confused with another's (one fake Slack)


def sustained(url: str, bodies: list[tuple[str, str]], concurrency: int) -> tuple[list[float], int, dict]:
    """Send every (user, body) with `concurrency` senders back to back. Returns (ack seconds of the 200s,
    failed requests, user → wall-clock time the request was sent)."""
    sent: dict[str, float] = {}
    lock = threading.Lock()

    def one(item: tuple[str, str]) -> tuple[int, float]:
        user, body = item
        headers = S.signed_headers(body)
        with lock:
            sent[user] = time.time()
        return S.post(url, body, headers, timeout=30)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, bodies))
    ok = [t for status, t in results if status == 200]
    return ok, len(results) - len(ok), sent


def bodies_for(tag: str, n: int) -> list[tuple[str, str]]:
    users = [f"U{_run['prefix']}{tag}{k:05d}" for k in range(n)]
    return [(u, S.thread_reply(S.answer_for(0, k), user=u, channel=CHANNEL, thread_ts=PROMPT_TS))
            for k, u in enumerate(users)]


def replies_at(api_url: str) -> dict[str, float]:
    """User → when the fake received the first graded reply mentioning them."""
    out: dict[str, float] = {}
    for post in S.fake_stats(api_url)["posts"]:
        if post["thread_ts"] != PROMPT_TS or "/100" not in (post["text"] or ""):
            continue
        for user in post.get("mentions") or []:
            out.setdefault(user, post["at"])
    return out


def wait_replies(api_url: str, users: list[str], timeout: float) -> dict[str, float]:
    def all_in() -> dict[str, float] | None:
        got = replies_at(api_url)
        return got if all(u in got for u in users) else None

    return S.wait_until(all_in, timeout, f"replies to {len(users)} answers", interval=0.2)


def ack_and_reply(db_url: str, api: str, tmp: str, args) -> dict:
    S.seed_prompt(db_url, CHANNEL, PROMPT_TS)
    app_acks: list[float] = []
    bare_acks: list[float] = []
    reply_latency: list[float] = []
    failed = {"app": 0, "bare": 0}
    with S.gauntlet_serve(api, db_url, tmp) as (_, app_base), S.bare_bolt(api) as bare_base:
        # Warm-up (not counted): every web process has served requests and read the database.
        sustained(app_base + "/slack/events", bodies_for("W", 20), 10)
        sustained(bare_base + "/slack/events", bodies_for("W", 20), 10)
        wait_replies(api, [u for u, _ in bodies_for("W", 20)], 120)
        for rnd in range(2):
            batch = bodies_for(f"R{rnd}", args.answers // 2)
            for side in (("app", "bare") if rnd % 2 == 0 else ("bare", "app")):
                url = (app_base if side == "app" else bare_base) + "/slack/events"
                acks, bad, sent = sustained(url, batch, args.concurrency)
                failed[side] += bad
                (app_acks if side == "app" else bare_acks).extend(acks)
                if side == "app":
                    got = wait_replies(api, [u for u, _ in batch], 300)
                    reply_latency.extend(got[u] - sent[u] for u, _ in batch)
    return {"app": app_acks, "bare": bare_acks, "failed": failed, "reply": reply_latency}


def throughput(db_url: str, api: str, tmp: str, args, workers: int) -> float:
    S.seed_prompt(db_url, CHANNEL, PROMPT_TS)
    batch = bodies_for(f"T{workers}", args.answers)
    with S.gauntlet_serve(api, db_url, tmp, "--no-worker", "--no-scheduler") as (_, base):
        _, bad, _ = sustained(base + "/slack/events", batch, args.concurrency)
        if bad:
            raise RuntimeError(f"{bad} answers were not acknowledged")
        with contextlib_exit_stack() as stack:
            for n in range(workers):
                stack.enter_context(S.gauntlet_worker(api, db_url, tmp, name=f"worker-{n}"))
            got = wait_replies(api, [u for u, _ in batch], 600)
    times = sorted(got[u] for u, _ in batch)
    return (len(times) - 1) / (times[-1] - times[0]) if times[-1] > times[0] else float("inf")


def contextlib_exit_stack():
    import contextlib

    return contextlib.ExitStack()


def report(name: str, ack: dict, rates: dict[int, float]) -> list[tuple[str, str, str, str]]:
    ms = 1000.0
    a50, a99 = S.percentile(ack["app"], 50) * ms, S.percentile(ack["app"], 99) * ms
    b50, b99 = S.percentile(ack["bare"], 50) * ms, S.percentile(ack["bare"], 99) * ms
    r50, r99 = a50 / b50, a99 / b99
    rp50, rp99 = S.percentile(ack["reply"], 50), S.percentile(ack["reply"], 99)
    f = ack["failed"]
    return [
        (f"{name}: ack p50 app / bare", f"{a50:.1f} / {b50:.1f} ms = {r50:.2f}×", f"≤ {TARGET_RATIO}×",
         S.verdict(r50 <= TARGET_RATIO)),
        (f"{name}: ack p99 app / bare", f"{a99:.1f} / {b99:.1f} ms = {r99:.2f}×", f"≤ {TARGET_RATIO}×",
         S.verdict(r99 <= TARGET_RATIO)),
        (f"{name}: failed requests app / bare", f"{f['app']} / {f['bare']}", "0 / 0",
         S.verdict(not f["app"] and not f["bare"])),
        (f"{name}: answer → reply p50 / p99", f"{rp50:.2f} / {rp99:.2f} s",
         f"p99 ≤ {TARGET_REPLY_P99:.0f} s", S.verdict(rp99 <= TARGET_REPLY_P99)),
        *[(f"{name}: graded answers/s, {k} worker{'s' if k > 1 else ''}", f"{v:.1f}/s", "", "")
          for k, v in rates.items()],
    ]


def run_backend(name: str, make_url, api: str, args) -> list[tuple[str, str, str, str]]:
    _run["prefix"] = name[0].upper()
    with tempfile.TemporaryDirectory(prefix="bench-durable-") as tmp:
        with make_url() as url:
            ack = ack_and_reply(url, api, tmp, args)
        rates = {}
        for workers in (() if args.ack_only else (1, 2)):
            with make_url() as url:
                rates[workers] = throughput(url, api, tmp, args, workers)
    return report(name, ack, rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=400, help="answers per measurement (default 400)")
    parser.add_argument("--concurrency", type=int, default=50, help="senders in flight (default 50)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 answers, 20 senders")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--ack-only", action="store_true",
                        help="acknowledgements and replies only (1 and 2), no throughput (3)")
    parser.add_argument("--pg-url", help="PostgreSQL server to make a throw-away database on")
    args = parser.parse_args()
    if args.quick:
        args.answers, args.concurrency = 100, 20
    pg, why_not = S.pg_target(args.no_pg, args.pg_url)
    rows = []
    with S.fake_slack() as api:
        if not args.no_sqlite:
            rows += run_backend("SQLite", S.sqlite_url, api, args)
        if pg is not None:
            rows += run_backend("PostgreSQL", lambda: S.pg_database(pg), api, args)
    S.table(f"Durable inbox/outbox: {args.answers} answers, {args.concurrency} in flight", rows)
    if why_not:
        print(why_not)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
