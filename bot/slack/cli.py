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


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
