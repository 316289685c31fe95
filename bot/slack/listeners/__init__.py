"""Listeners by surface; each module's `register(app)` attaches plain functions."""

from slack_bolt import App

from bot.slack.listeners import actions, commands, events, messages, peers


def register(app: App) -> None:
    commands.register(app)
    messages.register(app)
    events.register(app)
    actions.register(app)
    peers.register(app)
