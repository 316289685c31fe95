"""The content's own model answers are strong by construction: the rubric must grade them so."""

from __future__ import annotations

import pytest

from bot.content import default_content
from bot.interview.grading import grade

ROUNDS = ("opening", "probe", "sql", "constraint", "curveball", "synthesis")


@pytest.mark.parametrize("round_id", ROUNDS)
def test_model_answer_scores_high_without_flags(round_id):
    """Every round's model answer scores at least 80 at mid level and raises no flag."""
    answer = default_content().rounds[round_id].model_answer
    g = grade(answer, round_id, "mid")
    assert g.score >= 80, (round_id, g.score, [(d.key, d.score, d.max) for d in g.dimensions])
    assert g.flags == [], (round_id, [(f.name, f.sentence) for f in g.flag_details])
