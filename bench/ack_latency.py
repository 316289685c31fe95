"""Ack latency of `gauntlet serve --http` under bursts of concurrent thread replies, against a bare Bolt app.

    .venv/bin/python bench/ack_latency.py [--concurrency 50] [--rounds 10] [--quick]

Both servers run as subprocesses on loopback and talk to the same fake Slack Web API (its own process).
Each round fires `concurrency` signed Events API thread replies at once at the real app (every reply
is an answer it records, grades and answers in the thread), waits until the app has posted every
reply, then fires the same burst at the bare Bolt app, whose listener does nothing. The order flips
every round. The figure is the time from sending a request to reading Slack's HTTP 200 (the ack).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S

CHANNEL = "CBENCHACK"
PROMPT_TS = "1700000000.999999"
TARGET_RATIO = 1.3
GRADED = re.compile(r"^\d+/100")


def burst(url: str, bodies: list[str]) -> list[tuple[int, float]]:
    """Send every body at once (threads released together) and return (status, seconds) for each."""
    gate = threading.Barrier(len(bodies))

    def one(body: str) -> tuple[int, float]:
        headers = S.signed_headers(body)
        gate.wait(timeout=30)
        return S.post(url, body, headers, timeout=30)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def graded_posts(api_url: str) -> int:
    posts = S.fake_stats(api_url)["posts"]
    return sum(1 for p in posts if p["thread_ts"] == PROMPT_TS and GRADED.match(p["text"] or ""))


def bodies_for(round_no: int, concurrency: int) -> list[str]:
    # Fresh people every five rounds, so every reply is an answer to grade, never a finished interview.
    cohort, step = divmod(round_no, 5)
    return [S.thread_reply(S.answer_for(step, k), user=f"UACK{cohort:03d}{k:04d}", channel=CHANNEL,
                           thread_ts=PROMPT_TS) for k in range(concurrency)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=50, help="replies per burst (default 50)")
    parser.add_argument("--rounds", type=int, default=10, help="measured bursts per server (default 10)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 replies, 3 rounds")
    args = parser.parse_args()
    if args.quick:
        args.concurrency, args.rounds = 20, 3

    app_times: list[float] = []
    bare_times: list[float] = []
    failures = {"app": 0, "bare": 0}
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp, S.fake_slack() as api:
        db_url = f"sqlite:///{tmp}/gauntlet.db"
        S.seed_prompt(db_url, CHANNEL, PROMPT_TS)
        with S.gauntlet_serve(api, db_url, tmp) as (_, app_base), S.bare_bolt(api) as bare_base:
            app_url, bare_url = app_base + "/slack/events", bare_base + "/slack/events"
            expected = 0
            # Round 0 warms both servers up (imports, auth.test, first connections) and is not counted.
            for round_no in range(args.rounds + 1):
                bodies = bodies_for(round_no, args.concurrency)
                order = ("app", "bare") if round_no % 2 == 0 else ("bare", "app")
                for side in order:
                    results = burst(app_url if side == "app" else bare_url, bodies)
                    if side == "app":
                        expected += len(bodies)
                        # Let the app finish grading and answering before anything else is measured.
                        S.wait_until(lambda n=expected: graded_posts(api) >= n, 180, "the app's replies",
                                     interval=0.1)
                    if round_no == 0:
                        continue
                    ok = [t for status, t in results if status == 200]
                    failures[side] += len(results) - len(ok)
                    (app_times if side == "app" else bare_times).extend(ok)

    ms = 1000.0
    a50, a99 = S.percentile(app_times, 50) * ms, S.percentile(app_times, 99) * ms
    b50, b99 = S.percentile(bare_times, 50) * ms, S.percentile(bare_times, 99) * ms
    r50, r99 = a50 / b50, a99 / b99
    S.table(
        f"Ack latency, {args.concurrency} concurrent thread replies × {args.rounds} rounds per server "
        f"({len(app_times)} + {len(bare_times)} acks)",
        [
            ("gauntlet serve --http p50", f"{a50:.1f} ms", "", ""),
            ("gauntlet serve --http p99", f"{a99:.1f} ms", "", ""),
            ("bare Bolt app p50", f"{b50:.1f} ms", "", ""),
            ("bare Bolt app p99", f"{b99:.1f} ms", "", ""),
            ("ratio p50 (app / bare)", f"{r50:.2f}×", f"≤ {TARGET_RATIO}×", S.verdict(r50 <= TARGET_RATIO)),
            ("ratio p99 (app / bare)", f"{r99:.2f}×", f"≤ {TARGET_RATIO}×", S.verdict(r99 <= TARGET_RATIO)),
            ("requests not acked 200 (app / bare)", f"{failures['app']} / {failures['bare']}", "0 / 0",
             S.verdict(not failures["app"] and not failures["bare"])),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
