"""`gauntlet db …`: bring a database's schema up to this version of the app, and inspect it."""

from __future__ import annotations

import argparse
import os
import sys

URL_HELP = "the database (default: $DATABASE_URL, then DATABASE_URL in ./.env, then ./gauntlet.db)"


def database_url(explicit: str | None) -> str | None:
    """The same database `gauntlet serve` would use: the flag, the environment, then ./.env."""
    if explicit:
        return explicit
    if os.environ.get("DATABASE_URL", "").strip():
        return os.environ["DATABASE_URL"].strip()
    from dotenv import dotenv_values

    value = (dotenv_values(os.path.join(os.getcwd(), ".env")).get("DATABASE_URL") or "").strip()
    return value or None


def _engine(args: argparse.Namespace):
    from bot.store.db import make_engine

    return make_engine(database_url(args.database_url))


def _shown(engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from bot.store.schema import SchemaError, check_schema, upgrade

    engine = _engine(args)
    try:
        before = check_schema(engine)
        after = upgrade(engine, args.revision)
    except SchemaError as exc:
        print(f"gauntlet db upgrade: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if before.current == after.current:
        print(f"{_shown(engine)}: already at revision {after.current}; nothing to do.")
    else:
        print(f"{_shown(engine)}: upgraded from revision {before.current or 'none (empty)'} "
              f"to {after.current}.")
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    from bot.store.schema import check_schema

    engine = _engine(args)
    try:
        status = check_schema(engine)
    finally:
        engine.dispose()
    notes = {
        "ok": "up to date",
        "empty": "no tables yet",
        "behind": f"behind: this app needs {status.head}",
        "ahead": "written by a newer version of the app",
        "unknown": "the app's tables, with no revision recorded",
    }
    print(f"{status.current or 'none'} ({notes[status.state]})")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.store.schema import check_schema

    engine = _engine(args)
    try:
        status = check_schema(engine)
    finally:
        engine.dispose()
    if status.state == "ok":
        print(f"{_shown(engine)}: schema at revision {status.current}, as this app needs.")
        return 0
    print(f"gauntlet db check: {status.problem()}", file=sys.stderr)
    return 1


def cmd_stamp(args: argparse.Namespace) -> int:
    from alembic.util import CommandError

    from bot.store.schema import stamp

    engine = _engine(args)
    try:
        stamp(engine, args.revision)
    except CommandError as exc:
        print(f"gauntlet db stamp: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{_shown(engine)}: recorded revision {args.revision} (no tables were changed).")
    return 0


def cmd_revision(args: argparse.Namespace) -> int:
    from bot.store.schema import new_revision

    path = new_revision(args.message)
    print(f"Wrote {path}. Review it (and its downgrade) before committing.")
    return 0


def cmd_rebuild_board(args: argparse.Namespace) -> int:
    from bot.boards.leaderboard import rebuild_totals
    from bot.store.schema import SchemaError, require_current_schema

    engine = _engine(args)
    try:
        require_current_schema(engine, create_if_empty=False)
        written = rebuild_totals(engine, args.workspace)
    except SchemaError as exc:
        print(f"gauntlet db rebuild-board: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    scope = f"workspace {args.workspace}" if args.workspace else "every workspace"
    print(f"{_shown(engine)}: leaderboard totals of {scope} recomputed from the points ({written} rows).")
    return 0


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database schema: upgrade, current, check, rebuild-board",
                               description="Keep the database's schema in step with this version of the app.")
    dsub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND")

    up = dsub.add_parser("upgrade", help="run the migrations this database has not had yet")
    up.add_argument("--database-url", help=URL_HELP)
    up.add_argument("--revision", default="head", help="stop at this revision (default: the newest)")
    up.set_defaults(func=cmd_upgrade)

    current = dsub.add_parser("current", help="print the database's schema revision")
    current.add_argument("--database-url", help=URL_HELP)
    current.set_defaults(func=cmd_current)

    check = dsub.add_parser("check", help="exit 1, saying what to run, unless the schema fits this app")
    check.add_argument("--database-url", help=URL_HELP)
    check.set_defaults(func=cmd_check)

    st = dsub.add_parser("stamp", help="record a revision without running migrations (tables made by hand)")
    st.add_argument("revision", help="the revision the tables already match")
    st.add_argument("--database-url", help=URL_HELP)
    st.set_defaults(func=cmd_stamp)

    rb = dsub.add_parser("rebuild-board",
                         help="recompute the leaderboard totals from the points awarded (safe to rerun)")
    rb.add_argument("--workspace", help="only this workspace (default: every workspace)")
    rb.add_argument("--database-url", help=URL_HELP)
    rb.set_defaults(func=cmd_rebuild_board)

    rev = dsub.add_parser("revision", help="(developers) write a migration for changed models")
    rev.add_argument("-m", "--message", required=True, help="what changed, e.g. 'add person.team'")
    rev.set_defaults(func=cmd_revision)

    db.set_defaults(func=lambda a: (db.print_help(), 2)[1])
