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
from bot.slack.interview import start_drill


def on_start_drill(ack: Ack, body: dict, action: dict, context: BoltContext, client: WebClient):
    """The Home tab's "Start a drill" button: the drill starts in the person's DM."""
    ack()
    value = action.get("value") or "full"
    workspace = context.team_id or (body.get("team") or {}).get("id") or ""
    start_drill(context["gauntlet"], client, workspace=workspace, user_id=body["user"]["id"],
                round_id=None if value == "full" else value)


def register(app: App) -> None:
    app.action(START_DRILL_ACTION)(on_start_drill)
    app.action(FORGET_CONFIRM_ACTION)(cohort_slack.on_forget_confirm)
    app.action(FORGET_CANCEL_ACTION)(cohort_slack.on_forget_cancel)
    app.action(COHORT_ACCEPT_ACTION)(cohort_slack.on_invitation)
    app.action(COHORT_DECLINE_ACTION)(cohort_slack.on_invitation)
