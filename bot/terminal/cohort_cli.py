"""`gauntlet report` and `gauntlet export`: a cohort's chart and data from the terminal."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_WORKSPACE = "local"


def _db(url: str | None):
    from bot.store.db import make_engine
    from bot.store.schema import SchemaError, require_current_schema

    db = make_engine(url)
    try:
        # Reports and exports read a database the app may share: never change an older or newer schema.
        require_current_schema(db)
    except SchemaError as exc:
        raise SystemExit(f"gauntlet: {exc}") from None
    return db


def cmd_report(args: argparse.Namespace) -> int:
    from bot.cohorts.cohorts import CohortError
    from bot.cohorts.digest import build_digest, render_chart

    try:
        data = build_digest(_db(args.database_url), args.workspace, args.cohort, now=datetime.now(UTC),
                            weeks=args.weeks)
    except CohortError as exc:
        print(f"gauntlet report: {exc}", file=sys.stderr)
        return 2
    out = render_chart(data, args.out)
    share = f"{data.participation:.0%}" if data.participation is not None else "no drills sent"
    avg = f"{data.average:.0f}" if data.average is not None else "no answers"
    print(f"Cohort {data.cohort}: {len(data.members)} members, participation {share}, "
          f"average {avg} this week.")
    for item in data.stuck:
        print(f"  stuck: {item.user_id} on {item.label} ({item.attempts} attempts without improving)")
    print(f"Chart written to {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cohorts.cohorts import CohortError
    from bot.cohorts.export import export_cohort

    try:
        payload = export_cohort(_db(args.database_url), args.workspace, args.cohort, args.format,
                                now=datetime.now(UTC))
    except CohortError as exc:
        print(f"gauntlet export: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_bytes(payload)
        print(f"Export written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    return 0


def register(sub) -> None:
    """Add `report` and `export` to the `gauntlet` command's subparsers."""
    report = sub.add_parser("report", help="a cohort's progress: summary and a PNG chart per dimension")
    report.add_argument("--cohort", required=True, help="the cohort name")
    report.add_argument("--out", default="chart.png", help="where to write the PNG (default: chart.png)")
    report.add_argument("--weeks", type=int, default=4, help="weeks of history in the chart (default: 4)")
    report.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="Slack team id (default: local)")
    report.add_argument("--database-url", help="database to read (default: $DATABASE_URL or ./gauntlet.db)")
    report.set_defaults(func=cmd_report)

    export = sub.add_parser("export", help="a cohort's graded answers as CSV or JSON")
    export.add_argument("--cohort", required=True, help="the cohort name")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="Slack team id (default: local)")
    export.add_argument("--database-url", help="database to read (default: $DATABASE_URL or ./gauntlet.db)")
    export.set_defaults(func=cmd_export)
