"""Builds the Bolt app: wires the settings, the Web API client, the domain and the listeners together."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.interview.engine import InterviewEngine
from bot.slack.client import make_client
from bot.slack.config import Settings
from bot.slack.errors import explain
from bot.slack.post import TRY_AGAIN, tell_person
from bot.store.db import is_database_outage

log = logging.getLogger("gauntlet.slack")

# Listeners only record and acknowledge (grading happens on a worker); commands and the Home tab still
# call Slack after their ack, so a few more threads than Bolt's default five.
LISTENER_WORKERS = 8

@dataclass
class Gauntlet:
    """What every listener needs from the domain; handed to listeners as `context["gauntlet"]`."""

    db: Engine
    engine: InterviewEngine
    client: WebClient | None = None
    # Called after a command changes a schedule, so a running scheduler picks it up at once.
    schedules_changed: Callable[[], None] | None = None
    # A client holding a given workspace's token, for work no request started (scheduled posts, cohort
    # jobs, answers graded after an outage): the app's own client with one bot token, the workspace's
    # installation with OAuth. Set by build_app; every background job gets its client here.
    client_for: Callable[[str], WebClient] | None = None
    # The worker in this process, when there is one (Socket Mode, in-process apps); HTTP web processes
    # leave the inbox to `gauntlet worker` processes.
    worker: object | None = None

    def wake(self) -> None:
        """Something was recorded: an in-process worker looks now, not at its next poll."""
        if self.worker is not None:
            self.worker.wake()


def make_gauntlet(settings: Settings, *, db: Engine, engine: InterviewEngine | None = None) -> Gauntlet:
    """The domain and Slack clients without a Bolt app: what a `gauntlet worker` process needs."""
    from bot.slack import lifecycle

    client = make_client(settings.bot_token, settings.api_url)
    gauntlet = Gauntlet(db=db, engine=engine or InterviewEngine(db), client=client)
    if settings.oauth:
        from bot.slack.oauth import installation_store

        store = installation_store(settings.client_id, db)
        gauntlet.client_for = lifecycle.installation_clients(store, settings.api_url)
    else:
        gauntlet.client_for = lifecycle.single_workspace_clients(client)
    return gauntlet


def build_app(settings: Settings, *, db: Engine, engine: InterviewEngine | None = None,
              socket_mode: bool = False, worker_threads: int = 2) -> App:
    """The Bolt app. `worker_threads` > 0 runs a worker in this process (0: another process does)."""
    client = make_client(settings.bot_token, settings.api_url)
    oauth = None
    if settings.oauth:
        from bot.slack.oauth import oauth_settings

        oauth = oauth_settings(settings.client_id, settings.client_secret, db)
    app = App(
        name="incident-gauntlet",
        client=client,
        oauth_settings=oauth,
        signing_secret=settings.signing_secret or "",
        # Socket Mode requests arrive over an authenticated websocket, not signed HTTP.
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(LISTENER_WORKERS, thread_name_prefix="listener"),
        logger=log,
    )
    from bot.slack import lifecycle
    from bot.slack.hardening import quiet_request_verification

    if not socket_mode:
        quiet_request_verification(app, settings.signing_secret or "")
    gauntlet = Gauntlet(db=db, engine=engine or InterviewEngine(db), client=client)
    gauntlet.client_for = (lifecycle.installation_clients(oauth.installation_store, settings.api_url)
                           if oauth is not None else lifecycle.single_workspace_clients(app.client))

    @app.middleware
    def _inject(context: BoltContext, next):
        context["gauntlet"] = gauntlet
        return next()

    @app.error
    def _on_error(error: Exception, body: dict, logger: logging.Logger, client: WebClient):
        # One place for unexpected failures; bodies can hold people's answers, so only ids are logged.
        kind = body.get("type") or body.get("command") or "request"
        logger.exception("listener failed on %s: %s", kind, error.__class__.__name__, exc_info=error)
        if is_database_outage(error):
            tell_person(client, body, TRY_AGAIN)
        else:  # a Slack error, or a bug: the person hears what went wrong and what to do
            tell_person(client, body, explain(error))

    from bot.slack.listeners import register

    register(app)
    lifecycle.register(app, oauth.installation_store if oauth is not None else None)
    app.gauntlet = gauntlet  # type: ignore[attr-defined]  # for the scheduler and tests
    if worker_threads > 0:
        from bot.slack.worker import Worker

        gauntlet.worker = Worker(gauntlet, threads=worker_threads).start()
    return app
