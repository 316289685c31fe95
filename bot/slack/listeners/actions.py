"""Button actions."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.slack import cohorts as cohort_slack
from bot.slack.blocks import START_DRILL_ACTION
from bot.slack.cohort_blocks import (
    COHORT_ACCEPT_ACTION,
    COHORT_DECLINE_ACTION,
    FORGET_CANCEL_ACTION,
    FORGET_CONFIRM_ACTION,
)
from bot.slack.interview import record_drill


def on_start_drill(ack: Ack, body: dict, action: dict, context: BoltContext, client: WebClient):
    """The Home tab's "Start a drill" button: on record before the ack; a worker starts it in the DM."""
    value = action.get("value") or "full"
    workspace = context.team_id or (body.get("team") or {}).get("id") or ""
    g = context["gauntlet"]
    record_drill(g, workspace=workspace, user_id=body["user"]["id"],
                 round_id=None if value == "full" else value, level="mid",
                 request_id=body.get("trigger_id") or action.get("action_ts") or "")
    ack()
    g.wake()


def register(app: App) -> None:
    app.action(START_DRILL_ACTION)(on_start_drill)
    app.action(FORGET_CONFIRM_ACTION)(cohort_slack.on_forget_confirm)
    app.action(FORGET_CANCEL_ACTION)(cohort_slack.on_forget_cancel)
    app.action(COHORT_ACCEPT_ACTION)(cohort_slack.on_invitation)
    app.action(COHORT_DECLINE_ACTION)(cohort_slack.on_invitation)
