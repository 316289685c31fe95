"""Terminal rendering of questions, grades and scorecards for the drill, `gauntlet grade` and
`gauntlet history`, with rich: text wraps to the terminal's width, and colour is used only on a
terminal and never when NO_COLOR is set (rich checks both).

Answer text is always put in `Text` objects, never parsed as markup, so "[bold]" in an answer prints
as typed. `bar` and `quote` are shared with the Slack blocks.
"""

from __future__ import annotations

import io
import re
import sys
from typing import IO, TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from bot.interview.clock import TRIM_NOTE, elapsed_line, mmss
from bot.rubric.types import DimensionResult, FlagDetail, Grade

if TYPE_CHECKING:  # types only: `gauntlet grade` renders without loading the engine and the database layer
    from bot.interview.engine import Question, Scorecard

MAX_WIDTH = 100  # beyond this, lines get too long to read comfortably

VERDICT_STYLE = {
    "Strong Hire": "bold green", "Hire": "green", "Lean Hire": "yellow",
    "Lean No Hire": "red", "No Hire": "bold red",
}


class _NoTrailingSpaces(io.TextIOBase):
    """Writes through to a stream without the spaces rich pads table cells and wrapped lines with,
    so piped output and copied text have no trailing whitespace."""

    _TRAILING = re.compile(r" +(?=(?:\x1b\[[0-9;]*m)*\n)")

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(self._TRAILING.sub("", text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()


def make_console(file: IO[str] | None = None) -> Console:
    """A console for `file` (stdout by default): the terminal's width up to MAX_WIDTH, 80 columns
    when not a terminal (or $COLUMNS), no colour when piped or when NO_COLOR is set."""
    console = Console(file=_NoTrailingSpaces(file or sys.stdout), highlight=False, emoji=False,
                      soft_wrap=False)
    if console.width > MAX_WIDTH:
        console.width = MAX_WIDTH
    return console


def bar(score: int, maximum: int, width: int = 10) -> str:
    filled = round(width * score / maximum) if maximum else 0
    return "█" * filled + "·" * (width - filled)


def quote(span: str, limit: int = 240) -> str:
    span = " ".join(span.split())
    if len(span) > limit:
        cut = span[:limit].rsplit(" ", 1)[0]
        span = cut + " …"
    return f"“{span}”"


def _para(text: str, style: str = "") -> Text:
    """Paragraphs separated by blank lines; the line breaks inside one are the wrapper's to choose."""
    parts = [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]
    return Text("\n\n".join(parts), style=style)


def _indent(renderable: RenderableType, left: int) -> Padding:
    return Padding(renderable, (0, 0, 0, left), expand=False)


def _hanging(lead: str | Text, body: RenderableType, left: int = 2) -> Table:
    """`lead` then `body`, with the body's wrapped lines lined up under its first (a hanging indent)."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(lead, body)
    return _indent(grid, left)


def _score(score: int) -> str:
    return f"{score}/100"


def _verdict(verdict: str) -> Text:
    return Text(verdict, style=VERDICT_STYLE.get(verdict, ""))


# ---- questions ------------------------------------------------------------------------------------


def question_view(q: Question) -> RenderableType:
    if q.probe_id:
        head = f"Follow-up — {q.title}"
    elif q.total > 1:
        head = f"Round {q.number} of {q.total} — {q.title}"
    else:
        head = q.title
    parts: list[RenderableType] = [Rule(Text(head, style="bold cyan"), align="left", style="cyan")]
    if q.why:
        parts.append(_para(f"({q.why})", "italic"))
    parts.append(_para(q.text, "bold"))
    return Group(*parts)


# ---- one graded answer -------------------------------------------------------------------------------


def _headline(grade: Grade, best_score: int | None, attempt: int) -> Text:
    head = Text.assemble(("Score ", "bold"), (_score(grade.score), "bold"), " — ", _verdict(grade.verdict),
                         f" (at {grade.level} level)")
    if best_score is not None and attempt > 1:
        head.append(f" · best of {attempt} attempts: {_score(best_score)}")
    return head


def _fixes(grade: Grade, n: int = 2) -> list[tuple[str, str, str | None]]:
    """The n things most worth fixing, as (what, how, a sentence of the answer to quote or None):
    flags first (blame, unsafe SQL, gaming… cost the most), then the dimensions that lost the most
    points. No sentence is quoted twice."""
    out: list[tuple[str, str, str | None]] = []
    for f in grade.flag_details:
        if len(out) == n:
            return out
        out.append((f.name.replace("_", " "), f.message, f.sentence))
    weak = sorted((d for d in grade.dimensions if d.max and d.hint and d.score < d.max),
                  key=lambda d: (-(d.max - d.score), d.fraction))
    for d in weak:
        if len(out) == n:
            break
        out.append((f"{d.label} {d.score}/{d.max}", d.hint, None))
    return out


def grade_compact(grade: Grade, *, best_score: int | None = None, attempt: int = 1) -> RenderableType:
    """The score, the two things to fix, and the strongest dimension: a screen, not a report."""
    parts: list[RenderableType] = [_headline(grade, best_score, attempt)]
    fixes = _fixes(grade)
    if fixes:
        parts.append(Text("Fix these first:", style="bold"))
    quoted: set[str] = set()
    for i, (what, how, sentence) in enumerate(fixes, 1):
        body: list[RenderableType] = [Text.assemble((f"{what}: ", "bold yellow"), how)]
        key = " ".join((sentence or "").split())
        if key and key not in quoted:
            quoted.add(key)
            body.append(Text.assemble(("You wrote: ", "dim"), quote(sentence or "", 160)))
        parts.append(_hanging(f"{i}.", Group(*body)))
    strongest = grade.strongest
    if strongest is not None and strongest.score:
        parts.append(Text(f"Strongest: {strongest.label} {strongest.score}/{strongest.max}.", style="green"))
    return Group(*parts)


def _evidence(d: DimensionResult, quoted: set[str]) -> list[RenderableType]:
    """Each sentence is quoted once per grade; a dimension resting on sentences already shown says so."""
    out: list[RenderableType] = []
    again = 0
    for span in d.evidence[:2]:
        key = " ".join(span.split())
        if key in quoted:
            again += 1
            continue
        quoted.add(key)
        out.append(_indent(Text(quote(span), style="italic"), 6))
    if again:
        what = "a sentence" if again == 1 else "sentences"
        out.append(_indent(Text(f"(also {what} quoted above)", style="dim"), 6))
    return out


def _flag(f: FlagDetail) -> list[RenderableType]:
    out: list[RenderableType] = [_hanging(Text("⚑", style="bold red"), Text.assemble(
        (f"{f.name}: ", "bold red"), f.message))]
    if f.sentence:
        out.append(_hanging(Text("You wrote:", style="dim"), Text(quote(f.sentence)), 6))
    if f.rewrite:
        out.append(_hanging(Text("Try:", style="dim"), Text(quote(f.rewrite)), 6))
    return out


def grade_detail(grade: Grade, *, best_score: int | None = None, attempt: int = 1) -> RenderableType:
    """Every dimension with its bar, the answer's own words as evidence (each sentence quoted once),
    its hint, and every flag."""
    parts: list[RenderableType] = [_headline(grade, best_score, attempt), _para(grade.summary)]
    quoted: set[str] = set()
    for d in grade.dimensions:
        if not d.max:
            continue
        parts.append(_indent(Text.assemble(
            (f"{d.label:<32}", "bold"), f" {bar(d.score, d.max)} {d.score:>2}/{d.max}"), 2))
        parts.extend(_evidence(d, quoted))
        if d.hint:
            parts.append(_indent(Text(f"→ {d.hint}"), 6))
    for f in grade.flag_details:
        parts.append(Text(""))
        parts.extend(_flag(f))
    return Group(*parts)


# ---- scorecards ------------------------------------------------------------------------------------


def _round_line(r) -> Text:
    line = Text(f"  {r.title:<32} ")
    if r.score is not None:
        tries = f" (best of {r.attempts} attempts)" if r.attempts > 1 else ""
        line.append(f"{bar(r.score, 100)} {r.score:>3}/100{tries}")
    elif r.reached:
        line.append("not answered", style="dim")
    else:
        line.append("not reached", style="dim")
    return line


def scorecard_headline(card: Scorecard) -> Text:
    title = "Scorecard" if card.status == "finished" else f"Scorecard ({card.status})"
    if not card.answered:
        return Text.assemble((f"{title}: ", "bold"), ("no answers yet", "dim"))
    return Text.assemble((f"{title}: {_score(card.score)} — ", "bold"), _verdict(card.verdict))


def scorecard_view(card: Scorecard) -> RenderableType:
    parts: list[RenderableType] = [Rule(style="cyan"), scorecard_headline(card)]
    if card.answered:
        parts.append(Text(f"Total: {card.total_rule()}.", style="dim"))
    parts.append(Rule(style="cyan"))
    parts.extend(_round_line(r) for r in card.rounds)
    if card.dimensions:
        parts.append(Text(""))
        parts.append(Text("  By dimension, over all answered rounds:"))
        for d in sorted(card.dimensions, key=lambda d: -d.fraction):
            pct = round(100 * d.fraction)
            parts.append(Text(f"  {d.label:<32} {bar(d.score, d.max)} {pct:>3}%"))
    if card.flags:
        parts.append(Text(""))
        parts.append(Text("  Flags raised: " + ", ".join(card.flags)))
    if card.answered:
        parts.append(Text(""))
        parts.append(_indent(Text.assemble(("Practise next — ", "bold"), card.practise_next), 2))
    return Group(*parts)


def render_text(renderable: RenderableType, width: int = 80) -> str:
    """Plain text of a renderable at a given width (for places that need a string)."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, highlight=False, emoji=False).print(renderable)
    return buffer.getvalue()


def history_view(interview, card: Scorecard) -> RenderableType:
    """One past drill in two or three lines: when, what, how it ended, and each round's score."""
    what = card.rounds[0].title if interview.only_round else "full interview"
    result = (Text("no answers", style="dim") if not card.answered
              else Text.assemble(_score(card.score), " ", _verdict(card.verdict)))
    head = Text.assemble((f"#{interview.id}", "bold"),
                         f"  {interview.created_at:%Y-%m-%d %H:%M}  {what}, {interview.level} level, "
                         f"{card.status}: ", result)
    rounds = Text()
    for r in card.rounds:
        if r.reached:
            rounds.append(" · " if rounds else "")
            rounds.append(f"{r.title} {r.score if r.score is not None else 'not answered'}")
    unreached = sum(1 for r in card.rounds if not r.reached)
    if unreached:
        rounds.append(f" · {unreached} more not reached", style="dim")
    return Group(head, _hanging("", rounds, 3))


def format_clock(card: Scorecard) -> str:
    """A timed interview's clock: each answer's time and length, and the elapsed time against 20 minutes."""
    lines = ["", "  The clock (about 2:00 and 350 words an answer):"]
    for t in card.times:
        what = f"{t.title} (follow-up)" if t.follow_up else t.title
        lines.append(f"  {what:<44} {mmss(t.seconds):>6} {t.words:>5} words")
        if t.far_over:
            lines.append(f"      ↳ far over the budget: {TRIM_NOTE}")
    lines.append("  " + elapsed_line(card.elapsed, len(card.times)))
    return "\n".join(lines)
