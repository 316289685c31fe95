"""`gauntlet serve` and `gauntlet post-prompt`. Imports of Slack libraries happen inside the commands,
so the rest of the CLI starts fast and works without Slack settings."""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("gauntlet.slack")


def register(subparsers) -> None:
    serve = subparsers.add_parser(
        "serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, or --http)",
        description="Run the Slack app. Settings come from the environment or a .env file: "
                    "SLACK_BOT_TOKEN, and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (--http); "
                    "DATABASE_URL is optional.",
    )
    serve.add_argument("--http", action="store_true",
                       help="serve HTTP on $PORT (default 3000) at /slack/events instead of Socket Mode")
    serve.add_argument("--port", type=int, help="port for --http (default: $PORT or 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="address for --http to listen on")
    serve.add_argument("--no-scheduler", action="store_true",
                       help="do not post daily prompts from this process (another process does)")
    serve.add_argument("--no-worker", action="store_true",
                       help="with --http: leave grading and replies to `gauntlet worker` processes")
    serve.set_defaults(func=cmd_serve)

    worker = subparsers.add_parser(
        "worker", help="grade answers and deliver replies from the database (run as many as you like)",
        description="Take recorded Slack deliveries from the database's inbox, grade them and deliver the "
                    "replies owed. Safe to run several, on several machines, against one PostgreSQL. "
                    "Needs SLACK_BOT_TOKEN (or the OAuth settings) and DATABASE_URL.",
    )
    worker.add_argument("--threads", type=int, default=2, help="work in parallel in this process (default 2)")
    worker.add_argument("--no-scheduler", action="store_true",
                        help="do not post daily prompts and cohort drills from this process")
    worker.add_argument("--nice", type=int, default=10,
                        help="lower this process's CPU priority by N (default 10; 0 to keep it)")
    worker.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # stop when `gauntlet serve` is gone
    worker.set_defaults(func=cmd_worker)

    post = subparsers.add_parser("post-prompt", help="post a prompt to a Slack channel now")
    post.add_argument("--channel", required=True, help="the channel id (C…), from the channel's details")
    post.add_argument("--force", action="store_true",
                      help="post an extra prompt even if today's is already out")
    post.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                      help="how long to keep retrying while Slack fails (default 30); after that the "
                           "prompt stays queued for a running worker")
    post.set_defaults(func=cmd_post_prompt)

    from bot.slack import health

    health.register(subparsers)


def _settings(*, http: bool = False, socket_mode: bool = False):
    from bot.slack.config import SettingsError, load_settings

    try:
        return load_settings(http=http, socket_mode=socket_mode)
    except SettingsError as exc:
        print(f"gauntlet: {exc}", file=sys.stderr)
        return None


def _database(settings):
    """The app's database, or None after saying which command fixes its schema. An empty database
    is created, so a fresh install just works; an older or newer schema is refused."""
    from bot.store.db import make_engine
    from bot.store.schema import SchemaError, require_current_schema

    db = make_engine(settings.database_url)
    try:
        require_current_schema(db)
    except SchemaError as exc:
        db.dispose()
        print(f"gauntlet: {exc}", file=sys.stderr)
        return None
    return db


def _quiet_logs() -> None:
    """INFO is for what an operator acts on. APScheduler reports every job run (four lines a minute
    here) and Bolt warns on every start that the SLACK_BOT_TOKEN it read from the environment is unused
    because the app hands it a client built from that same token: neither says anything."""
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

    unused_token = warning_client_prioritized_and_token_skipped()
    log.addFilter(lambda record: record.getMessage() != unused_token)


def check_slack(settings, *, socket_mode: bool) -> None:
    """Ask Slack about the tokens before anything starts, so a wrong token, an app token without
    connections:write or no network ends start-up at once with SlackApiError or a network error, which
    `explain` turns into one clear line."""
    from slack_sdk import WebClient

    sdk_log = logging.getLogger("slack_sdk")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)  # the one line `explain` prints says it all
    try:
        if settings.bot_token:
            WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=15,
                      retry_handlers=[]).auth_test()
        if socket_mode:
            WebClient(base_url=settings.api_url, timeout=15, retry_handlers=[]).apps_connections_open(
                app_token=settings.app_token)
    finally:
        sdk_log.setLevel(level)


WHERE = {
    "SLACK_BOT_TOKEN": "api.slack.com/apps → your app → OAuth & Permissions → Bot User OAuth Token (xoxb-…)",
    "SLACK_APP_TOKEN": "api.slack.com/apps → your app → Basic Information → App-Level Tokens, a token with "
                       "the connections:write scope (xapp-…)",
}
REFUSED = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired")


