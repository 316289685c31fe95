"""How well the grader agrees with the labelled answers in tests/data/labelled/.

Reports, per set: pairwise ordering accuracy (overall and per round), per-flag precision and recall,
false positives on strong answers, whether gaming answers score below every honest medium answer
of their round, and the mean score per tier. It reports; it does not assert.

    .venv/bin/python bench/grading_accuracy.py [--set NAME|all] [--json]
    .venv/bin/python bench/grading_accuracy.py --compare c474a51    # the old grader beside the new one

`--compare REV` grades the same sets with the grader as it was at git revision REV (extracted with
`git archive` into a temporary directory, nothing checked out) and prints the two side by side.
c474a51 is the last revision before the sentence reader: the word-list grader.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "labelled"
SETS = (
    "dev", "holdout", "blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9",
    "blind10",
)
ROUNDS = ("opening", "probe", "sql", "constraint", "curveball", "synthesis")
TIER_RANK = {"weak": 0, "medium": 1, "strong": 2}
# Raising these on a strong answer is the most damaging mistake a grader can make in front of a user.
COSTLY_FLAGS = ("blame", "unsafe_sql", "gaming")

# Run as a script, sys.path[0] is bench/; the grader lives at the repository root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Graded:
    """One labelled answer next to what the grader said about it."""

    row: dict
    score: int
    flags: frozenset[str]
    verdict: str = ""


def load_set(name: str) -> list[dict]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def grade_rows(rows: list[dict], grade) -> tuple[list[Graded], list[tuple[str, str]]]:
    """Grade every row; a grader exception is recorded against the row instead of aborting the run."""
    graded, errors = [], []
    for row in rows:
        try:
            result = grade(row["text"], row["round"], level=row["level"])
        except Exception as exc:  # the bench reports grader crashes as results, not as its own failure
            errors.append((row["id"], f"{type(exc).__name__}: {exc}"))
            continue
        graded.append(Graded(row=row, score=int(result.score), flags=frozenset(result.flags),
                             verdict=result.verdict))
    return graded, errors


def pairwise_accuracy(graded: list[Graded]) -> dict:
    """Share of same-round pairs with different tiers that the score orders correctly; ties are wrong."""
    per_round: dict[str, list[int]] = {rnd: [0, 0] for rnd in ROUNDS}
    misordered: list[tuple[str, str]] = []
    by_round: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        by_round[g.row["round"]].append(g)
    for rnd, items in by_round.items():
        tally = per_round.setdefault(rnd, [0, 0])
        for a, b in combinations(items, 2):
            ra, rb = TIER_RANK[a.row["tier"]], TIER_RANK[b.row["tier"]]
            if ra == rb:
                continue
            hi, lo = (a, b) if ra > rb else (b, a)
            tally[1] += 1
            if hi.score > lo.score:
                tally[0] += 1
            else:
                misordered.append((hi.row["id"], lo.row["id"]))
    correct = sum(c for c, _ in per_round.values())
    total = sum(t for _, t in per_round.values())
    return {
        "overall": _share(correct, total),
        "pairs": total,
        "per_round": {rnd: {"accuracy": _share(c, t), "pairs": t} for rnd, (c, t) in per_round.items() if t},
        "misordered": misordered,
    }


def flag_metrics(graded: list[Graded], flag_names: tuple[str, ...]) -> dict:
    """Precision and recall per labelled flag; a raised flag missing from the labels is a false positive."""
    labelled = {f for g in graded for f in g.row["flags"]}
    out = {}
    for flag in (f for f in flag_names if f in labelled):
        tp = sum(1 for g in graded if flag in g.flags and flag in g.row["flags"])
        fp = [g.row["id"] for g in graded if flag in g.flags and flag not in g.row["flags"]]
        fn = [g.row["id"] for g in graded if flag not in g.flags and flag in g.row["flags"]]
        # Raised despite an explicit "must not" label: the hard negatives the set was written to catch.
        contradicted = [g.row["id"] for g in graded if flag in g.flags and flag in g.row["not_flags"]]
        out[flag] = {
            "precision": _share(tp, tp + len(fp)),
            "recall": _share(tp, tp + len(fn)),
            "true_positives": tp,
            "false_positives": fp,
            "false_negatives": fn,
            "contradicted": contradicted,
        }
    return out


def strong_false_positives(graded: list[Graded]) -> dict:
    strong = [g for g in graded if g.row["tier"] == "strong"]
    return {
        flag: {"count": len(ids), "of": len(strong), "ids": ids}
        for flag in COSTLY_FLAGS
        for ids in [[g.row["id"] for g in strong if flag in g.flags]]
    }


def gaming_below_medium(graded: list[Graded]) -> dict:
    """For each gaming answer: does it score below every honest (plain) medium answer of its round?"""
    honest: dict[str, list[int]] = defaultdict(list)
    for g in graded:
        if g.row["tier"] == "medium" and g.row["kind"] == "plain":
            honest[g.row["round"]].append(g.score)
    below, above = 0, []
    compared = 0
    for g in graded:
        if g.row["kind"] != "gaming" or not honest[g.row["round"]]:
            continue
        compared += 1
        if g.score < min(honest[g.row["round"]]):
            below += 1
        else:
            above.append(g.row["id"])
    return {"share": _share(below, compared), "below": below, "of": compared, "not_below": above}


def tier_means(graded: list[Graded]) -> dict:
    scores: dict[str, list[int]] = defaultdict(list)
    for g in graded:
        scores[g.row["tier"]].append(g.score)
    return {tier: round(sum(s) / len(s), 1) for tier in TIER_RANK if (s := scores.get(tier))}


# Calibration: the verdicts an interviewer would expect for each tier. A grader can order answers
# perfectly and still be useless if a strong story reads "Lean No Hire".
CALIBRATION = {
    "strong at Hire or better": ("strong", {"Strong Hire", "Hire"}),
    "strong at Lean Hire or better": ("strong", {"Strong Hire", "Hire", "Lean Hire"}),
    "weak at Lean No Hire or below": ("weak", {"Lean No Hire", "No Hire"}),
}


def calibration(graded: list[Graded]) -> dict:
    """The calibration table: the share of strong answers reaching Hire (and Lean Hire), of weak ones
    staying at Lean No Hire or below."""
    out = {}
    for name, (tier, verdicts) in CALIBRATION.items():
        rows = [g for g in graded if g.row["tier"] == tier]
        if rows:
            out[name] = {"agree": sum(g.verdict in verdicts for g in rows), "of": len(rows)}
    return out


EXPECTED_VERDICTS = {
    "strong": {"Strong Hire", "Hire"},
    "medium": {"Hire", "Lean Hire", "Lean No Hire"},
    "weak": {"Lean No Hire", "No Hire"},
}


def verdict_agreement(graded: list[Graded]) -> dict:
    """Per tier, the share of answers whose verdict is one an interviewer would expect for that tier."""
    out = {}
    for tier, expected in EXPECTED_VERDICTS.items():
        rows = [g for g in graded if g.row["tier"] == tier]
        if rows:
            out[tier] = {"agree": sum(g.verdict in expected for g in rows), "of": len(rows)}
    return out


def length_baseline(graded: list[Graded]) -> float | None:
    """Pairwise accuracy of word count alone: the number a grader has to beat to be worth anything."""
    by_length = [Graded(row=g.row, score=len(g.row["text"].split()), flags=g.flags) for g in graded]
    return pairwise_accuracy(by_length)["overall"]


def evaluate(graded: list[Graded], flag_names: tuple[str, ...]) -> dict:
    return {
        "answers": len(graded),
        "pairwise": pairwise_accuracy(graded),
        "length_baseline": length_baseline(graded),
        "flags": flag_metrics(graded, flag_names),
        "strong_false_positives": strong_false_positives(graded),
        "gaming_below_honest_medium": gaming_below_medium(graded),
        "mean_score_per_tier": tier_means(graded),
        "verdict_agreement": verdict_agreement(graded),
        "calibration": calibration(graded),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{value * 100:5.1f}%"


def render(name: str, report: dict, errors: list[tuple[str, str]], show_ids: bool) -> str:
    lines = [f"== {name}: {report['answers']} answers graded =="]
    pw = report["pairwise"]
    lines.append(
        f"pairwise ordering  {_pct(pw['overall'])}  over {pw['pairs']} pairs"
        f"  (word count alone: {_pct(report['length_baseline'])})"
    )
    for rnd, stats in pw["per_round"].items():
        lines.append(f"  {rnd:<11}{_pct(stats['accuracy'])}  ({stats['pairs']} pairs)")
    lines.append("flag                  precision  recall   tp  fp  fn  contradicted")
    for flag, m in report["flags"].items():
        lines.append(
            f"  {flag:<20}{_pct(m['precision']):>9}{_pct(m['recall']):>8}"
            f"{m['true_positives']:>5}{len(m['false_positives']):>4}{len(m['false_negatives']):>4}"
            f"{len(m['contradicted']):>14}"
        )
    fps = report["strong_false_positives"]
    lines.append(
        "false positives on strong answers: "
        + ", ".join(f"{flag} {s['count']}/{s['of']}" for flag, s in fps.items())
    )
    gm = report["gaming_below_honest_medium"]
    share = _pct(gm["share"])
    lines.append(f"gaming below every honest medium of its round: {share} ({gm['below']}/{gm['of']})")
    means = report["mean_score_per_tier"]
    lines.append("mean score per tier: " + ", ".join(f"{tier} {mean}" for tier, mean in means.items()))
    agreement = report["verdict_agreement"]
    lines.append("verdict as expected for the tier: " + ", ".join(
        f"{tier} {_pct(_share(a['agree'], a['of']))} ({a['agree']}/{a['of']})"
        for tier, a in agreement.items()
    ))
    lines.append("calibration: " + ", ".join(
        f"{name} {_pct(_share(a['agree'], a['of']))} ({a['agree']}/{a['of']})"
        for name, a in report.get("calibration", {}).items()
    ))
    if errors:
        lines.append(f"grader raised on {len(errors)} answers:")
        lines.extend(f"  {rid}: {msg}" for rid, msg in errors)
    # Ids only for the dev set: holdout and blind are reported in aggregate so its answers stay unseen.
    if show_ids:
        for flag, s in fps.items():
            if s["ids"]:
                lines.append(f"  strong answers flagged {flag}: {', '.join(s['ids'])}")
        if gm["not_below"]:
            lines.append(f"  gaming answers not below honest mediums: {', '.join(gm['not_below'])}")
    return "\n".join(lines)


def _redact(report: dict) -> dict:
    """Drop per-answer ids from a holdout report."""
    out = json.loads(json.dumps(report))
    out["pairwise"].pop("misordered")
    for m in out["flags"].values():
        for key in ("false_positives", "false_negatives", "contradicted"):
            m[key] = len(m[key])
    for s in out["strong_false_positives"].values():
        s.pop("ids")
    out["gaming_below_honest_medium"].pop("not_below")
    return out


def _old_reports(rev: str, names: tuple[str, ...]) -> dict:
    """The same bench run on the grader as it was at `rev`, in a subprocess (JSON, ids redacted)."""
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "bot", "content"],
                                 capture_output=True, check=False)
        if archive.returncode:
            raise SystemExit(f"grading_accuracy: cannot read revision {rev!r}: "
                             f"{archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        out = {}
        for name in names:
            run = subprocess.run(
                [sys.executable, __file__, "--grader-root", tmp, "--set", name, "--json"],
                capture_output=True, text=True, check=False,
            )
            if run.returncode:
                raise SystemExit(f"grading_accuracy: the {rev} grader failed on {name}: {run.stderr[-500:]}")
            out[name] = json.loads(run.stdout)[name]
        return out


def _row_figures(report: dict) -> dict[str, str]:
    """The headline figures of one report, as printed in the side-by-side table."""
    flags = report["flags"]

    def pr(flag: str) -> str:
        m = flags.get(flag)
        return "n/a" if m is None else f"{_pct(m['precision']).strip()} / {_pct(m['recall']).strip()}"

    fps = report["strong_false_positives"]
    gm = report["gaming_below_honest_medium"]
    cal = report.get("calibration", {})
    figures = {
        "ordering": _pct(report["pairwise"]["overall"]).strip(),
        "blame P/R": pr("blame"),
        "unsafe_sql P/R": pr("unsafe_sql"),
        "gaming P/R": pr("gaming"),
        "costly flags on strong": str(sum(s["count"] for s in fps.values())),
        "gaming < honest medium": f"{gm['below']}/{gm['of']}",
    }
    for name, a in cal.items():
        figures[name] = f"{_pct(_share(a['agree'], a['of'])).strip()} ({a['agree']}/{a['of']})"
    return figures


def render_compare(rev: str, new: dict, old: dict) -> str:
    lines = [f"old = the grader at {rev}; new = this working tree", ""]
    for name in new:
        n, o = _row_figures(new[name]), _row_figures(old[name])
        lines.append(f"== {name} ({new[name]['answers']} answers)")
        lines.append(f"  {'':32}{'old':>16}{'new':>16}")
        lines.extend(f"  {key:32}{o.get(key, 'n/a'):>16}{value:>16}" for key, value in n.items())
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=(*SETS, "all"), default="all", dest="which")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--compare", metavar="REV", help="also grade with the grader at git revision REV")
    parser.add_argument("--grader-root", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.grader_root:
        sys.path.insert(0, args.grader_root)

    try:
        from bot.rubric.types import FLAGS

        # A revision from before issue 15 has no bot/interview/ and its rubric loads its own content.
        # Decide by the files, not by trying the import: an editable install's finder would serve
        # bot.interview from this checkout and mix two revisions.
        root = Path(args.grader_root) if args.grader_root else ROOT
        if (root / "bot" / "interview" / "grading.py").exists():
            from bot.interview.grading import grade  # the grader with the default content
        else:
            from bot.rubric import grade
    except ImportError as exc:
        print(f"grading_accuracy: cannot import the grader (bot.interview.grading.grade): {exc}",
              file=sys.stderr)
        print("The bench needs bot/interview/grading.py (before issue 15: bot/rubric/) to provide "
              "grade(text, round_id, level).", file=sys.stderr)
        return 2

    names = SETS if args.which == "all" else (args.which,)
    results = {}
    for name in names:
        graded, errors = grade_rows(load_set(name), grade)
        results[name] = (evaluate(graded, FLAGS), errors)

    if args.compare:
        new = {name: _redact(report) for name, (report, _errors) in results.items()}
        print(render_compare(args.compare, new, _old_reports(args.compare, names)))
        return 0
    if args.json:
        payload = {
            name: {
                **(report if name == "dev" else _redact(report)),
                "errors": errors if name == "dev" else len(errors),
            }
            for name, (report, errors) in results.items()
        }
        print(json.dumps(payload, indent=2))
    else:
        print("\n\n".join(render(n, r, e, show_ids=n == "dev") for n, (r, e) in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
