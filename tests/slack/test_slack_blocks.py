"""Block Kit rendering: Slack's limits hold, nothing is cut mid-word, and feedback says what matters."""

from __future__ import annotations

import random

from bot.interview.engine import Question, RoundResult, Scorecard, Turn
from bot.rubric.types import DimensionResult, FlagDetail, Grade
from bot.slack import blocks as bk

WORDS = ["rollback", "canary", "latency", "p99", "pager", "timeline", "mitigation", "postmortem", "owner"]


def _prose(n_words: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    paragraphs, words = [], []
    for i in range(n_words):
        words.append(rng.choice(WORDS))
        if i % 97 == 96:
            paragraphs.append(" ".join(words) + ".")
            words = []
    paragraphs.append(" ".join(words))
    return "\n\n".join(p for p in paragraphs if p)


def _grade(summary: str = "A clear story with a gap in prevention.", **kw) -> Grade:
    dims = [
        DimensionResult("timeline", "Timeline", 9, 10, ["At 09:14 the alert fired"], ""),
        DimensionResult("prevention", "Concrete prevention", 2, 10, [],
                        "Name the guardrail and when it shipped."),
    ]
    return Grade(round="opening", level="mid", score=kw.get("score", 64), dimensions=dims,
                 flags=kw.get("flags", []), flag_details=kw.get("flag_details", []), summary=summary,
                 verdict="Lean Hire")


def test_split_text_keeps_every_word_whole_and_in_order():
    """Long text splits into pieces within the limit, at boundaries, losing and cutting nothing."""
    text = _prose(3000)
    pieces = bk.split_text(text, limit=500)
    assert len(pieces) > 5
    assert all(len(p) <= 500 for p in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())
    words = set(WORDS) | {w + "." for w in WORDS}
    assert all(w in words for p in pieces for w in p.split())


def test_long_feedback_becomes_several_messages_of_at_most_50_valid_blocks():
    """Feedback far beyond one message is spread over messages of ≤ 50 blocks, each passing to_dict()."""
    turn = Turn(interview_id=1, grade=_grade(summary=_prose(60000)), next=None)
    blocks = bk.turn_blocks(turn, user_id="UALICE")
    chunks = bk.messages(blocks)
    assert len(chunks) >= 2
    assert all(1 <= len(chunk) <= bk.MAX_BLOCKS for chunk in chunks)
    sections = [b["text"]["text"] for chunk in chunks for b in chunk
                if b["type"] == "section" and "text" in b]
    assert all(len(s) <= 3000 for s in sections)


def test_feedback_mentions_the_person_with_score_strongest_weakest_and_next_question():
    """A graded turn says @person, NN/100, the strongest and weakest dimension with evidence and hint."""
    question = Question(interview_id=1, round="probe", title="Root cause", text="What let it through?",
                        number=2, total=5)
    turn = Turn(interview_id=1, grade=_grade(score=7), next=question)
    text = "\n".join(b["text"]["text"] for b in bk.messages(bk.turn_blocks(turn, user_id="UALICE"))[0]
                     if b.get("text"))
    assert "<@UALICE>" in text and "7/100" in text and "07/100" not in text  # no zero padding
    assert "Strongest: Timeline" in text and "At 09:14 the alert fired" in text
    assert "Weakest: Concrete prevention" in text and "Name the guardrail" in text
    assert "Round 2 of 5 — Root cause" in text and "What let it through?" in text


def test_a_blame_flag_quotes_the_sentence_and_offers_a_blameless_rewrite():
    """The blame flag shows the offending sentence and the suggested rewrite, escaped for mrkdwn."""
    detail = FlagDetail(name="blame", message="Names a person as the cause.",
                        sentence="Kevin's sloppy change <took> us down",
                        rewrite="A change without review reached prod")
    blocks = bk.grade_blocks(_grade(flags=["blame"], flag_details=[detail]), user_id="UALICE")
    text = "\n".join(b.to_dict()["text"]["text"] for b in blocks if getattr(b, "text", None))
    assert "Kevin's sloppy change &lt;took&gt; us down" in text
    assert "Try instead" in text and "A change without review reached prod" in text


def test_a_flag_without_details_is_still_explained():
    """A flag name with no detail from the grader gets the built-in explanation, never a bare name."""
    blocks = bk.grade_blocks(_grade(flags=["gaming"]), user_id=None)
    text = "\n".join(b.to_dict()["text"]["text"] for b in blocks if getattr(b, "text", None))
    assert bk.FLAG_EXPLANATIONS["gaming"] in text


def test_scorecard_has_a_bar_per_dimension_total_rank_change_and_practise_next():
    """The scorecard renders total, one bar per round and dimension, the rank note and the next focus."""
    card = Scorecard(
        interview_id=1, status="finished", score=72, verdict="Hire",
        rounds=[RoundResult("opening", "Opening", 80, 1), RoundResult("sql", "The SQL trap", None, 0)],
        dimensions=[DimensionResult("timeline", "Timeline", 8, 10),
                    DimensionResult("impact", "Impact", 3, 10)],
        practise_next="Impact: put a number on who was affected.",
    )
    rendered = bk.scorecard_blocks(card, user_id="UALICE", rank_note="Up 2 places to #1.")
    blocks = [b.to_dict() for b in rendered]
    text = str(blocks)
    assert blocks[0]["type"] == "header" and "72/100" in blocks[0]["text"]["text"]
    assert "████████··" in text and "Timeline — 80%" in text and "Impact — 30%" in text
    assert "The SQL trap — skipped" in text
    assert "Up 2 places to #1." in text and "put a number on who was affected" in text


def test_header_text_is_shortened_at_a_word_boundary():
    """A title longer than Slack's 150-character header limit is cut between words, with an ellipsis."""
    block = bk.header("word " * 60).to_dict()
    assert len(block["text"]["text"]) <= 150 and block["text"]["text"].endswith("word …")


def test_help_lists_every_subcommand():
    """The help text names every /gauntlet subcommand people can use."""
    text = bk.HELP
    for sub in ("drill", "leaderboard", "me", "optout", "optin", "schedule", "feedback"):
        assert f"/gauntlet {sub}" in text