def explain(exc: BaseException) -> str | None:
    """One or two lines for a Slack failure a person fixes in settings or on the network; None otherwise."""
    import socket
    import urllib.error

    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        error = (exc.response.get("error") if exc.response is not None else None) or "unknown_error"
        method = str(getattr(exc.response, "api_url", "")).rstrip("/").rsplit("/", 1)[-1]
        which = "SLACK_APP_TOKEN" if method == "apps.connections.open" else "SLACK_BOT_TOKEN"
        if error in REFUSED:
            return f"Slack refused {which} ({error}).\nCopy it again from {WHERE[which]}."
        if error == "not_allowed_token_type":
            return (f"{which} is not the right kind of token ({error}).\nIt comes from {WHERE[which]}.")
        if error == "missing_scope":
            return (f"{which} lacks a scope Slack needs for {method} (missing_scope).\n"
                    f"Generate one at {WHERE[which]}.")
        return f"Slack answered {method or 'a request'} with the error {error!r}."
    if isinstance(exc, BoltError) and "is invalid" in str(exc):
        where = WHERE["SLACK_BOT_TOKEN"]
        return f"Slack refused SLACK_BOT_TOKEN (invalid_auth).\nCopy it again from {where}."
    if isinstance(exc, urllib.error.URLError | ConnectionError | socket.gaierror | TimeoutError):
        reason = getattr(exc, "reason", None) or exc
        return (f"cannot reach Slack ({reason}).\n"
                "Check this machine's network connection (and any proxy or firewall), then start again.")
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _quiet_logs()
    settings = _settings(http=args.http, socket_mode=not args.http)
    if settings is None:
        return 2
    db = _database(settings)
    if db is None:
        return 1
    from bot.content import ContentErrors, default_content

    try:
        default_content()  # built-in plus $GAUNTLET_CONTENT_DIR: a broken file stops start-up, in words
    except ContentErrors as exc:
        for error in exc.errors:
            print(f"gauntlet: {error}", file=sys.stderr)
        print("gauntlet: fix the content (`gauntlet content check DIR` lists every problem), then start "
              "again.", file=sys.stderr)
        return 1
    check_slack(settings, socket_mode=not args.http)
    if args.http:
        db.dispose()  # each web process opens its own connections after gunicorn forks it
        return _serve_http(args, settings)
    from bot.interview.engine import InterviewEngine
    from bot.interview.grading_pool import PoolGrader
    from bot.slack.app import build_app
    from bot.slack.server import serve_socket_mode

    # Socket Mode is one process: the listeners record, a worker in here grades and answers. Grading
    # runs in worker processes, so it never holds this process's GIL while acknowledgements wait.
    grader = PoolGrader().start()
    try:
        engine = InterviewEngine(db, grader.content, grader=grader)
        app = build_app(settings, db=db, engine=engine, socket_mode=True)
        g = app.gauntlet
        scheduler = None if args.no_scheduler else _start_scheduler(g, app.client)
        try:
            serve_socket_mode(app, settings.app_token)
        finally:
            g.worker.stop()
            if scheduler is not None:
                scheduler.shutdown()
    finally:
        grader.shutdown()
    return 0


