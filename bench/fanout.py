"""Daily-prompt fan-out: every channel scheduled for the same minute, posted against Slack's rate limits.

    .venv/bin/python bench/fanout.py [--channels 500] [--workspace-limit 50] [--latency 0.1]
                                     [--posts-per-second R | --app-default] [--quick]

A fake Slack Web API (its own process) answers chat.postMessage after `--latency` seconds and
enforces one message per second per channel and `--workspace-limit` messages per second across the
workspace, answering 429 with Retry-After beyond either. The app's own code does the posting: the
scheduler's `run_due_posts` (what the catch-up job runs) with the app's WebClient and its retry
handlers and the app's prompt poster, over a SQLite database where every channel is scheduled at
09:00 UTC. The floor is what the limits allow: channels / workspace limit seconds. Every channel must
get exactly one prompt and every daily post must end `posted`.

The app paces its posts at $GAUNTLET_SLACK_POSTS_PER_SECOND per workspace. The bench sets it the way an
operator who knows the workspace's limit would: a little under it (95%, `--posts-per-second` to choose
another). `--app-default` leaves the variable as the environment has it (unset: the app's default).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _support as S
from sqlmodel import Session, select

from bot.content import default_content
from bot.daily.channels import set_schedule
from bot.daily.schedule import parse_schedule
from bot.daily.scheduler import run_due_posts
from bot.slack.client import make_client
from bot.slack.interview import prompt_poster
from bot.slack.pacing import RATE_ENV, client_pacer
from bot.store.channels import DailyPost
from bot.store.db import make_engine
from bot.store.schema import init_db

TARGET_RATIO = 1.2
NOW = datetime(2025, 6, 18, 9, 0, 5, tzinfo=UTC)  # five seconds after every channel's 09:00


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--workspace-limit", type=int, default=50, help="messages per second (default 50)")
    parser.add_argument("--channel-limit", type=int, default=1, help="messages per second per channel")
    parser.add_argument("--latency", type=float, default=0.1,
                        help="seconds the fake takes to answer a post, like Slack's own (default 0.1)")
    parser.add_argument("--workers", type=int, help="passed to run_due_posts (default: its own default)")
    pacing = parser.add_mutually_exclusive_group()
    pacing.add_argument("--posts-per-second", type=float,
                        help=f"${RATE_ENV} for the app (default: 95%% of --workspace-limit)")
    pacing.add_argument("--app-default", action="store_true",
                        help=f"leave ${RATE_ENV} as the environment has it")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 channels")
    args = parser.parse_args()
    if args.quick:
        args.channels = 100
    if not args.app_default:
        os.environ[RATE_ENV] = str(args.posts_per_second or 0.95 * args.workspace_limit)

    channels = [f"CFAN{i:05d}" for i in range(args.channels)]
    schedule = parse_schedule("09:00 UTC mon-sun")
    with S.sqlite_url() as db_url, S.fake_slack(latency=args.latency, workspace_limit=args.workspace_limit,
                                                 channel_limit=args.channel_limit) as api:
        db = make_engine(db_url)
        init_db(db)
        for channel in channels:
            set_schedule(db, S.TEAM, channel, schedule, set_by="UADMIN", now=NOW - timedelta(days=1))
        client = make_client(S.BOT_TOKEN, api)
        pacer = client_pacer(client)
        poster = prompt_poster(client)
        extra = {} if args.workers is None else {"workers": args.workers}
        t0 = time.perf_counter()
        results = run_due_posts(db, default_content(), poster, now=NOW, grace=timedelta(minutes=60), **extra)
        elapsed = time.perf_counter() - t0
        stats = S.fake_stats(api)
        with Session(db) as s:
            statuses = Counter(s.exec(select(DailyPost.status)).all())
        db.dispose()

    per_channel = Counter(p["channel"] for p in stats["posts"])
    missing = [c for c in channels if per_channel[c] == 0]
    doubled = [c for c, n in per_channel.items() if n > 1]
    outcome = Counter(r.status for r in results)
    floor = args.channels / args.workspace_limit
    ratio = elapsed / floor
    lost = len(missing) + statuses.get("failed", 0) + statuses.get("claimed", 0)
    S.table(
        f"Fan-out to {args.channels} channels due at the same minute "
        f"(limits: {args.channel_limit}/s per channel, {args.workspace_limit}/s per workspace; "
        f"{args.latency * 1000:.0f} ms per call)",
        [
            ("total time", f"{elapsed:.1f} s", "", ""),
            ("rate-limit floor (channels / workspace limit)", f"{floor:.1f} s", "", ""),
            ("total / floor", f"{ratio:.2f}×", f"≤ {TARGET_RATIO}×", S.verdict(ratio <= TARGET_RATIO)),
            (f"pacer rate (${RATE_ENV}; at the end)", f"{pacer.ceiling:g}/s; {pacer.rate:.1f}/s", "", ""),
            ("429 answers honoured", str(stats["limited"]), "", ""),
            ("posted / already / failed (run_due_posts)",
             f"{outcome['posted']} / {outcome['already_posted']} / {outcome['failed']}", "", ""),
            ("channels without their prompt", str(len(missing)), "0", S.verdict(lost == 0)),
            ("channels posted twice", str(len(doubled)), "0", S.verdict(not doubled)),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
