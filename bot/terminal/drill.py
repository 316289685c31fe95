"""The terminal drill: the whole interview with no Slack and no configuration."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bot.interview.engine import COMMANDS, InterviewEngine, Turn
from bot.rubric.types import Grade
from bot.terminal.textview import (
    format_clock,
    grade_compact,
    grade_detail,
    make_console,
    question_view,
    scorecard_view,
)

WORKSPACE = "local"
END_MARK = "."
# Typed alone on the first line of an answer, these act at once (no '.' line needed). `detail` and
# `help` are the drill's own; skip, retry and stop go to the engine.
DRILL_COMMANDS = ("detail", "help")

HELP = (
    "Type your answer over as many lines as you like, then a line holding a single '.' (or Ctrl-D). "
    "Instead of an answer, type one word and Enter: skip (move on), retry (answer the last round "
    "again; the best attempt counts), stop (end with a scorecard), detail (the full breakdown of "
    "your last grade) or help. Ctrl-C saves your place."
)


def local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "you"


def command_word(line: str) -> str | None:
    word = line.strip().lower().lstrip("!/")
    return word if word in COMMANDS or word in DRILL_COMMANDS else None


def read_answer(stream: TextIO) -> tuple[str, bool]:
    """Read lines until a lone '.' or end of input. Returns (text, reached_eof). A command word on the
    first line is returned at once, on its own."""
    lines: list[str] = []
    while True:
        line = stream.readline()
        if line == "":
            return "\n".join(lines).strip(), True
        stripped = line.rstrip("\r\n")
        if not any(part.strip() for part in lines) and command_word(stripped):
            return stripped.strip(), False
        if stripped.strip() == END_MARK:
            return "\n".join(lines).strip(), False
        lines.append(stripped)


def intro(engine: InterviewEngine, round_id: str | None, level: str) -> Text:
    content = engine.content
    if round_id:
        what = f"{content.rounds[round_id].title} — one round"
    else:
        what = f"{content.title} — {len(content.order)} rounds"
    return Text.assemble((what, "bold"), f", graded at {level} level.")


def run_drill(
    engine: InterviewEngine,
    *,
    round_id: str | None = None,
    level: str = "mid",
    resume: bool = False,
    detail: bool = False,
    resume_command: str = "gauntlet drill --resume",
    timed: bool = False,
    stdin: TextIO = sys.stdin,
    console: Console | None = None,
) -> int:
    user = local_user()
    interactive = stdin.isatty()
    console = console or make_console()

    def say(*renderables, **options) -> None:
        console.print(*renderables, **options)

    def saved(interview_id: int) -> None:
        say()
        # Not wrapped: the command copies and pastes whole.
        say(f"Input ended. Your drill #{interview_id} is saved: continue it with `{resume_command}`.",
            soft_wrap=True)

    if resume:
        interview = engine.find_active(WORKSPACE, user, source="cli")
        if interview is None:
            say("There is no interrupted drill to resume. Start one with: gauntlet drill")
            return 1
        say(f"Resuming drill #{interview.id} (started {interview.created_at:%Y-%m-%d %H:%M} UTC).")
        say(intro(engine, interview.only_round, interview.level))
        question = engine.current_question(interview.id)
        engine.restart_clock(interview.id)
    else:
        unfinished = engine.find_active(WORKSPACE, user, source="cli")
        question = engine.start(
            workspace=WORKSPACE, user_id=user, source="cli", level=level, only_round=round_id, timed=timed
        )
        say(intro(engine, round_id, level))
        if unfinished is not None:
            say(f"(You also have an unfinished drill #{unfinished.id}; `{resume_command}` "
                "continues the newest one.)", soft_wrap=True)
    if interactive:
        say(Text(HELP, style="dim"))
    say()
    last: Turn | None = None
    while True:
        say(question_view(question))
        if interactive:
            say(Text("(end with a line holding a single '.'; or type skip, retry, stop, detail, help)",
                     style="dim"))
        text, eof = read_answer(stdin)
        word = command_word(text)
        if word == "help":
            say(Text(HELP, style="dim"))
            say()
            continue
        if word == "detail":
            say()
            if last is None or last.grade is None:
                say("No grade to show yet: answer a question first.")
            else:
                say(grade_detail(last.grade, best_score=last.best_score, attempt=last.attempt))
            say()
            continue
        if not text:
            if eof:
                saved(question.interview_id)
                return 0
            say("That answer was empty. Type an answer, or skip, retry or stop.")
            continue
        turn = engine.handle(question.interview_id, text)
        if turn.grade is not None:
            last = turn
        say()
        _show_turn(turn, say, detail=detail)
        if turn.scorecard is not None:
            return 0
        assert turn.next is not None
        question = turn.next
        if eof and not interactive:
            saved(question.interview_id)
            return 0
        say()


def _show_turn(turn: Turn, say, *, detail: bool) -> None:
    if turn.notice:
        say(turn.notice)
    if turn.grade is not None:
        say(_grade_view(turn.grade, turn, detail))
        if not detail:
            say(Text("(type detail for the full breakdown)", style="dim"))
    if turn.scorecard is not None:
        say(scorecard_view(turn.scorecard))
        if turn.scorecard.timed:
            say(Text(format_clock(turn.scorecard)))


def _grade_view(grade: Grade, turn: Turn, detail: bool):
    view = grade_detail if detail else grade_compact
    return view(grade, best_score=turn.best_score, attempt=turn.attempt)
