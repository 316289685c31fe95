"""The daily fan-out: many channels due at the same minute are posted concurrently, each exactly once."""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlmodel import Session, select

from bot.content import Prompt
from bot.daily.channels import set_schedule
from bot.daily.schedule import parse_schedule
from bot.daily.scheduler import run_due_posts
from bot.store.channels import DailyPost

WS = "T1"
BANK = SimpleNamespace(prompts=tuple(Prompt(f"p{i}", "outage", f"Question {i}?") for i in range(5)))
NOW = datetime(2026, 3, 30, 9, 0, 5, tzinfo=UTC)


class SlowPoster:
    """Stands in for Slack with a round trip: records each post and the most sends in flight at once."""

    def __init__(self, delay: float, fail: frozenset[str] = frozenset()):
        self.delay, self.fail = delay, fail
        self.calls: list[str] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()

    def __call__(self, workspace: str, channel: str, prompt) -> str:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            clock.sleep(self.delay)
            if channel in self.fail:
                raise RuntimeError("channel_not_found")
            with self._lock:
                self.calls.append(channel)
                return f"1700000000.{len(self.calls):06d}"
        finally:
            with self._lock:
                self.in_flight -= 1


def schedule_channels(db, n: int) -> list[str]:
    channels = [f"C{i:03d}" for i in range(n)]
    for channel in channels:
        set_schedule(db, WS, channel, parse_schedule("09:00 UTC mon-sun"), set_by="U1",
                     now=NOW - timedelta(days=1))
    return channels


def test_channels_due_together_are_posted_concurrently_once_each(db):
    """Forty channels due at 09:00 all get exactly one prompt, with several sends in flight at once."""
    channels = schedule_channels(db, 40)
    poster = SlowPoster(delay=0.05)
    results = run_due_posts(db, BANK, poster, now=NOW, grace=timedelta(hours=1), workers=8)
    assert sorted(poster.calls) == channels
    assert [r.status for r in results] == ["posted"] * 40
    assert 1 < poster.most_in_flight <= 8
    with Session(db) as s:
        assert sorted(s.exec(select(DailyPost.status)).all()) == ["posted"] * 40


def test_a_second_concurrent_run_posts_nothing_more(db):
    """Two fan-outs racing over the same due channels still post each channel once (the claim decides)."""
    channels = schedule_channels(db, 20)
    poster = SlowPoster(delay=0.02)
    runs: list[list] = []
    threads = [threading.Thread(target=lambda: runs.append(
        run_due_posts(db, BANK, poster, now=NOW, grace=timedelta(hours=1), workers=4))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(poster.calls) == channels
    statuses = [r.status for run in runs for r in run]
    assert statuses.count("posted") == 20


def test_one_failed_send_does_not_stop_the_others(db):
    """A channel whose send fails is marked failed; every other channel in the fan-out gets its prompt."""
    channels = schedule_channels(db, 12)
    poster = SlowPoster(delay=0.01, fail=frozenset({"C005"}))
    results = run_due_posts(db, BANK, poster, now=NOW, grace=timedelta(hours=1), workers=4)
    assert sorted(poster.calls) == [c for c in channels if c != "C005"]
    by_channel = {r.channel: r.status for r in results}
    assert by_channel["C005"] == "failed"
    assert [s for c, s in by_channel.items() if c != "C005"] == ["posted"] * 11
