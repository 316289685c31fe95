"""Sending rendered blocks to Slack: one place that knows the three feedback destinations."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.slack.blocks import messages
from bot.slack.pacing import client_pacer

FEEDBACK_MODES = ("thread", "ephemeral", "dm")


def open_dm(client: WebClient, user_id: str) -> str:
    return client.conversations_open(users=user_id)["channel"]["id"]


def post(client: WebClient, *, channel: str, blocks: Sequence[Block], text: str,
         thread_ts: str | None = None, paced: bool = True) -> list[str]:
    """Post blocks as one or more messages (50 blocks each); returns the messages' ts.

    Paced posts wait their workspace's turn (bulk posts: daily prompts, cohort messages); unpaced ones
    are replies someone is waiting for and go at once, held only by a 429 pause."""
    out = []
    pacer = client_pacer(client)
    for chunk in messages(blocks):
        if paced:
            pacer.wait_turn(channel)
        else:
            pacer.spend(channel)
        resp = client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=chunk, text=text,
                                       unfurl_links=False, unfurl_media=False)
        out.append(resp["ts"])
    return out


def post_ephemeral(client: WebClient, *, channel: str, user: str, blocks: Sequence[Block], text: str,
                   thread_ts: str | None = None) -> None:
    for chunk in messages(blocks):
        client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, blocks=chunk, text=text)


def deliver(client: WebClient, *, mode: str, channel: str, user: str, blocks: Sequence[Block], text: str,
            thread_ts: str | None = None) -> None:
    """Feedback to the thread (everyone sees it), only to the person in the thread, or to their DM.
    The person is waiting for it, so it is not paced."""
    if mode == "ephemeral":
        post_ephemeral(client, channel=channel, user=user, blocks=blocks, text=text, thread_ts=thread_ts)
    elif mode == "dm":
        post(client, channel=open_dm(client, user), blocks=blocks, text=text, paced=False)
    else:
        post(client, channel=channel, blocks=blocks, text=text, thread_ts=thread_ts, paced=False)
