"""The `gauntlet` command."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.rubric.types import LEVELS

APP_NAME = "incident-gauntlet"


def drill_database(explicit: str | None) -> tuple[str | None, Path | None]:
    """Where drills are kept: --database-url, then $DATABASE_URL, then gauntlet.db in the user's data
    directory (the same file from whatever directory the drill is run). Returns (url, private file):
    the file is set only for that default, which is the person's own and may be upgraded on the spot."""
    if explicit:
        return explicit, None
    if os.environ.get("DATABASE_URL", "").strip():
        return None, None
    import platformdirs

    path = platformdirs.user_data_path(APP_NAME, appauthor=False) / "gauntlet.db"
    return f"sqlite:///{path}", path


def _engine_db(url: str | None, private: bool, say=None):
    """The drill's database, ready to use. The default file is the person's own, so an older schema
    there is upgraded on the spot; a database named by flag or DATABASE_URL may be shared with a
    running app, and is left to `gauntlet db upgrade` (SchemaError says so)."""
    from bot.store.db import make_engine
    from bot.store.schema import require_current_schema

    db = make_engine(url)
    status = require_current_schema(db, upgrade_if_behind=private)
    if status.state == "behind":
        print(f"Upgraded your drill database from schema revision {status.current} to {status.head}.",
              file=sys.stderr)
    return db


def _open_drill_db(args: argparse.Namespace, console):
    """The drill database, saying once (when the default file is first made) where it lives."""
    url, private_file = drill_database(args.database_url)
    first_time = private_file is not None and not private_file.exists()
    if private_file is not None:
        private_file.parent.mkdir(parents=True, exist_ok=True)
    db = _engine_db(url, private_file is not None)
    if first_time:
        # Paths and commands are never wrapped, so they copy and paste whole.
        console.print(f"Your drills are saved in {private_file} (`gauntlet history` lists them).",
                      soft_wrap=True)
        if Path("gauntlet.db").is_file():
            console.print("(An older ./gauntlet.db is here; to go on using it, add "
                          "--database-url sqlite:///gauntlet.db)")
    return db


