"""`gauntlet calibration`: how well the grader agrees with people, from a rated file or the database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_calibration(args: argparse.Namespace) -> int:
    from bot.cohorts.calibration import RatingsError, calibrate, compare_file, format_report, parse_ratings
    from bot.content import default_content
    from bot.rubric.config import rubric_from

    content = default_content()
    if args.ratings:
        source = args.ratings
        if source == "-":
            lines = sys.stdin.read().splitlines()
        elif Path(source).is_file():
            lines = Path(source).read_text(encoding="utf-8", errors="replace").splitlines()
        else:
            print(f"gauntlet calibration: no such file: {source}", file=sys.stderr)
            return 2
        try:
            rated = parse_ratings(lines, content)
        except RatingsError as exc:
            for problem in exc.problems:
                print(f"{source}: {problem}", file=sys.stderr)
            return 2
        report = calibrate(compare_file(rated, content))
    else:
        from bot.cohorts.cohorts import CohortError
        from bot.cohorts.peers import stored_comparisons
        from bot.terminal.cohort_cli import _db

        try:
            comparisons = stored_comparisons(_db(args.database_url), workspace=args.workspace,
                                             cohort=args.cohort)
        except CohortError as exc:  # no such cohort, or a cohort named without its workspace
            print(f"gauntlet calibration: {exc}", file=sys.stderr)
            return 2
        if not comparisons:
            print("gauntlet calibration: no human ratings stored yet (peer mock interviews record them); "
                  "or rate a file of answers: gauntlet calibration --ratings FILE.jsonl", file=sys.stderr)
            return 1
        report = calibrate(comparisons)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(format_report(report, rubric_from(None).labels))
    return 0


def register(sub) -> None:
    """Add `calibration` to the `gauntlet` command's subparsers."""
    cal = sub.add_parser("calibration",
                         help="how well the grader agrees with people (rated file, or peer-mock ratings)")
    cal.add_argument("--ratings", metavar="FILE.jsonl",
                     help='rated answers, one {"id", "round", "text", "verdict", "dimensions": {KEY: 1-4}} '
                          "per line (- for stdin); without it, the ratings stored by peer mock interviews")
    cal.add_argument("--json", action="store_true", help="print JSON")
    cal.add_argument("--workspace", help="only this Slack team id (database mode)")
    cal.add_argument("--cohort", help="only this cohort (database mode; needs --workspace)")
    cal.add_argument("--database-url", help="database to read (default: $DATABASE_URL or ./gauntlet.db)")
    cal.set_defaults(func=cmd_calibration)