def _serve_http(args: argparse.Namespace, settings) -> int:
    """gunicorn's arbiter in this process, web processes under it, and (unless --no-worker) one
    `gauntlet worker` child that grades, answers and runs the scheduler."""
    import os
    import subprocess

    from bot.slack.server import serve_http

    child = None
    if not args.no_worker:
        command = [sys.executable, "-m", "bot", "worker", "--parent", str(os.getpid())]
        if args.no_scheduler:
            command.append("--no-scheduler")
        child = subprocess.Popen(command)

    def factory():
        from sqlalchemy.orm import configure_mappers

        from bot.pipeline.queue import warm_ack_connections
        from bot.slack.app import build_app
        from bot.store.db import make_engine

        db = make_engine(settings.database_url, checkpoints=False)
        app = build_app(settings, db=db, worker_threads=0)
        # Before the first request, not during it: the ORM's mappers, a first pooled connection, and
        # on PostgreSQL the first of the inbox insert's own connections (the rest open as concurrent
        # requests need them, at most one per web thread: warming all of them would hold
        # WEB_CONCURRENCY × GAUNTLET_WEB_THREADS server connections from the start).
        configure_mappers()
        with db.connect():
            pass
        warm_ack_connections(db, 1)
        return app

    try:
        serve_http(factory, args.host, args.port or settings.port)
    finally:
        if child is not None:
            child.terminate()
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import os
    import signal
    import threading

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # With OAuth each workspace's token comes from its installation, as in HTTP mode.
    settings = _settings(http=bool(os.environ.get("SLACK_CLIENT_ID")))
    if settings is None:
        return 2
    db = _database(settings)
    if db is None:
        return 1
    from bot.slack.app import make_gauntlet
    from bot.slack.worker import Worker

    if args.nice:
        # Beside web processes on one machine, grading yields the CPU to acknowledgements.
        os.nice(args.nice)
    g = make_gauntlet(settings, db=db)
    worker = Worker(g, threads=args.threads).start()
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler = None if args.no_scheduler else _start_scheduler(g, g.client)
    log.info("Worker %s taking work from the inbox and outbox (%d threads)", worker.name, args.threads)
    try:
        while not stop.wait(1.0):
            if args.parent and os.getppid() != args.parent:
                log.warning("gauntlet serve is gone; this worker stops too")
                break
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        if scheduler is not None:
            scheduler.shutdown()
        db.dispose()
    return 0


def _start_scheduler(g, client):
    from bot.daily.scheduler import PromptScheduler
    from bot.slack.cohorts import schedule_jobs as schedule_cohort_jobs
    from bot.slack.scheduled import OutboxPoster

    # Each prompt is owed through the outbox and delivered by a worker with its workspace's client; a
    # channel that refuses for good turns off and whoever set the schedule is told.
    poster = OutboxPoster(g)
    scheduler = PromptScheduler(g.db, g.engine.content, poster)
    # Cohort drills, reminders and digests ride on the same scheduler, every minute.
    schedule_cohort_jobs(scheduler.scheduler, g, client)
    scheduler.start()
    g.schedules_changed = scheduler.reload
    return scheduler


def cmd_post_prompt(args: argparse.Namespace) -> int:
    # Posting needs only the bot token: neither a signing secret nor an app token.
    settings = _settings()
    if settings is None:
        return 2
    db = _database(settings)
    if db is None:
        return 1
    from bot.content import default_content
    from bot.daily import daily
    from bot.slack.client import make_client
    from bot.slack.errors import explain, slack_error_code
    from bot.slack.scheduled import OutboxPoster
    from bot.slack.worker import deliver_now

    client = make_client(settings.bot_token, settings.api_url)
    try:
        workspace = client.auth_test()["team_id"]
    except Exception as exc:
        if slack_error_code(exc) is None:
            raise
        print(f"gauntlet: could not post to {args.channel}: {explain(exc)}", file=sys.stderr)
        return 1
    # The prompt is owed through the outbox with the day's claim, then delivered from here the way a
    # worker delivers it: if Slack does not take it within --wait, it stays owed for `gauntlet serve` or
    # `gauntlet worker` to deliver, and is never posted twice.
    app = _Delivery(db, client)
    poster = OutboxPoster(app)
    result = daily.post_now(db, default_content(), workspace, args.channel, poster, force=args.force)
    if result.status != "queued":
        if result.status == "failed":
            print(f"gauntlet: {result.message}", file=sys.stderr)
            return 1
        print(result.message)
        return 0
    item = deliver_now(app, poster.last_owed or "", wait=args.wait)
    what = "an extra prompt" if result.extra else f"the prompt for {result.day.isoformat()}"
    where = f"<#{args.channel}>"
    pid = f" ({result.prompt.id})" if result.prompt is not None else ""
    if item is not None and item.status == "sent":
        print(f"Posted {what}{pid} to {where}: Slack accepted it.")
        return 0
    if item is not None and item.status == "failed":
        print(f"gauntlet: could not post {what} to {where}: Slack answered {item.error}; it will not be "
              "retried.", file=sys.stderr)
        return 1
    error = f" (Slack answered {item.error})" if item is not None and item.error else ""
    print(f"Queued {what}{pid} for {where}: Slack has not accepted it yet{error}. It stays in the outbox "
          "and a running `gauntlet serve` or `gauntlet worker` delivers it, retrying with backoff; it is "
          "never posted twice.")
    return 0


class _Delivery:
    """What delivering from a terminal command needs of the app: the database and the one client."""

    def __init__(self, db, client):
        self.db, self.client = db, client

    def client_for(self, _workspace: str):
        return self.client