def _shown_url(url: str) -> str:
    """A database URL fit to print: any password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse; make_engine will say so
        return url


def resume_command(args: argparse.Namespace) -> str:
    command = "gauntlet drill --resume"
    if args.database_url:
        command += f" --database-url {shlex.quote(_shown_url(args.database_url))}"
    return command


def cmd_drill(args: argparse.Namespace) -> int:
    from bot.content import default_content
    from bot.interview.engine import InterviewEngine
    from bot.store.schema import SchemaError
    from bot.terminal.drill import run_drill
    from bot.terminal.textview import make_console

    content = default_content()
    if args.round and args.round not in content.rounds:
        print(f"gauntlet drill: unknown round '{args.round}'. Choose one of: "
              f"{', '.join(content.rounds)}.", file=sys.stderr)
        return 2
    console = make_console()
    try:
        db = _open_drill_db(args, console)
    except SchemaError as exc:
        print(f"gauntlet drill: {exc}", file=sys.stderr)
        return 1
    engine = InterviewEngine(db, content)
    hint = resume_command(args)
    try:
        return run_drill(engine, round_id=args.round, level=args.level, resume=args.resume,
                         detail=args.detail, resume_command=hint, console=console, timed=args.timed)
    except KeyboardInterrupt:
        print(f"\nSaved. Continue with: {hint}", file=sys.stderr)
        return 130


def cmd_story(args: argparse.Namespace) -> int:
    from bot.content import default_content
    from bot.interview.story import StoryError, assemble, choose_interview, to_markdown
    from bot.store.schema import SchemaError
    from bot.terminal.drill import WORKSPACE, local_user

    url, private_file = drill_database(args.database_url)
    if private_file is not None and not private_file.exists():
        print("gauntlet story: no drills yet. Start one with: gauntlet drill", file=sys.stderr)
        return 1
    try:
        db = _engine_db(url, private_file is not None)
    except SchemaError as exc:
        print(f"gauntlet story: {exc}", file=sys.stderr)
        return 1
    try:
        interview = choose_interview(db, WORKSPACE, local_user(), args.interview)
        text = to_markdown(assemble(db, interview.id, default_content()))
    except StoryError as exc:
        print(f"gauntlet story: {exc}", file=sys.stderr)
        return 1
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"Wrote the story of interview #{interview.id} to {args.out}.")
    else:
        print(text, end="")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from sqlmodel import Session, col, select

    from bot.content import default_content
    from bot.interview.engine import InterviewEngine
    from bot.store.models import Interview
    from bot.terminal.drill import WORKSPACE, local_user
    from bot.terminal.textview import history_view, make_console, scorecard_view

    url, private_file = drill_database(args.database_url)
    console = make_console()
    if private_file is not None and not private_file.exists():
        console.print("No drills yet. Start one with: gauntlet drill")
        return 0
    db = _engine_db(url, private_file is not None)
    engine = InterviewEngine(db, default_content())
    with Session(db) as s:
        q = select(Interview).where(Interview.workspace == WORKSPACE, Interview.user_id == local_user(),
                                    Interview.source == "cli")
        if args.id is not None:
            q = q.where(Interview.id == args.id)
        interviews = list(s.exec(q.order_by(col(Interview.id).desc()).limit(args.limit)))
    if args.id is not None:
        if not interviews:
            print(f"gauntlet history: no drill #{args.id} of yours here; `gauntlet history` lists them.",
                  file=sys.stderr)
            return 1
        console.print(f"Drill #{args.id} ({interviews[0].level} level, "
                      f"{interviews[0].created_at:%Y-%m-%d %H:%M} UTC)")
        console.print(scorecard_view(engine.scorecard(args.id)))
        return 0
    if not interviews:
        console.print("No drills yet. Start one with: gauntlet drill")
        return 0
    if private_file is not None:
        console.print(f"Drills kept in {private_file}, newest first:", style="dim", soft_wrap=True)
    for interview in interviews:
        console.print(history_view(interview, engine.scorecard(interview.id)))
    console.print("`gauntlet history ID` shows one drill's whole scorecard.", style="dim")
    return 0


def _read_text(source: str | None) -> str:
    if source is None or source == "-":
        if sys.stdin.isatty():
            if source is None:
                raise UsageError(
                    "no answer given. Name a file (gauntlet grade --round opening answer.txt), pipe one "
                    "in (… < answer.txt), or give - to type it here.")
            print("Type or paste the answer, then Ctrl-D on an empty line.", file=sys.stderr)
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"no such file: {source}")
    return path.read_text(encoding="utf-8", errors="replace")


class UsageError(Exception):
    """Input the command cannot take, said in one line; exit status 2."""


def cmd_grade(args: argparse.Namespace) -> int:
    from bot.content import default_content
    from bot.rubric import grade
    from bot.terminal.textview import grade_detail, make_console

    if args.batch:
        extra = [flag for flag, given in (("an answer file", args.file is not None),
                                          ("--round", args.round is not None), ("--id", args.id is not None))
                 if given]
        if extra:
            print(f"gauntlet grade: --batch takes each answer's id, round and text from {args.batch}; "
                  f"drop {' and '.join(extra)}.", file=sys.stderr)
            return 2
        return _grade_batch(args, default_content())
    content = default_content()
    if not args.round:
        print("gauntlet grade: --round is required (one of: " + ", ".join(content.rounds) + ")",
              file=sys.stderr)
        return 2
    if args.round not in content.rounds:
        print(f"gauntlet grade: unknown round '{args.round}'. Choose one of: "
              f"{', '.join(content.rounds)}.", file=sys.stderr)
        return 2
    try:
        text = _read_text(args.file)
    except UsageError as exc:
        print(f"gauntlet grade: {exc}", file=sys.stderr)
        return 2
    if not text.strip():
        print("gauntlet grade: the answer is empty; there is nothing to grade.", file=sys.stderr)
        return 2
    result = grade(text, args.round, args.level, content=content, id=args.id)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        make_console().print(grade_detail(result))
    return 0


def _batch_item(line: str) -> tuple[object, dict | None, str | None]:
    """(id, item, problem): the id is kept whenever the line has one, so an error row can be matched."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        return None, None, f"not JSON: {exc}"
    if not isinstance(item, dict):
        return None, None, "each line must be a JSON object with id, round and text"
    ident = item.get("id")
    missing = [k for k in ("id", "round", "text") if k not in item]
    if missing:
        return ident, None, f"missing {', '.join(missing)}"
    if not isinstance(item["text"], str):
        return ident, None, "text must be a string"
    if not item["text"].strip():
        return ident, None, "text is empty; there is nothing to grade"
    return ident, item, None


