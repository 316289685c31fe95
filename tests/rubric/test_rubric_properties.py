"""Grading never breaks its contract, whatever text it is given."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.interview.grading import grade
from bot.rubric import FLAGS, LEVELS

ROUNDS = ("opening", "probe", "sql", "constraint", "curveball", "synthesis")

_words = st.sampled_from(
    [
        "the",
        "alert",
        "fired",
        "at",
        "14:02",
        "I",
        "rolled",
        "back",
        "12%",
        "of",
        "users",
        "Kevin",
        "sloppy",
        "human",
        "error",
        "CTO",
        "ALTER",
        "TABLE",
        "orders",
        "ADD",
        "COLUMN",
        "x",
        "text",
        "NOT",
        "NULL;",
        "T+5",
        "linter",
        "CI",
        "canary",
        "owner",
        "since",
        "then",
        "😀",
        "```sql```",
        "\n",
        "—",
        "“quoted”",
        "nobody",
        "knew",
        "I",
        "alone",
        "blameless",
        "every",
        "15",
        "minutes",
        "#inc",
    ]
)
_answers = st.one_of(
    st.text(max_size=400),
    st.lists(_words, max_size=300).map(" ".join),
    st.just(""),
    st.text(alphabet="😀🔥 \n`", max_size=200),
)


def _check(text: str, round_id: str, level: str) -> None:
    g = grade(text, round_id, level)
    assert isinstance(g.score, int) and 0 <= g.score <= 100
    assert g.score == sum(d.score for d in g.dimensions)
    assert set(g.flags) <= set(FLAGS)
    for d in g.dimensions:
        assert 0 <= d.score <= d.max
        assert all(span in text for span in d.evidence)
        assert d.score == 0 or d.evidence
    for f in g.flag_details:
        assert f.sentence is None or f.sentence in text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_answers, round_id=st.sampled_from(ROUNDS), level=st.sampled_from(LEVELS))
def test_any_text_keeps_the_contract(text, round_id, level):
    """Any Unicode, emoji, code fences or empty text: no exception, bounded scores, verbatim evidence."""
    _check(text, round_id, level)


@settings(max_examples=6, deadline=None)
@given(seed=st.lists(_words, min_size=20, max_size=60).map(" ".join), round_id=st.sampled_from(ROUNDS))
def test_forty_thousand_characters(seed, round_id):
    """A 40,000-character answer grades within the contract."""
    text = (seed + ". ") * (40_000 // (len(seed) + 2) + 1)
    _check(text[:40_000], round_id, "senior")


def test_every_round_and_level_on_empty_text():
    """Empty text grades to a low score with too_short in every round and level."""
    for round_id in ROUNDS:
        for level in LEVELS:
            g = grade("", round_id, level)
            assert g.score == 0 and "too_short" in g.flags


_scan_texts = st.one_of(
    st.lists(_words, max_size=120).map(" ".join).map(str.lower),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 +:%$#-_.'", max_size=300),
)


@settings(max_examples=120, deadline=None)
@given(text=_scan_texts)
def test_index_scan_matches_each_lexicon_scanned_alone(text):
    """The one-pass word-start index finds exactly the spans each lexicon's own finditer finds."""
    from bot.rubric.config import rubric_from

    index = rubric_from(None).index
    # the index's contract: every whitespace character is already one space (Doc scans text that way)
    text = "".join(" " if c.isspace() else c for c in text)
    found = index.scan(text)
    for name, pattern in zip(index.names, index.patterns, strict=True):
        assert [(s, e) for s, e, _ in found[name]] == [m.span() for m in pattern.finditer(text)], name


def test_index_scan_covers_numbers_and_word_prefixed_lexicons():
    """Lexicons that start with a number or a word pattern are indexed, and still find their matches."""
    from bot.rubric.config import rubric_from

    index = rubric_from(None).index
    assert index.always == []
    text = (
        "at 14:05 about 30% of the 1,200 users in us-east-1 region failed; "
        "the payments team's on-call paged"
    )
    found = index.scan(text)
    assert [text[s:e] for s, e, _ in found["time_marker"]] == ["14:05"]
    assert "30%" in [text[s:e] for s, e, _ in found["quantity"]]
    assert found["severity"] and found["cross_team"]
