"""Messages: answers in a prompt's thread, answers in a drill DM, and edited answers.

Recorded in the inbox by a listener middleware, which runs while the request is still in the app: Slack
gets its 200 only after the row is written. The listener (after the ack) only wakes the worker."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from bot.slack import interview
from bot.slack.app import TRY_AGAIN, is_database_outage, tell_person_later

log = logging.getLogger("gauntlet.slack")


def record_first(body: dict, context: BoltContext, client: WebClient, next) -> BoltResponse | None:
    """Write the message to the inbox before the acknowledgement; say "send it again" when we cannot."""
    event = body.get("event") or {}
    workspace = context.team_id or body.get("team_id") or ""
    try:
        recorded = interview.record_message(context["gauntlet"], workspace=workspace, event=event,
                                            event_id=body.get("event_id"))
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


def on_message(context: BoltContext):
    """A message is on record: let this process's worker (if any) take it now."""
    context["gauntlet"].wake()


def register(app: App) -> None:
    app.event("message", middleware=[record_first])(on_message)


