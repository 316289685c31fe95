"""The `gauntlet` command."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.rubric.types import LEVELS


def _engine_db(url: str | None):
    """The drill's database, ready to use. The default ./gauntlet.db is the person's own file, so an
    older schema there is upgraded on the spot; a database named by flag or DATABASE_URL may be shared
    with a running app, and is left to `gauntlet db upgrade` (SchemaError says so)."""
    from bot.store.db import make_engine
    from bot.store.schema import require_current_schema

    private = url is None and not os.environ.get("DATABASE_URL")
    db = make_engine(url)
    status = require_current_schema(db, upgrade_if_behind=private)
    if status.state == "behind":
        print(f"Upgraded your drill database from schema revision {status.current} to {status.head}.",
              file=sys.stderr)
    return db


def cmd_drill(args: argparse.Namespace) -> int:
    from bot.content import default_content
    from bot.drill import run_drill
    from bot.engine import InterviewEngine

    content = default_content()
    if args.round and args.round not in content.rounds:
        print(f"gauntlet drill: unknown round '{args.round}'. Choose one of: "
              f"{', '.join(content.rounds)}.", file=sys.stderr)
        return 2
    from bot.store.schema import SchemaError

    try:
        db = _engine_db(args.database_url)
    except SchemaError as exc:
        print(f"gauntlet drill: {exc}", file=sys.stderr)
        return 1
    engine = InterviewEngine(db, content)
    try:
        return run_drill(engine, round_id=args.round, level=args.level, resume=args.resume)
    except KeyboardInterrupt:
        print("\nSaved. Continue with: gauntlet drill --resume", file=sys.stderr)
        return 130


def _read_text(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise SystemExit(f"gauntlet grade: no such file: {source}")
    return path.read_text(encoding="utf-8", errors="replace")


def cmd_grade(args: argparse.Namespace) -> int:
    from bot.content import default_content
    from bot.rubric import grade
    from bot.textview import format_grade

    content = default_content()
    if args.batch:
        return _grade_batch(args, content)
    if not args.round:
        print("gauntlet grade: --round is required (one of: " + ", ".join(content.rounds) + ")",
              file=sys.stderr)
        return 2
    if args.round not in content.rounds:
        print(f"gauntlet grade: unknown round '{args.round}'. Choose one of: "
              f"{', '.join(content.rounds)}.", file=sys.stderr)
        return 2
    text = _read_text(args.file)
    result = grade(text, args.round, args.level, content=content, id=args.id)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(format_grade(result))
    return 0


def _batch_item(line: str) -> dict:
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object with id, round and text")
    missing = [k for k in ("id", "round", "text") if k not in item]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not isinstance(item["text"], str):
        raise ValueError("text must be a string")
    return item


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
    progress = sys.stderr.isatty()
    total = sum(1 for line in lines if line.strip())
    failures = done = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        done += 1
        ident = None
        try:
            item = _batch_item(line)
            ident = item["id"]
            level = item.get("level", args.level)
            record = grade(item["text"], str(item["round"]), level, content=content, id=str(ident)).to_dict()
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            failures += 1
            # Still one line out per input, in order, so outputs can be zipped with inputs.
            record = {"id": ident, "line": lineno, "error": str(exc)}
            print(f"{path}:{lineno}: {exc}", file=sys.stderr)
        print(json.dumps(record, ensure_ascii=False))
        if progress:
            filled = int(30 * done / total) if total else 30
            print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    return 1 if failures else 0


def cmd_content_check(args: argparse.Namespace) -> int:
    from bot.content import check_content

    errors = check_content(args.dir)
    where = args.dir or "built-in content"
    if errors:
        for e in errors:
            print(str(e), file=sys.stderr)
        print(f"{len(errors)} problem(s) in {where}.", file=sys.stderr)
        return 1
    print(f"{where}: OK")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gauntlet",
        description="Practise the production-incident interview story, graded against an explicit rubric.",
        epilog="New here? Start with: gauntlet drill   (the whole interview in this terminal, no setup)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    drill = sub.add_parser("drill", help="run the interview in this terminal (no Slack needed)")
    drill.add_argument("--round", help="drill one round only (e.g. sql, curveball)")
    drill.add_argument("--level", choices=LEVELS, default="mid", help="grade against this level")
    drill.add_argument("--resume", action="store_true", help="continue your interrupted drill")
    drill.add_argument("--database-url", help="where to keep progress (default: ./gauntlet.db)")
    drill.set_defaults(func=cmd_drill)

    grade = sub.add_parser("grade", help="grade one answer, or a batch of answers")
    grade.add_argument("file", nargs="?", default="-", help="answer text file, or - for stdin")
    grade.add_argument("--round", help="the round the answer is for")
    grade.add_argument("--level", choices=LEVELS, default="mid")
    grade.add_argument("--json", action="store_true", help="print JSON")
    grade.add_argument("--id", help="id to put in the JSON output")
    grade.add_argument("--batch", metavar="FILE.jsonl",
                       help='grade many: one {"id", "round", "text"} per line; one JSON line out per input')
    grade.set_defaults(func=cmd_grade)

    content = sub.add_parser("content", help="work with interview content")
    csub = content.add_subparsers(dest="content_command", metavar="SUBCOMMAND")
    check = csub.add_parser("check", help="validate content YAML (built in, or DIR on top of it)")
    check.add_argument("dir", nargs="?", help="a team content directory")
    check.set_defaults(func=cmd_content_check)
    content.set_defaults(func=lambda a: (content.print_help(), 2)[1])

    _register_optional(sub)
    return parser


def _register_optional(sub) -> None:
    """Commands that live with other parts of the app (Slack, cohorts) register themselves."""
    for module in ("bot.slack.cli", "bot.cohort_cli", "bot.db_cli", "bot.calibration_cli"):
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if argv is None or not list(argv) else 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader went away (`gauntlet grade --batch … | head`): stop quietly, like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
