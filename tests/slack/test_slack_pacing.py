"""Pacing chat.postMessage: turns per workspace and per channel, 429 pauses shared by every sender,
a rate that backs off on 429 and recovers, and the retry handler that ties it to the WebClient."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from bot.slack.client import make_client
from bot.slack.pacing import (
    BACKOFF,
    DEFAULT_POSTS_PER_SECOND,
    RATE_ENV,
    Pacer,
    client_pacer,
    configured_rate,
    pacer_for,
)
from bot.slack.post import post


class FakeClock:
    """Time that passes only when someone sleeps."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the pacer never sleeps for nothing"
        self.now += seconds


def paced(rate: float, **kwargs) -> tuple[Pacer, FakeClock]:
    clock = FakeClock()
    return Pacer(rate, clock=clock, sleep=clock.sleep, **kwargs), clock


def test_posts_to_one_channel_go_out_at_least_a_second_apart():
    """However high the workspace rate, a channel gets one paced post per second at most."""
    pacer, clock = paced(100)
    times = []
    for _ in range(4):
        pacer.wait_turn("C1")
        times.append(clock())
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))
    assert times[-1] - times[0] < 3 * 1.2  # and not much more than that


def test_a_workspace_is_posted_at_no_more_than_the_configured_rate():
    """Fifty posts to fifty channels at 10/s: no one-second window holds more than ten, and all go in ~5 s."""
    pacer, clock = paced(10)
    times = []
    for n in range(50):
        pacer.wait_turn(f"C{n}")
        times.append(clock())
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 10
    assert 4.9 <= times[-1] - times[0] <= 5.0


def test_a_429_pauses_the_whole_workspace_for_its_retry_after():
    """After a 429 with Retry-After 2, no post in that workspace, paced or not, goes out for 2 seconds."""
    pacer, clock = paced(50)
    start = clock()
    pacer.rate_limited(2.0)
    pacer.wait_turn("COTHER")
    assert clock() - start >= 2.0
    pacer.rate_limited(3.0)
    paused_at = clock()
    pacer.spend("CTHREAD")
    assert clock() - paused_at >= 3.0


def test_a_429_lowers_the_rate_once_and_it_creeps_back():
    """A 429 cuts the rate by a quarter (429s during the pause do not cut again); quiet time restores it."""
    pacer, clock = paced(40)
    pacer.rate_limited(1.0)
    pacer.rate_limited(1.0)  # another sender's post, answered while the pause is on
    assert pacer.rate == pytest.approx(40 * BACKOFF)
    clock.sleep(1.0 + 2.0)  # the pause, then two quiet seconds
    assert 40 * BACKOFF < pacer.rate < 40
    clock.sleep(60)
    assert pacer.rate == 40


def test_a_lowered_rate_spaces_posts_further_apart():
    """After a 429 the workspace's posts go out at the lowered rate, not the configured one."""
    pacer, clock = paced(20)
    pacer.rate_limited(1.0)
    times = []
    for n in range(6):
        pacer.wait_turn(f"C{n}")
        times.append(clock())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 20 * (1 / BACKOFF) * 0.99


def test_replies_go_out_at_once_and_make_paced_posts_wait_for_the_budget_they_used():
    """Unpaced replies never wait on the rate, but the bulk post after them waits for the budget they
    used, at most a second's worth."""
    pacer, clock = paced(10)
    start = clock()
    for _ in range(3):
        assert pacer.spend("CTHREAD") == 0
    assert clock() == start
    pacer.wait_turn("CBULK")
    assert clock() - start == pytest.approx(0.3)

    for _ in range(100):
        pacer.spend("CTHREAD")
    before = clock()
    pacer.wait_turn("CBULK2")
    assert clock() - before <= 1.0 + 1e-9


def test_two_workspaces_do_not_share_a_pacer():
    """Each bot token (one workspace) has its own pacer: a 429 in one does not hold the other."""
    url = "http://127.0.0.1:9/api/"
    a, b = pacer_for(url, "xoxb-pacing-a"), pacer_for(url, "xoxb-pacing-b")
    assert a is not b
    assert pacer_for(url, "xoxb-pacing-a") is a
    # The retry handler finds the pacer from the method URL; it must be the same one.
    assert pacer_for(url + "chat.postMessage", "xoxb-pacing-a") is a
    assert client_pacer(make_client("xoxb-pacing-a", url)) is a
    a.rate_limited(30.0)
    started = time.monotonic()
    b.wait_turn("C1")
    assert time.monotonic() - started < 0.5


def test_the_rate_comes_from_the_environment_and_nonsense_is_refused(monkeypatch):
    """GAUNTLET_SLACK_POSTS_PER_SECOND sets the rate; unset is the default; a non-positive value fails
    when the client is made, not when a post is due."""
    assert configured_rate({}) == DEFAULT_POSTS_PER_SECOND
    assert configured_rate({RATE_ENV: " 47.5 "}) == 47.5
    for bad in ("0", "-3", "fast", "nan", "inf"):
        with pytest.raises(ValueError, match=RATE_ENV):
            configured_rate({RATE_ENV: bad})
    monkeypatch.setenv(RATE_ENV, "fast")
    with pytest.raises(ValueError, match=RATE_ENV):
        make_client("xoxb-pacing-bad", "http://127.0.0.1:9/api/")
    monkeypatch.setenv(RATE_ENV, "7")
    assert client_pacer(make_client("xoxb-pacing-seven", "http://127.0.0.1:9/api/")).ceiling == 7


def test_a_429_answered_to_one_sender_holds_the_others_for_exactly_retry_after(fake):
    """Through the real WebClient: a 429 with Retry-After 1 is retried after one second, not one plus
    jitter, and a paced post by another sender of that workspace waits out the same pause; a second
    workspace is not held."""
    fake.clock = time.monotonic
    fake.rate_limit("chat.postMessage", retry_after=1)
    first = make_client("xoxb-pacing-ws1", fake.url)
    same_workspace = make_client("xoxb-pacing-ws1", fake.url)
    other_workspace = make_client("xoxb-pacing-ws2", fake.url)
    started = time.monotonic()
    worker = threading.Thread(target=lambda: post(first, channel="CA", blocks=[], text="first"))
    worker.start()
    fake.wait_for_call("chat.postMessage:429")
    post(other_workspace, channel="CB", blocks=[], text="elsewhere")
    other_done = time.monotonic() - started
    post(same_workspace, channel="CC", blocks=[], text="same workspace")
    same_done = time.monotonic() - started
    worker.join(timeout=10)

    assert other_done < 0.8
    assert same_done >= 1.0
    limited = next(c for c in fake.calls if c.method == "chat.postMessage:429")
    retried = next(c for c in fake.calls if c.method == "chat.postMessage" and c.args["channel"] == "CA")
    assert 1.0 <= retried.at - limited.at < 1.5
    assert [c.args["channel"] for c in fake.of("chat.postMessage")].count("CA") == 1
