"""Messages: answers in a prompt's thread, answers in a drill DM, and edited answers.

Recorded in the inbox by a listener middleware, which runs while the request is still in the app: Slack
gets its 200 only after the row is written. The listener (after the ack) only wakes the worker."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.slack import interview, peers
from bot.slack.post import TRY_AGAIN, tell_person_later
from bot.slack.text import readable
from bot.store.db import is_database_outage

log = logging.getLogger("gauntlet.slack")


def records(body: dict) -> bool:
    """Whether this message event is put on record (answers, edits, peer-thread replies), as opposed to
    one the listener handles (a top-level group-DM message)."""
    event = body.get("event") or {}
    if event.get("channel_type") == "mpim" and event.get("subtype") != "message_changed":
        return bool(event.get("thread_ts") and event["thread_ts"] != event.get("ts"))
    return True


def record_event(g, body: dict, workspace: str):
    """Write a message event to the inbox (`records(body)` is true); None when it is nothing to act on."""
    event = body.get("event") or {}
    peer_reply = event.get("channel_type") == "mpim" and event.get("subtype") != "message_changed"
    record = interview.record_peer_message if peer_reply else interview.record_message
    return record(g, workspace=workspace, event=event, event_id=body.get("event_id"))


def record_first(body: dict, context: BoltContext, client: WebClient, next) -> BoltResponse | None:
    """Write the message to the inbox before the acknowledgement; say "send it again" when we cannot."""
    workspace = context.team_id or body.get("team_id") or ""
    if not records(body):
        return next()  # a top-level group-DM message: at most a pointer to the turn's thread
    try:
        recorded = record_event(context["gauntlet"], body, workspace)
    except Exception as exc:
        if not is_database_outage(exc):
            raise
        log.warning("could not record a message (%s); asking the person to resend", exc.__class__.__name__)
        tell_person_later(client, body, TRY_AGAIN)
        return BoltResponse(status=200, body="")
    if recorded is None or context["gauntlet"].worker is None:
        # Nothing to do here: a web process leaves the row to the worker processes (no listener run).
        return BoltResponse(status=200, body="")
    context["recorded"] = recorded
    return next()


def on_message(event: dict, body: dict, context: BoltContext, client: WebClient):
    """A message is on record: let this process's worker (if any) take it now. A top-level group-DM
    message from someone due to answer a peer mock gets a pointer to the turn's thread."""
    in_thread = event.get("thread_ts") and event["thread_ts"] != event.get("ts")
    if event.get("channel_type") != "mpim" or in_thread or event.get("subtype") == "message_changed":
        context["gauntlet"].wake()
        return
    text, user, channel = event.get("text") or "", event.get("user"), event.get("channel")
    if event.get("subtype") not in interview.ANSWER_SUBTYPES or event.get("bot_id"):
        return
    if not (isinstance(text, str) and isinstance(user, str) and isinstance(channel, str)):
        return
    event = {**event, "text": readable(text)}
    if not event["text"].strip():
        return
    workspace = context.team_id or body.get("team_id") or ""
    peers.on_group_message(context["gauntlet"], client, workspace=workspace, event=event)


def register(app: App) -> None:
    app.event("message", middleware=[record_first])(on_message)


