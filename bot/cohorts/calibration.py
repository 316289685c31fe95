"""How well the grader agrees with people: exact and adjacent agreement and quadratic weighted kappa,
for the verdict and for each rubric dimension, with the number of answers behind each figure.

Pure domain (no Slack, no database): callers hand in `Comparison`s, built here from a JSONL file of
human-rated answers (`compare_file`) or by `bot.cohorts.peers` from ratings stored by peer mock interviews.
Kappa is scikit-learn's `cohen_kappa_score(weights="quadratic")`, not a formula written anew.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.content import Content
from bot.rubric.types import DIMENSIONS, VERDICTS, Grade

# The scale people rate each dimension on in the peer-mock modal and in rated files.
LEVELS = {1: "missing", 2: "weak", 3: "solid", 4: "strong"}
# Where a grader's dimension score (a fraction of the dimension's maximum) falls on that scale:
# nothing at all is "missing", under half "weak", under four fifths "solid", the rest "strong".
WEAK_BELOW, SOLID_BELOW = 0.5, 0.8


class RatingsError(ValueError):
    """A rated file that cannot be used; each problem names its line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def level_of(score: int, maximum: int) -> int:
    """The grader's dimension score on the people's 1–4 scale."""
    if maximum <= 0 or score <= 0:
        return 1
    fraction = score / maximum
    if fraction < WEAK_BELOW:
        return 2
    return 3 if fraction < SOLID_BELOW else 4


def verdict_index(verdict: str) -> int:
    """Position on the verdict scale (0 = Strong Hire … 4 = No Hire); case and spacing are forgiven."""
    wanted = " ".join(verdict.split()).lower()
    for i, name in enumerate(VERDICTS):
        if name.lower() == wanted:
            return i
    raise ValueError(f"'{verdict}' is not a verdict; use one of: {', '.join(VERDICTS)}")


@dataclass(frozen=True)
class Comparison:
    """One answer seen by a person and by the grader."""

    id: str
    round: str
    human_verdict: str
    bot_verdict: str
    human_dimensions: dict[str, int] = field(default_factory=dict)  # key → 1..4
    bot_dimensions: dict[str, int] = field(default_factory=dict)  # key → 1..4


@dataclass(frozen=True)
class Agreement:
    """Agreement on one scale: how many answers, and how often the two sides match."""

    name: str
    n: int
    exact: float | None  # share of answers with the same rating
    adjacent: float | None  # share within one step (exact included)
    kappa: float | None  # quadratic weighted kappa; None when undefined (no answers, or no spread at all)


@dataclass(frozen=True)
class CalibrationReport:
    verdict: Agreement
    dimensions: list[Agreement]  # one per dimension rated, in the rubric's order
    all_dimensions: Agreement  # every dimension rating pooled

    @property
    def answers(self) -> int:
        return self.verdict.n

    def to_dict(self) -> dict:
        def row(a: Agreement) -> dict:
            return {"n": a.n, "exact": a.exact, "adjacent": a.adjacent, "kappa": a.kappa}

        return {"answers": self.answers, "verdict": row(self.verdict),
                "all_dimensions": row(self.all_dimensions),
                "dimensions": {a.name: row(a) for a in self.dimensions}}


def agreement(name: str, pairs: Sequence[tuple[int, int]], labels: Sequence[int]) -> Agreement:
    """Exact, adjacent and quadratic weighted kappa for (human, grader) pairs on an ordinal scale.

    `labels` is the whole scale, so the kappa weights are the same whichever ratings happen to occur."""
    if not pairs:
        return Agreement(name, 0, None, None, None)
    from sklearn.metrics import cohen_kappa_score

    human = [h for h, _ in pairs]
    bot = [b for _, b in pairs]
    n = len(pairs)
    exact = sum(1 for h, b in pairs if h == b) / n
    adjacent = sum(1 for h, b in pairs if abs(h - b) <= 1) / n
    with warnings.catch_warnings():
        # Both sides giving one single rating makes kappa 0/0; sklearn warns (RuntimeWarning or, in
        # newer releases, UndefinedMetricWarning) and returns nan, which is reported as undefined.
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(human, bot, labels=list(labels), weights="quadratic"))
    return Agreement(name, n, exact, adjacent, None if value != value else value)


def calibrate(comparisons: Iterable[Comparison]) -> CalibrationReport:
    """The figures for a set of compared answers."""
    items = list(comparisons)
    verdicts = [(verdict_index(c.human_verdict), verdict_index(c.bot_verdict)) for c in items]
    by_dim: dict[str, list[tuple[int, int]]] = {}
    for c in items:
        for key, human in c.human_dimensions.items():
            if key in c.bot_dimensions:
                by_dim.setdefault(key, []).append((human, c.bot_dimensions[key]))
    order = [k for k in DIMENSIONS if k in by_dim] + sorted(set(by_dim) - set(DIMENSIONS))
    scale = list(LEVELS)
    return CalibrationReport(
        verdict=agreement("verdict", verdicts, range(len(VERDICTS))),
        dimensions=[agreement(k, by_dim[k], scale) for k in order],
        all_dimensions=agreement("all dimensions", [p for k in order for p in by_dim[k]], scale),
    )


