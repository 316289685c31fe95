"""The labelled answer sets that measure the grader are well-formed and cover what the bench needs.

These tests check the data, not the grader: grading accuracy is reported by bench/grading_accuracy.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.rubric.types import FLAGS, LEVELS

DATA = Path(__file__).parents[1] / "data" / "labelled"
ROUNDS = ("opening", "probe", "sql", "constraint", "curveball", "synthesis")
TIERS = ("strong", "medium", "weak")
KINDS = (
    "plain",
    "blaming",
    "hero",
    "gaming",
    "stops_at_fix",
    "blameless_to_a_fault",
    "conflated_fix",
    "off_topic",
    "too_short",
    "sql_safe",
    "sql_unsafe",
    "sql_prose",
    "sql_broken",
)
FIELDS = {"id", "round", "level", "tier", "kind", "flags", "not_flags", "text"}
# The flag each special kind is written to exhibit.
KIND_FLAG = {
    "blaming": "blame",
    "hero": "hero",
    "gaming": "gaming",
    "stops_at_fix": "no_prevention",
    "blameless_to_a_fault": "blameless_to_a_fault",
    "conflated_fix": "conflated_fix",
    "off_topic": "off_topic",
    "too_short": "too_short",
    "sql_unsafe": "unsafe_sql",
}
# Kinds whose tier is fixed by definition.
KIND_TIER = {
    "gaming": "weak",
    "off_topic": "weak",
    "too_short": "weak",
    "sql_unsafe": "weak",
    "sql_broken": "weak",
    "sql_prose": "medium",
    "sql_safe": "strong",
}
SQL_KINDS = {"sql_safe", "sql_unsafe", "sql_prose", "sql_broken"}
STRONG_NOT_FLAGS = {"blame", "unsafe_sql", "gaming"}

DEV_KIND_MIN = {
    "blaming": 6,
    "hero": 4,
    "gaming": 6,
    "stops_at_fix": 4,
    "blameless_to_a_fault": 2,
    "conflated_fix": 2,
    "off_topic": 2,
    "too_short": 2,
    "sql_safe": 3,
    "sql_unsafe": 3,
    "sql_prose": 2,
    "sql_broken": 2,
}
HOLDOUT_KIND_MIN = {"blaming": 3, "gaming": 3, "sql_unsafe": 2}


def load(name: str) -> list[dict]:
    with (DATA / f"{name}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


SETS = (
    "dev", "holdout", "blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9",
    "blind10",
)


@pytest.fixture(scope="module")
def sets() -> dict[str, list[dict]]:
    return {name: load(name) for name in SETS}


@pytest.mark.parametrize("name", SETS)
def test_every_row_matches_the_schema(sets, name):
    """Every row has exactly the documented fields with allowed values."""
    for row in sets[name]:
        assert set(row) == FIELDS, row.get("id")
        assert isinstance(row["id"], str) and row["id"], row
        assert row["round"] in ROUNDS, row["id"]
        assert row["level"] in LEVELS, row["id"]
        assert row["tier"] in TIERS, row["id"]
        assert row["kind"] in KINDS, row["id"]
        assert isinstance(row["text"], str) and row["text"].strip(), row["id"]
        for key in ("flags", "not_flags"):
            assert isinstance(row[key], list), row["id"]
            assert set(row[key]) <= set(FLAGS), (row["id"], row[key])
            assert len(row[key]) == len(set(row[key])), row["id"]
        assert not set(row["flags"]) & set(row["not_flags"]), row["id"]


@pytest.mark.parametrize("name", SETS)
def test_special_kinds_carry_their_flag_and_tier(sets, name):
    """Each special kind is labelled with its flag, fixed tiers hold, and SQL kinds live in the sql round."""
    for row in sets[name]:
        kind = row["kind"]
        if kind in KIND_FLAG:
            assert KIND_FLAG[kind] in row["flags"], row["id"]
        if kind in KIND_TIER:
            assert row["tier"] == KIND_TIER[kind], row["id"]
        if kind in SQL_KINDS:
            assert row["round"] == "sql", row["id"]


@pytest.mark.parametrize("name", SETS)
def test_strong_answers_exclude_the_costly_false_positives(sets, name):
    """Every strong answer says blame, unsafe_sql and gaming must not be raised, and raises no flag itself."""
    for row in sets[name]:
        if row["tier"] == "strong":
            assert set(row["not_flags"]) >= STRONG_NOT_FLAGS, row["id"]
            assert row["flags"] == [], row["id"]


@pytest.mark.parametrize("name", SETS)
def test_answer_lengths_are_realistic(sets, name):
    """Answers run 40 to 450 words, except too_short answers which stay under 40."""
    for row in sets[name]:
        words = len(row["text"].split())
        if row["kind"] == "too_short":
            assert words < 40, row["id"]
        else:
            assert 40 <= words <= 450, (row["id"], words)


def test_ids_are_unique_across_the_sets(sets):
    """No id appears twice, within a set or across all the labelled sets."""
    ids = [row["id"] for rows in sets.values() for row in rows]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]


def test_no_text_is_duplicated_across_the_sets(sets):
    """No answer text appears twice, even after normalising case and whitespace."""
    texts = [" ".join(row["text"].lower().split()) for rows in sets.values() for row in rows]
    assert len(texts) == len(set(texts))


def _round_tier_counts(rows):
    return Counter((row["round"], row["tier"]) for row in rows)


def test_dev_set_meets_its_minimums(sets):
    """The dev set has 72+ answers, 3+ per round and tier, 2+ honest mediums per round, every special kind."""
    rows = sets["dev"]
    assert len(rows) >= 72
    counts = _round_tier_counts(rows)
    for rnd in ROUNDS:
        for tier in TIERS:
            assert counts[(rnd, tier)] >= 3, (rnd, tier, counts[(rnd, tier)])
        # The bench compares gaming answers with honest mediums of the same round.
        honest = [r for r in rows if r["round"] == rnd and r["tier"] == "medium" and r["kind"] == "plain"]
        assert len(honest) >= 2, rnd
    kinds = Counter(row["kind"] for row in rows)
    for kind, minimum in DEV_KIND_MIN.items():
        assert kinds[kind] >= minimum, (kind, kinds[kind])


def test_holdout_set_meets_its_minimums(sets):
    """The holdout set has 36+ answers, 2+ per round and tier, and enough blaming, gaming and unsafe SQL."""
    rows = sets["holdout"]
    assert len(rows) >= 36
    counts = _round_tier_counts(rows)
    for rnd in ROUNDS:
        for tier in TIERS:
            assert counts[(rnd, tier)] >= 2, (rnd, tier, counts[(rnd, tier)])
    kinds = Counter(row["kind"] for row in rows)
    for kind, minimum in HOLDOUT_KIND_MIN.items():
        assert kinds[kind] >= minimum, (kind, kinds[kind])


@pytest.mark.parametrize("name", SETS)
def test_special_kinds_are_spread_across_rounds(sets, name):
    """Blaming and gaming answers appear in three or more rounds, so no round owns a failure mode."""
    for kind in ("blaming", "gaming"):
        rounds = {row["round"] for row in sets[name] if row["kind"] == kind}
        assert len(rounds) >= 3, (name, kind, rounds)


@pytest.mark.parametrize("name", SETS)
def test_hard_negatives_are_present(sets, name):
    """Each set has strong answers that quote "human error" or mention a teammate or DROP/NOT NULL safely."""
    strong = [row for row in sets[name] if row["tier"] == "strong"]
    assert any("human error" in row["text"].lower() for row in strong if row["round"] == "curveball")
    assert any("NOT NULL" in row["text"].upper() for row in strong if row["round"] == "sql")
    assert any("hero" in row["not_flags"] for row in strong)


@pytest.mark.parametrize("name", SETS)
def test_word_count_alone_cannot_order_the_tiers(sets, name):
    """Word count orders at most 80% of same-round pairs of different tiers: length is not quality."""
    rank = {"weak": 0, "medium": 1, "strong": 2}
    correct = total = 0
    rows = sets[name]
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if a["round"] != b["round"] or a["tier"] == b["tier"]:
                continue
            hi, lo = (a, b) if rank[a["tier"]] > rank[b["tier"]] else (b, a)
            total += 1
            correct += len(hi["text"].split()) > len(lo["text"].split())
    assert correct / total <= 0.80, correct / total