def _grade_batch(args: argparse.Namespace, content) -> int:
    from bot.rubric import grade

    path = args.batch
    if path == "-":
        lines = sys.stdin.read().splitlines()
    elif Path(path).is_file():
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    else:
        print(f"gauntlet grade: no such file: {path}", file=sys.stderr)
        return 2
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    failures = 0
    with _batch_progress(len(numbered)) as advance:
        for lineno, line in numbered:
            ident, item, problem = _batch_item(line)
            if item is not None:
                try:
                    record = grade(item["text"], str(item["round"]), item.get("level", args.level),
                                   content=content, id=str(ident)).to_dict()
                except ValueError as exc:  # an unknown round or level
                    problem = str(exc)
            if problem is not None:
                failures += 1
                # Still one line out per input, in order, so outputs can be zipped with inputs.
                record = {"id": ident, "line": lineno, "error": problem}
                print(f"{path}:{lineno}: {problem}", file=sys.stderr)
            print(json.dumps(record, ensure_ascii=False))
            advance()
    return 1 if failures else 0


@contextlib.contextmanager
def _batch_progress(total: int):
    """A progress bar on stderr when someone is watching a terminal while the JSON goes to a file or
    pipe, and the batch is long enough to wait for. (JSON lines on the terminal show progress
    themselves.)"""
    if total < 20 or not sys.stderr.isatty() or sys.stdout.isatty():
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True,
                  # stdout is the JSON output: never routed through the bar's console (stderr).
                  redirect_stdout=False) as progress:
        task = progress.add_task("grading", total=total)
        yield lambda: progress.advance(task)


def cmd_content_check(args: argparse.Namespace) -> int:
    from bot.content import check_content
    from bot.content.loader import content_dirs_from_env

    errors = check_content(args.dir)
    env_dirs = [] if args.dir else content_dirs_from_env()
    if args.dir:
        where = f"{args.dir} (over the built-in content)"
    elif env_dirs:
        where = f"GAUNTLET_CONTENT_DIR={os.pathsep.join(map(str, env_dirs))} (over the built-in content)"
    else:
        where = "built-in content"
    if errors:
        for e in errors:
            print(str(e), file=sys.stderr)
        print(f"{len(errors)} problem(s) in {where}.", file=sys.stderr)
        return 1
    print(f"{where}: OK")
    return 0