def bot_levels(grade: Grade | dict) -> dict[str, int]:
    """The grader's dimensions (a Grade, or a stored grade's dimension dicts) on the 1–4 scale."""
    dims = grade.dimensions if isinstance(grade, Grade) else grade.get("dimensions", [])
    out = {}
    for d in dims:
        key, score, maximum = (d.key, d.score, d.max) if not isinstance(d, dict) else (
            d["key"], d["score"], d["max"])
        if maximum:
            out[key] = level_of(score, maximum)
    return out


# ---- a file of human-rated answers ------------------------------------------------------------------

@dataclass(frozen=True)
class RatedAnswer:
    id: str
    round: str
    text: str
    verdict: str
    dimensions: dict[str, int]
    level: str = "mid"


def parse_ratings(lines: Iterable[str], content: Content) -> list[RatedAnswer]:
    """Read JSONL: one {"id", "round", "text", "verdict", "dimensions"?: {key: 1..4}, "level"?} per line.

    Every problem in the file is collected, with its line number, before anything is graded."""
    out: list[RatedAnswer] = []
    problems: list[str] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(_rated(line, content))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append(f"line {lineno}: {exc}")
    if problems:
        raise RatingsError(problems)
    if not out:
        raise RatingsError(["the file has no rated answers (one JSON object per line)"])
    return out


def _rated(line: str, content: Content) -> RatedAnswer:
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object with id, round, text and verdict")
    missing = [k for k in ("id", "round", "text", "verdict") if k not in item]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    round_id = str(item["round"])
    if round_id not in content.rounds:
        raise ValueError(f"unknown round '{round_id}'; use one of: {', '.join(content.rounds)}")
    if not isinstance(item["text"], str) or not isinstance(item["verdict"], str):
        raise ValueError("text and verdict must be strings")
    verdict_index(item["verdict"])
    dims = item.get("dimensions") or {}
    if not isinstance(dims, dict):
        raise ValueError('dimensions must be an object such as {"timeline": 3}')
    weighs = content.rounds[round_id].weighs
    for key, value in dims.items():
        if key not in weighs:
            raise ValueError(f"round '{round_id}' does not weigh '{key}'; it weighs: {', '.join(weighs)}")
        if isinstance(value, bool) or value not in LEVELS:
            raise ValueError(f"'{key}' is rated {value!r}; ratings are 1 (missing) to 4 (strong)")
    return RatedAnswer(id=str(item["id"]), round=round_id, text=item["text"], verdict=item["verdict"],
                       dimensions={k: int(v) for k, v in dims.items()}, level=str(item.get("level", "mid")))


Grader = Callable[..., Grade]


def compare_file(
    rated: Sequence[RatedAnswer], content: Content, grader: Grader | None = None
) -> list[Comparison]:
    """Grade each rated answer and pair the grader's view with the person's."""
    if grader is None:
        from bot.rubric import grade as grader
    out = []
    for item in rated:
        grade = grader(item.text, item.round, item.level, content=content, id=item.id)
        out.append(Comparison(id=item.id, round=item.round, human_verdict=item.verdict,
                              bot_verdict=grade.verdict, human_dimensions=dict(item.dimensions),
                              bot_dimensions=bot_levels(grade)))
    return out


# ---- text -----------------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _kappa(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def format_report(report: CalibrationReport, labels: dict[str, str] | None = None) -> str:
    """A plain-text table: one row for the verdict, one for all dimensions, one per dimension."""
    labels = labels or {}
    lines = [f"Grader agreement with people over {report.answers} rated answer(s)",
             f"{'':28}{'n':>5}{'exact':>8}{'adjacent':>10}{'kappa':>8}"]

    def row(name: str, a: Agreement) -> str:
        return f"{name[:28]:28}{a.n:>5}{_pct(a.exact):>8}{_pct(a.adjacent):>10}{_kappa(a.kappa):>8}"

    lines.append(row("verdict", report.verdict))
    lines.append(row("all dimensions", report.all_dimensions))
    lines.extend(row("  " + labels.get(a.name, a.name), a) for a in report.dimensions)
    lines.append("exact: same rating; adjacent: within one step; kappa: quadratic weighted (1 = perfect, "
                 "0 = chance; — when undefined).")
    return "\n".join(lines)
