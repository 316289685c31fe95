"""Builds the Bolt app: wires the settings, the Web API client, the domain and the listeners together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App, BoltContext
from sqlalchemy.engine import Engine

from bot.engine import InterviewEngine
from bot.slack.client import make_client
from bot.slack.config import Settings

log = logging.getLogger("gauntlet.slack")

# Grading a long answer takes a moment; a prompt thread can get a burst of replies right after it
# is posted. More workers than Bolt's default five keep ack()s on commands well inside three seconds.
LISTENER_WORKERS = 16


@dataclass
class Gauntlet:
    """What every listener needs from the domain; handed to listeners as `context["gauntlet"]`."""

    db: Engine
    engine: InterviewEngine
    # Called after a command changes a schedule, so a running scheduler picks it up at once.
    schedules_changed: Callable[[], None] | None = None


def build_app(settings: Settings, *, db: Engine, engine: InterviewEngine | None = None,
              socket_mode: bool = False) -> App:
    client = make_client(settings.bot_token, settings.api_url)
    app = App(
        name="incident-gauntlet",
        client=client,
        signing_secret=settings.signing_secret or "",
        # Socket Mode requests arrive over an authenticated websocket, not signed HTTP.
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_WORKERS, thread_name_prefix="listener"),
        logger=log,
    )
    gauntlet = Gauntlet(db=db, engine=engine or InterviewEngine(db))

    @app.middleware
    def _inject(context: BoltContext, next):
        context["gauntlet"] = gauntlet
        return next()

    @app.error
    def _on_error(error: Exception, body: dict, logger: logging.Logger):
        # One place for unexpected failures; bodies can hold people's answers, so only ids are logged.
        kind = body.get("type") or body.get("command") or "request"
        logger.exception("listener failed on %s: %s", kind, error.__class__.__name__, exc_info=error)

    from bot.slack.listeners import register

    register(app)
    app.gauntlet = gauntlet  # type: ignore[attr-defined]  # for the scheduler and tests
    return app