def _builtin_rounds() -> str:
    """The built-in round ids for --help, read from the one small file rather than loading all content."""
    try:
        import yaml

        from bot.content import BUILTIN_CONTENT_DIR

        data = yaml.safe_load((BUILTIN_CONTENT_DIR / "gauntlet.yml").read_text(encoding="utf-8"))
        return ", ".join(data["gauntlet"]["rounds"])
    except Exception:  # help must never fail; `gauntlet grade` names the rounds on a bad one
        return "see `gauntlet content check`"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gauntlet",
        description="Practise the production-incident interview story, graded against an explicit rubric.",
        epilog="New here? Start with: gauntlet drill   (the whole interview in this terminal, no setup)",
    )
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails (works after any command too)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    rounds = _builtin_rounds()
    level_help = "grade against what this level is expected to show (default: mid)"

    drill = sub.add_parser("drill", help="run the interview in this terminal (no Slack needed)")
    drill.add_argument("--round", help=f"drill one round only: {rounds}")
    drill.add_argument("--level", choices=LEVELS, default="mid", help=level_help)
    drill.add_argument("--resume", action="store_true", help="continue your interrupted drill")
    drill.add_argument("--timed", action="store_true",
                       help="against the clock: about 2 minutes an answer, 20 minutes in all")
    drill.add_argument("--detail", action="store_true",
                       help="show the full breakdown after every answer (type `detail` for it once)")
    drill.add_argument("--database-url",
                       help="where to keep progress (default: $DATABASE_URL, else gauntlet.db in your "
                            "data directory; `gauntlet history` shows where)")
    drill.set_defaults(func=cmd_drill)

    history = sub.add_parser("history", help="list your past drills with their scorecards")
    history.add_argument("id", nargs="?", type=int, help="show this drill's whole scorecard")
    history.add_argument("--limit", type=int, default=20, help="how many drills to list (default 20)")
    history.add_argument("--database-url", help="the database the drills were kept in (as for drill)")
    history.set_defaults(func=cmd_history)

    story = sub.add_parser("story", help="your best answers assembled into one STAR write-up (Markdown)")
    story.add_argument("--interview", type=int, metavar="ID", help="which drill (default: your best)")
    story.add_argument("--out", metavar="FILE", help="write the Markdown to FILE instead of printing it")
    story.add_argument("--database-url", help="the database the drills were kept in (as for drill)")
    story.set_defaults(func=cmd_story)

    grade = sub.add_parser("grade", help="grade one answer, or a batch of answers")
    grade.add_argument("file", nargs="?", default=None,
                       help="answer text file, or - to read stdin (piped input is read without -)")
    grade.add_argument("--round", help=f"the round the answer is for: {rounds}")
    grade.add_argument("--level", choices=LEVELS, default="mid", help=level_help)
    grade.add_argument("--json", action="store_true",
                       help="print JSON (its fields: README, 'Grading from the command line')")
    grade.add_argument("--id", help="id to put in the JSON output")
    grade.add_argument("--batch", metavar="FILE.jsonl",
                       help='grade many: one {"id", "round", "text"} per line (optional "level"); one JSON '
                            "line out per input, in order; no answer file or --round with it")
    grade.set_defaults(func=cmd_grade)

    content = sub.add_parser("content", help="work with interview content")
    csub = content.add_subparsers(dest="content_command", metavar="SUBCOMMAND")
    check = csub.add_parser(
        "check", help="validate content YAML: DIR, else $GAUNTLET_CONTENT_DIR, over the built-in content")
    check.add_argument("dir", nargs="?", help="a team content directory")
    check.set_defaults(func=cmd_content_check)
    content.set_defaults(func=lambda a: (content.print_help(), 2)[1])

    _register_optional(sub)
    return parser


def _register_optional(sub) -> None:
    """Commands that live with other parts of the app (Slack, cohorts) register themselves."""
    for module in ("bot.slack.cli", "bot.terminal.cohort_cli", "bot.terminal.db_cli",
                   "bot.terminal.calibration_cli"):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(sub)


def explain(exc: BaseException) -> str | None:
    """One or two lines for a failure a person can cause and fix (settings, content, database,
    network, tokens); None for a bug, which keeps its traceback."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    from bot.content import ContentErrors

    if isinstance(exc, ContentErrors):
        from bot.content.loader import content_dirs_from_env

        dirs = os.pathsep.join(map(str, content_dirs_from_env()))
        where = f"GAUNTLET_CONTENT_DIR={dirs}" if dirs else "the built-in content"
        first = exc.errors[0] if exc.errors else "unknown problem"
        return (f"the content in {where} has {len(exc.errors)} problem(s), the first: {first}\n"
                "Run `gauntlet content check` to see them all, or unset GAUNTLET_CONTENT_DIR.")
    if isinstance(exc, OperationalError):
        reason = " ".join(str(exc.orig or exc).split())
        # psycopg nests "connection failed: connection to server at … failed: FATAL: …": keep the end.
        reason = reason.rsplit(" failed: ", 1)[-1]
        return (f"cannot open the database: {reason}\n"
                "Check DATABASE_URL (or --database-url): the server must be running and the database exist.")
    if isinstance(exc, ArgumentError):
        return f"{exc}. A database URL looks like sqlite:///path/to/file.db or postgresql://user@host/db."
    for module in ("bot.slack.cli",):
        if importlib.util.find_spec(module) is not None:
            told = getattr(importlib.import_module(module), "explain", lambda e: None)(exc)
            if told:
                return told
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is accepted anywhere on the line, so `gauntlet serve --debug` works as people type it.
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if not argv else 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader went away (`gauntlet grade --batch … | head`): stop quietly, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        if debug:
            raise
        print("\nStopped.", file=sys.stderr)
        return 130
    except Exception as exc:
        told = explain(exc)
        if debug or told is None:
            raise
        print(f"gauntlet {args.command}: {told}", file=sys.stderr)
        return 1
