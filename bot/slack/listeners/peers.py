"""Peer mock interviews: the Start and Rate buttons and the rating modal's submission."""

from __future__ import annotations

from slack_bolt import App

from bot.slack import peers
from bot.slack.peer_blocks import PEER_RATE_ACTION, PEER_RATING_VIEW, PEER_START_ACTION


def register(app: App) -> None:
    app.action(PEER_START_ACTION)(peers.on_start)
    app.action(PEER_RATE_ACTION)(peers.on_rate)
    app.view(PEER_RATING_VIEW)(peers.on_rating_submitted)
