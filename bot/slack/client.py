"""The Web API client: Slack's rate limits and passing server hiccups are retried, not surfaced."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, ServerErrorRetryHandler

from bot.slack.config import DEFAULT_API_URL
from bot.slack.pacing import PacedRateLimitRetryHandler, client_pacer


def retry_handlers() -> list:
    # A 429 waits the Retry-After Slack asks for (a posting one pauses its whole workspace's pacer);
    # a busy channel can take a few in a row.
    return [
        PacedRateLimitRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]


def make_client(token: str, base_url: str = DEFAULT_API_URL) -> WebClient:
    client = WebClient(token=token, base_url=base_url, retry_handlers=retry_handlers())
    client_pacer(client)  # a bad $GAUNTLET_SLACK_POSTS_PER_SECOND fails here, at start-up, not mid-post
    return client
