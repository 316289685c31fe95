"""Plain-text rendering of questions, grades and scorecards for the terminal drill and `gauntlet grade`."""

from __future__ import annotations

import textwrap

from bot.clock import TRIM_NOTE, elapsed_line, mmss
from bot.engine import Question, Scorecard
from bot.rubric.types import Grade

WIDTH = 88


def _wrap(text: str, indent: str = "") -> str:
    paragraphs = [p.strip() for p in text.strip().split("\n\n")]
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), WIDTH, initial_indent=indent, subsequent_indent=indent)
        for p in paragraphs
        if p
    )


def bar(score: int, maximum: int, width: int = 10) -> str:
    filled = round(width * score / maximum) if maximum else 0
    return "█" * filled + "·" * (width - filled)


def quote(span: str, limit: int = 240) -> str:
    span = " ".join(span.split())
    if len(span) > limit:
        cut = span[:limit].rsplit(" ", 1)[0]
        span = cut + " …"
    return f"“{span}”"


def _quoted(span: str, indent: str, lead: str = "", limit: int = 240) -> str:
    hanging = indent + " " * (len(lead) + 1)
    return textwrap.fill(lead + quote(span, limit), WIDTH, initial_indent=indent, subsequent_indent=hanging)


def format_question(q: Question) -> str:
    if q.probe_id:
        head = f"Follow-up — {q.title}"
    elif q.total > 1:
        head = f"Round {q.number} of {q.total} — {q.title}"
    else:
        head = q.title
    lines = [head, "-" * len(head)]
    if q.why:
        lines.append(_wrap(f"({q.why})"))
    lines.append(_wrap(q.text))
    return "\n".join(lines)


def format_grade(grade: Grade, *, best_score: int | None = None, attempt: int = 1) -> str:
    head = f"Score: {grade.score:02d}/100 — {grade.verdict} (at {grade.level} level)"
    if best_score is not None and attempt > 1:
        head += f"   best of {attempt} attempts: {best_score:02d}/100"
    lines = [head, _wrap(grade.summary), ""]
    for d in grade.dimensions:
        if not d.max:
            continue
        lines.append(f"  {d.label:<34} {bar(d.score, d.max)} {d.score:>2}/{d.max}")
        for span in d.evidence[:2]:
            lines.append(_quoted(span, "      "))
        if d.hint:
            lines.append(_wrap(f"→ {d.hint}", indent="      "))
    for f in grade.flag_details:
        lines.append("")
        lines.append(_wrap(f"⚑ {f.name}: {f.message}", indent="  "))
        if f.sentence:
            lines.append(_quoted(f.sentence, "      ", "You wrote: "))
        if f.rewrite:
            lines.append(_quoted(f.rewrite, "      ", "Try:       "))
    return "\n".join(lines)


def format_scorecard(card: Scorecard) -> str:
    title = "Scorecard" if card.status == "finished" else f"Scorecard ({card.status})"
    lines = [
        "=" * WIDTH,
        f"{title}: {card.score:02d}/100 — {card.verdict}",
        "=" * WIDTH,
    ]
    for r in card.rounds:
        if r.score is None:
            lines.append(f"  {r.title:<34} {'skipped':>18}")
        else:
            tries = f" ({r.attempts} attempts)" if r.attempts > 1 else ""
            lines.append(f"  {r.title:<34} {bar(r.score, 100)} {r.score:>3}/100{tries}")
    if card.dimensions:
        lines.append("")
        lines.append("  By dimension, over all rounds:")
        for d in sorted(card.dimensions, key=lambda d: -d.fraction):
            pct = round(100 * d.fraction)
            lines.append(f"  {d.label:<34} {bar(d.score, d.max)} {pct:>3}%")
    if card.flags:
        lines.append("")
        lines.append("  Flags raised: " + ", ".join(card.flags))
    lines.append("")
    lines.append(_wrap(f"Practise next — {card.practise_next}", indent="  "))
    return "\n".join(lines)


def format_clock(card: Scorecard) -> str:
    """A timed interview's clock: each answer's time and length, and the elapsed time against 20 minutes."""
    lines = ["", "  The clock (about 2:00 and 350 words an answer):"]
    for t in card.times:
        what = f"{t.title} (follow-up)" if t.follow_up else t.title
        note = f"  ← {TRIM_NOTE}" if t.far_over else ""
        lines.append(f"  {what:<44} {mmss(t.seconds):>6} {t.words:>5} words{note}")
    lines.append(_wrap(elapsed_line(card.elapsed, len(card.times)), indent="  "))
    return "\n".join(lines)
