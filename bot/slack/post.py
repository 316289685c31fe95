"""Sending rendered blocks to Slack: one place that knows the three feedback destinations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.slack.blocks import messages
from bot.slack.pacing import client_pacer

FEEDBACK_MODES = ("thread", "ephemeral", "dm")
TRY_AGAIN = ("I couldn't reach my database just now, so I didn't take that message. "
             "Please send it again in a minute.")

log = logging.getLogger("gauntlet.slack")


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


def tell_person_later(client: WebClient, body: dict, text: str) -> None:
    """`tell_person` off the request thread, so the acknowledgement does not wait for Slack."""
    threading.Thread(target=tell_person, args=(client, body, text), name="tell-person", daemon=True).start()


def tell_person(client: WebClient, body: dict, text: str) -> None:
    """Say `text` to whoever sent this request: the command's response_url, or beside their message."""
    try:
        if body.get("response_url"):
            from slack_sdk.webhook import WebhookClient

            WebhookClient(body["response_url"]).send(text=text, response_type="ephemeral",
                                                     replace_original=False)
            return
        event = body.get("event") or {}
        user, channel = event.get("user"), event.get("channel")
        if body.get("type") == "block_actions":
            user = (body.get("user") or {}).get("id")
            channel = client.conversations_open(users=user)["channel"]["id"] if user else None
            client.chat_postMessage(channel=channel, text=text)
        elif channel and user and event.get("channel_type") == "im":
            client.chat_postMessage(channel=channel, text=text)
        elif channel and user:
            client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=event.get("thread_ts"))
    except Exception as exc:  # the reply is best effort: the original failure is already logged
        log.warning("could not tell the person about a failure: %s", exc.__class__.__name__)
