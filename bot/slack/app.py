"""Builds the Bolt app: wires the settings, the Web API client, the domain and the listeners together."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.engine import InterviewEngine
from bot.slack.client import make_client
from bot.slack.config import Settings
from bot.slack.errors import explain
from bot.slack.interview import AnswerSaved

log = logging.getLogger("gauntlet.slack")

# Grading a long answer takes a moment; a prompt thread can get a burst of replies right after it
# is posted. More workers than Bolt's default five keep ack()s on commands well inside three seconds.
LISTENER_WORKERS = 16

TRY_AGAIN = ("I couldn't reach my database just now, so I didn't take that message. "
             "Please send it again in a minute.")
SAVED = ("Your answer is saved, but grading it hit a database hiccup. You'll get your feedback here "
         "as soon as the database is back; no need to send it again.")


class AckFirstExecutor(ThreadPoolExecutor):
    """Bolt's listener pool, holding Events API work back while other requests are being acknowledged.

    Bolt acknowledges an event before its listener starts, so that listener's work (database, Block
    Kit, posting) can wait; run at once it holds the GIL while the rest of a burst waits for its 200.
    Held work is released when no request has been in the app for `settle` seconds, or once the oldest
    has waited `max_delay`, so a steady stream of requests delays it by at most that. Commands and
    actions acknowledge from inside their listener, so they are never held."""

    def __init__(self, max_workers: int, *, settle: float = 0.05, max_delay: float = 0.25, **kwargs):
        super().__init__(max_workers=max_workers, **kwargs)
        self.settle, self.max_delay = settle, max_delay
        self._cond = threading.Condition()
        self._held: deque[tuple[float, Future, Callable, tuple, dict]] = deque()
        self._in_flight = 0
        self._last_request = 0.0
        self._stopping = False
        self._request = threading.local()
        self._releaser = threading.Thread(target=self._release_loop, name="ack-first", daemon=True)
        self._releaser.start()

    def request_started(self, deferrable: bool) -> None:
        self._request.deferrable = deferrable
        with self._cond:
            self._in_flight += 1

    def request_finished(self) -> None:
        self._request.deferrable = False
        with self._cond:
            self._in_flight -= 1
            self._last_request = time.monotonic()
            self._cond.notify_all()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if not getattr(self._request, "deferrable", False):
            return super().submit(fn, *args, **kwargs)
        future: Future = Future()
        with self._cond:
            if self._stopping:
                return super().submit(fn, *args, **kwargs)
            self._held.append((time.monotonic(), future, fn, args, kwargs))
            self._cond.notify_all()
        return future

    def _release_loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping or (self._held and self._can_release()):
                        break
                    self._cond.wait(self._next_check())
                ready = list(self._held)
                self._held.clear()
                done = self._stopping
            for _, future, fn, args, kwargs in ready:
                super().submit(_run_into, future, fn, args, kwargs)
            if done:
                return

    def _can_release(self) -> bool:
        now = time.monotonic()
        if now - self._held[0][0] >= self.max_delay:
            return True
        return self._in_flight == 0 and now - self._last_request >= self.settle

    def _next_check(self) -> float | None:
        if not self._held:
            return None
        now = time.monotonic()
        waits = [self.max_delay - (now - self._held[0][0])]
        if self._in_flight == 0:
            waits.append(self.settle - (now - self._last_request))
        return max(0.001, min(waits))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._releaser.is_alive() and threading.current_thread() is not self._releaser:
            self._releaser.join()
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


def _run_into(future: Future, fn: Callable, args: tuple, kwargs: dict) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # handed to whoever holds the future, as ThreadPoolExecutor does
        future.set_exception(exc)


class _AckFirstApp(App):
    """Tells the listener pool when each request is in the app, and whether its work may wait."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        executor = self.listener_runner.listener_executor
        if not isinstance(executor, AckFirstExecutor):
            return super().dispatch(req)
        body = req.body if isinstance(req.body, dict) else {}
        executor.request_started(deferrable=body.get("type") == "event_callback")
        try:
            return super().dispatch(req)
        finally:
            executor.request_finished()


def is_database_outage(error: BaseException) -> bool:
    """A failure to reach the database (as opposed to a bug): worth a "try again", not an apology."""
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


@dataclass
class Gauntlet:
    """What every listener needs from the domain; handed to listeners as `context["gauntlet"]`."""

    db: Engine
    engine: InterviewEngine
    # Called after a command changes a schedule, so a running scheduler picks it up at once.
    schedules_changed: Callable[[], None] | None = None
    # A client holding a given workspace's token, for work no request started (scheduled posts, cohort
    # jobs, answers graded after an outage): the app's own client with one bot token, the workspace's
    # installation with OAuth. Set by build_app; every background job gets its client here.
    client_for: Callable[[str], WebClient] | None = None


def build_app(settings: Settings, *, db: Engine, engine: InterviewEngine | None = None,
              socket_mode: bool = False) -> App:
    client = make_client(settings.bot_token, settings.api_url)
    oauth = None
    if settings.oauth:
        from bot.slack.oauth import oauth_settings

        oauth = oauth_settings(settings.client_id, settings.client_secret, db)
    app = _AckFirstApp(
        name="incident-gauntlet",
        client=client,
        oauth_settings=oauth,
        signing_secret=settings.signing_secret or "",
        # Socket Mode requests arrive over an authenticated websocket, not signed HTTP.
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        listener_executor=AckFirstExecutor(LISTENER_WORKERS, thread_name_prefix="listener"),
        logger=log,
    )
    from bot.slack import lifecycle
    from bot.slack.hardening import quiet_request_verification

    if not socket_mode:
        quiet_request_verification(app, settings.signing_secret or "")
    gauntlet = Gauntlet(db=db, engine=engine or InterviewEngine(db))
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
        if isinstance(error, AnswerSaved):
            tell_person(client, body, SAVED)
        elif is_database_outage(error):
            tell_person(client, body, TRY_AGAIN)
        else:  # a Slack error, or a bug: the person hears what went wrong and what to do
            tell_person(client, body, explain(error))

    from bot.slack.listeners import register

    register(app)
    lifecycle.register(app, oauth.installation_store if oauth is not None else None)
    app.gauntlet = gauntlet  # type: ignore[attr-defined]  # for the scheduler and tests
    return app


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
