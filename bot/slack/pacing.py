"""Pacing chat.postMessage under Slack's limits: one pacer per workspace, shared by every thread.

Slack allows about one message per second per channel plus a workspace-wide rate it does not publish,
and answers 429 with Retry-After beyond either. Posting as fast as the senders can and waiting out
each 429 in the sender that got it makes senders that hit the limit together idle together. A pacer
instead hands out turns: a post waits until the workspace has budget for it (a token bucket without
burst: one post every 1/rate seconds) and its channel's last post is a second old. A 429 pauses the
whole workspace until its Retry-After has passed (exactly: no jitter on top) and lowers the rate by a
quarter, since the limit is evidently lower than the rate we aimed at; the rate climbs back towards the
configured one by 2% of it per second without a 429.

Configure with $GAUNTLET_SLACK_POSTS_PER_SECOND: the most chat.postMessage calls per second this
process makes in one workspace (default 20). Set it a little under the workspace's real limit if you
know it; each process (replica, CLI) paces itself, so replicas posting at once share the limit.

Replies a person is waiting for (feedback in a thread, turns of a DM drill) are not held back: they go
out at once and are counted against the workspace's budget, so bulk posts (daily prompts, cohort
messages) make room for them. Only a 429 pause holds them.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

RATE_ENV = "GAUNTLET_SLACK_POSTS_PER_SECOND"
# Over-estimating costs one Retry-After pause and a cut; under-estimating slows every large fan-out.
DEFAULT_POSTS_PER_SECOND = 20.0
# A little over Slack's one per second, so jitter on the way to Slack cannot squeeze two into a second.
CHANNEL_INTERVAL = 1.05
BACKOFF = 0.75  # the rate kept after a 429
RECOVERY_PER_SECOND = 0.02  # share of the configured rate regained per second without a 429
MIN_POSTS_PER_SECOND = 1.0
# Unpaced replies may run the workspace's budget this many seconds into the future, no further: Slack's
# windows are about a second long, so older overspending no longer counts against anyone.
MAX_DEBT_SECONDS = 1.0
DEFAULT_RETRY_AFTER = 1.0
POST_METHOD = "chat.postMessage"
_PRUNE_AT = 1024  # channels remembered before expired entries are dropped


def configured_rate(env: Mapping[str, str] | None = None) -> float:
    """Posts per second from $GAUNTLET_SLACK_POSTS_PER_SECOND, else the default; nonsense is refused."""
    raw = (os.environ if env is None else env).get(RATE_ENV, "").strip()
    if not raw:
        return DEFAULT_POSTS_PER_SECOND
    try:
        rate = float(raw)
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"{RATE_ENV} must be a positive number of posts per second, not {raw!r}.")
    return rate


class Pacer:
    """Turns for chat.postMessage in one workspace. Thread-safe; the clock and sleep are injectable."""

    def __init__(self, rate: float, *, channel_interval: float = CHANNEL_INTERVAL,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.ceiling = rate
        self.channel_interval = channel_interval
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._rate = rate
        self._next_free = -math.inf  # the earliest time the workspace's budget allows another post
        self._paused_until = -math.inf
        self._recovered_at = clock()
        self._channel_free: dict[str, float] = {}

    @property
    def rate(self) -> float:
        with self._lock:
            self._recover(self._clock())
            return self._rate

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def wait_turn(self, channel: str) -> float:
        """Block until a post to `channel` fits the workspace rate, the channel's interval and any
        pause; book it. Returns the seconds waited."""
        started = self._clock()
        while True:
            with self._lock:
                now = self._clock()
                self._recover(now)
                turn = max(self._next_free, self._paused_until, self._channel_free.get(channel, -math.inf))
                if turn <= now:
                    self._next_free = now + 1 / self._rate
                    self._channel_free[channel] = now + self.channel_interval
                    self._prune(now)
                    return now - started
            # Re-checked after the sleep: a 429 meanwhile may have paused the workspace further.
            self._sleep(turn - now)

    def spend(self, channel: str) -> float:
        """A post that goes out now (a reply someone waits for): only a pause holds it; it uses the
        workspace's budget so paced posts leave room. Returns the seconds waited."""
        started = self._clock()
        while True:
            with self._lock:
                now = self._clock()
                if self._paused_until <= now:
                    self._next_free = max(self._next_free, now)
                    if self._next_free < now + MAX_DEBT_SECONDS:
                        self._next_free += 1 / self._rate
                    free = self._channel_free.get(channel, -math.inf)
                    self._channel_free[channel] = max(free, now + self.channel_interval)
                    self._prune(now)
                    return now - started
                until = self._paused_until
            self._sleep(until - now)

    def rate_limited(self, retry_after: float) -> None:
        """Slack answered 429: nobody in this workspace posts before Retry-After has passed, and the
        rate drops. 429s arriving during a pause answer posts sent before it, so they cut only once."""
        with self._lock:
            now = self._clock()
            if now >= self._paused_until:
                self._recover(now)
                self._rate = max(min(MIN_POSTS_PER_SECOND, self.ceiling), self._rate * BACKOFF)
            self._paused_until = max(self._paused_until, now + retry_after)
            self._recovered_at = max(self._recovered_at, self._paused_until)

    def _recover(self, now: float) -> None:
        if now > self._recovered_at:
            if self._rate < self.ceiling:
                regained = self.ceiling * RECOVERY_PER_SECOND * (now - self._recovered_at)
                self._rate = min(self.ceiling, self._rate + regained)
            self._recovered_at = now

    def _prune(self, now: float) -> None:
        if len(self._channel_free) > _PRUNE_AT:
            self._channel_free = {c: t for c, t in self._channel_free.items() if t > now}


