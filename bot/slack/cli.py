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
    if args.http:
        db.dispose()  # each web process opens its own connections after gunicorn forks it
        return _serve_http(args, settings)
    from bot.engine import InterviewEngine
    from bot.grading_pool import PoolGrader
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

        from bot.slack.app import build_app
        from bot.store.db import make_engine

        db = make_engine(settings.database_url)
        app = build_app(settings, db=db, worker_threads=0)
        # Before the first request, not during it: the ORM's mappers and a first pooled connection.
        configure_mappers()
        with db.connect():
            pass
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
    from bot.scheduler import PromptScheduler
    from bot.slack.cohorts import schedule_jobs as schedule_cohort_jobs
    from bot.slack.interview import prompt_poster

    if g.client_for is not None:  # many workspaces: each prompt goes out with its workspace's token
        from bot.slack.oauth import channel_poster

        poster = channel_poster(g.client_for)
    else:
        poster = prompt_poster(client)
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
    from bot import daily
    from bot.content import default_content
    from bot.slack.client import make_client
    from bot.slack.interview import prompt_poster

    client = make_client(settings.bot_token, settings.api_url)
    workspace = client.auth_test()["team_id"]
    result = daily.post_now(db, default_content(), workspace, args.channel,
                            prompt_poster(client), force=args.force)
    print(result.message, file=sys.stdout if result.status != "failed" else sys.stderr)
    return 1 if result.status == "failed" else 0

