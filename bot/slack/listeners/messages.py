"""Messages: answers in a prompt's thread, answers in a drill DM, and edited answers."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack import cohorts, interview, peers


def on_message(event: dict, body: dict, context: BoltContext, client: WebClient, logger: logging.Logger):
    """Route a message event to the interview it belongs to, if any."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        interview.on_edit(context["gauntlet"], client, event)
        return
    # Bots (ourselves included), joins, deletions, file shares without text: not answers. A payload
    # missing its channel, or with fields of the wrong type, is not one either.
    text, user, channel = event.get("text"), event.get("user"), event.get("channel")
    well_formed = all(isinstance(v, str) and v.strip() for v in (text, user, channel))
    if subtype or event.get("bot_id") or not well_formed:
        return
    workspace = context.team_id or body.get("team_id") or ""
    event_id = body.get("event_id")
    if event.get("channel_type") == "im":
        if cohorts.on_dm_answer(context["gauntlet"], client, workspace=workspace, event=event,
                                event_id=event_id):
            return
        interview.on_dm_answer(context["gauntlet"], client, workspace=workspace, event=event,
                               event_id=event_id)
        return
    thread_ts = event.get("thread_ts")
    if event.get("channel_type") == "mpim" and not thread_ts:
        peers.on_group_message(context["gauntlet"], client, workspace=workspace, event=event)
        return
    if thread_ts and thread_ts != event.get("ts"):
        if peers.on_thread_message(context["gauntlet"], client, workspace=workspace, event=event,
                                   event_id=event_id):
            return  # a peer mock session's thread in a group DM
        interview.on_thread_reply(context["gauntlet"], client, workspace=workspace, event=event,
                                  event_id=event_id)


def register(app: App) -> None:
    app.event("message")(on_message)
