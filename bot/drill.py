"""The terminal drill: the whole interview with no Slack and no configuration."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from bot.engine import InterviewEngine, Turn
from bot.textview import format_clock, format_grade, format_question, format_scorecard

WORKSPACE = "local"
END_MARK = "."

HELP = (
    "Type your answer over as many lines as you like; end it with a line holding a single '.'\n"
    "(or Ctrl-D). Instead of an answer you can type: skip, retry (answer the last round again;\n"
    "the best attempt counts) or stop. Ctrl-C saves your place: `gauntlet drill --resume`."
)


def local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "you"


def read_answer(stream: TextIO) -> tuple[str, bool]:
    """Read lines until a lone '.' or end of input. Returns (text, reached_eof)."""
    lines: list[str] = []
    while True:
        line = stream.readline()
        if line == "":
            return "\n".join(lines).strip(), True
        if line.rstrip("\r\n").strip() == END_MARK:
            return "\n".join(lines).strip(), False
        lines.append(line.rstrip("\r\n"))


def run_drill(
    engine: InterviewEngine,
    *,
    round_id: str | None = None,
    level: str = "mid",
    resume: bool = False,
    timed: bool = False,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> int:
    user = local_user()
    interactive = stdin.isatty()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    if resume:
        interview = engine.find_active(WORKSPACE, user, source="cli")
        if interview is None:
            say("There is no interrupted drill to resume. Start one with: gauntlet drill")
            return 1
        say(f"Resuming drill #{interview.id} (started {interview.created_at:%Y-%m-%d %H:%M} UTC).")
        question = engine.current_question(interview.id)
        engine.restart_clock(interview.id)
    else:
        unfinished = engine.find_active(WORKSPACE, user, source="cli")
        question = engine.start(
            workspace=WORKSPACE, user_id=user, source="cli", level=level, only_round=round_id, timed=timed
        )
        if unfinished is not None:
            say(f"(You also have an unfinished drill #{unfinished.id}; `gauntlet drill --resume` "
                "continues the newest one.)")
    if interactive:
        say(HELP)
    say()
    while True:
        say(format_question(question))
        if interactive:
            say("(end with a line holding a single '.')")
        text, eof = read_answer(stdin)
        if not text:
            if eof:
                say()
                say(f"Input ended. Your drill #{question.interview_id} is saved: "
                    "continue it with `gauntlet drill --resume`.")
                return 0
            say("That answer was empty. Type an answer, or skip, retry or stop.")
            continue
        turn = engine.handle(question.interview_id, text)
        say()
        _show_turn(turn, say)
        if turn.scorecard is not None:
            return 0
        assert turn.next is not None
        question = turn.next
        if eof and not interactive:
            say()
            say(f"Input ended. Your drill #{question.interview_id} is saved: "
                "continue it with `gauntlet drill --resume`.")
            return 0
        say()


def _show_turn(turn: Turn, say) -> None:
    if turn.notice:
        say(turn.notice)
    if turn.grade is not None:
        say(format_grade(turn.grade, best_score=turn.best_score, attempt=turn.attempt))
        say()
    if turn.scorecard is not None:
        say(format_scorecard(turn.scorecard))
        if turn.scorecard.timed:
            say(format_clock(turn.scorecard))