# ---- one pacer per workspace ----------------------------------------------------------------------

_pacers: dict[tuple[str, str], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(base_url: str, token: str | None) -> Pacer:
    """The pacer of the workspace this bot token belongs to (a token is one workspace's installation),
    at this API address; every client holding the token shares it."""
    key = (_api_root(base_url), token or "")
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(configured_rate())
        return pacer


def client_pacer(client: WebClient) -> Pacer:
    return pacer_for(client.base_url, client.token)


def _api_root(url: str) -> str:
    """The API address a method URL or base URL belongs to, so the two name the same pacer."""
    root = url.split("?", 1)[0]
    if not root.endswith("/"):
        root = root.rsplit("/", 1)[0] + "/"
    return root


# ---- the retry handler ----------------------------------------------------------------------------

class PacedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries a 429 after exactly Retry-After. For chat.postMessage the wait goes through the
    workspace's pacer: the pause holds every sender, and the retry waits its turn like any post."""

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]  # only 429 responses reach here; keep the SDK's contract
        retry_after = _retry_after(response)
        if request.url.split("?", 1)[0].endswith("/" + POST_METHOD):
            pacer = pacer_for(request.url, _bearer(request))
            pacer.rate_limited(retry_after)
            pacer.wait_turn(_channel(request))
        else:
            time.sleep(retry_after)
        state.next_attempt_requested = True
        state.increment_current_attempt()


def _header(headers: Mapping[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name and values:
            return values[0]
    return None


def _retry_after(response: HttpResponse) -> float:
    raw = _header(response.headers, "retry-after")
    try:
        seconds = float(raw) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER
    return seconds if math.isfinite(seconds) and seconds >= 0 else DEFAULT_RETRY_AFTER


def _bearer(request: HttpRequest) -> str | None:
    auth = _header(request.headers, "authorization") or ""
    return auth[len("Bearer "):] if auth.startswith("Bearer ") else None


def _channel(request: HttpRequest) -> str:
    """The channel a Web API call posts to, from its JSON or form body ('' when it has none)."""
    body = request.data or b""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body.lstrip().startswith("{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            return ""
        return str(parsed.get("channel") or "") if isinstance(parsed, dict) else ""
    return (parse_qs(body).get("channel") or [""])[0]
