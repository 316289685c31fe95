"""The interview's real budget: about two minutes (roughly 250–350 spoken words) per answer and 15–20
minutes for the whole gauntlet. Plain functions over seconds and words; the engine records the times."""

from __future__ import annotations

from dataclasses import dataclass

ANSWER_SECONDS = 120  # about two minutes an answer
ANSWER_WORDS = 350  # the top of a two-minute spoken answer
# "Far over": half as long again as the budget, in time or in words.
TRIM_SECONDS = 180
TRIM_WORDS = 450
GAUNTLET_SECONDS = 20 * 60
TRIM_NOTE = "trim it to what the interviewer asked"


@dataclass(frozen=True)
class AnswerTime:
    """How long one answer took and how long it was."""

    round: str
    title: str
    follow_up: bool
    seconds: float | None  # None when the answer's time was not recorded
    words: int

    @property
    def far_over(self) -> bool:
        return far_over(self.seconds, self.words)


def words_in(text: str) -> int:
    return len(text.split())


def far_over(seconds: float | None, words: int) -> bool:
    return (seconds is not None and seconds > TRIM_SECONDS) or words > TRIM_WORDS


def mmss(seconds: float | None) -> str:
    if seconds is None:
        return "–:––"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def answer_note(seconds: float | None, words: int) -> str:
    """One line about an answer against its budget, with the trim note when it ran far over."""
    line = f"⏱ {mmss(seconds)} · {words} words (budget about {mmss(ANSWER_SECONDS)}, {ANSWER_WORDS} words)"
    if far_over(seconds, words):
        line += f" — far over: {TRIM_NOTE}."
    return line


def elapsed_line(elapsed: float, answers: int) -> str:
    verdict = "within" if elapsed <= GAUNTLET_SECONDS else "over"
    return (f"Elapsed {mmss(elapsed)} of {mmss(GAUNTLET_SECONDS)} over {answers} answer(s): "
            f"{verdict} the interview's budget.")
