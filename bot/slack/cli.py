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
    serve.set_defaults(func=cmd_serve)

    post = subparsers.add_parser("post-prompt", help="post a prompt to a Slack channel now")
    post.add_argument("--channel", required=True, help="the channel id (C…), from the channel's details")
    post.add_argument("--force", action="store_true",
                      help="post an extra prompt even if today's is already out")
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
    from bot.engine import InterviewEngine
    from bot.grading_pool import PoolGrader
    from bot.slack.app import build_app
    from bot.slack.interview import resume_pending, start_pending_sweep
    from bot.slack.server import serve_http, serve_socket_mode

    # Grading is CPU-bound Python: in worker processes it never holds this process's GIL while the
    # next requests of a burst wait to be acknowledged. Started (and warmed) before serving.
    grader = PoolGrader().start()
    try:
        engine = InterviewEngine(db, grader.content, grader=grader)
        app = build_app(settings, db=db, engine=engine, socket_mode=not args.http)
        g = app.gauntlet
        # Answers recorded before a crash or restart are graded and answered now.
        try:
            resumed = resume_pending(g, app.client)
        except Exception:  # never a reason not to serve: the sweep below tries again every minute
            log.exception("grading answers left over from the last run failed; the sweep will retry")
            resumed = 0
        if resumed:
            log.info("Graded %d answer(s) left over from the last run", resumed)
        # And answers left ungraded by a database outage while running are graded once it is back.
        sweep = start_pending_sweep(g, app.client)
        scheduler = None if args.no_scheduler else _start_scheduler(g, app.client)
        try:
            if args.http:
                serve_http(app, args.port or settings.port, args.host)
            else:
                serve_socket_mode(app, settings.app_token)
        finally:
            sweep.set()
            if scheduler is not None:
                scheduler.shutdown()
    finally:
        grader.shutdown()
    return 0


def _start_scheduler(g, client):
    from bot.scheduler import PromptScheduler
    from bot.slack.cohorts import schedule_jobs as schedule_cohort_jobs
    from bot.slack.interview import scheduled_poster

    # Each prompt goes out with its workspace's client; a channel that refuses for good turns off.
    poster = scheduled_poster(g)
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
    from types import SimpleNamespace

    from bot import daily
    from bot.content import default_content
    from bot.slack.client import make_client
    from bot.slack.errors import explain, slack_error_code
    from bot.slack.interview import scheduled_poster

    client = make_client(settings.bot_token, settings.api_url)
    try:
        workspace = client.auth_test()["team_id"]
    except Exception as exc:
        if slack_error_code(exc) is None:
            raise
        print(f"gauntlet: could not post to {args.channel}: {explain(exc)}", file=sys.stderr)
        return 1
    app = SimpleNamespace(db=db, client_for=lambda _workspace: client)
    result = daily.post_now(db, default_content(), workspace, args.channel, scheduled_poster(app),
                            force=args.force)
    if result.status == "failed":
        print(f"gauntlet: {result.message}", file=sys.stderr)
        return 1
    print(result.message)
    return 0
