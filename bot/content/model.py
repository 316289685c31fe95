"""The loaded interview content as plain frozen data, and the probe-condition grammar."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.rubric.types import DIMENSIONS  # noqa: F401  (re-exported: content may only weigh these)

SIGNALS = ("schema_change", "has_sql", "expand_contract", "no_detection", "restart_only", "solo_hero")
# Slots a probe's `ask_quoting` may hold: each is filled with a sentence quoted from the answer.
QUOTE_SLOTS = (
    "alert", "blame", "cause", "fix", "hypothesis", "impact", "mitigation", "prevention", "unsafe_sql",
)
# Slots a round's `prompt_own` may hold: facts taken from the person's opening (and the SQL they named).
INCIDENT_SLOTS = ("change", "column", "impact", "service", "table")
CONDITIONS = ("all", "any", "dimension_below", "flag", "no_signal", "not", "score_below", "signal")


@dataclass(frozen=True)
class Round:
    """One round of the gauntlet: what is asked, what it tests and how dimensions are weighed."""

    id: str
    title: str
    prompt: str
    tests: str
    weighs: dict[str, int]
    model_answer: str
    reached_from: str | None = None
    level_notes: dict[str, str] = field(default_factory=dict)
    # The prompt told through the person's own incident: the first template whose slots the opening
    # answer filled is asked instead of `prompt` (slots: INCIDENT_SLOTS).
    prompt_own: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probe:
    """A follow-up asked after one of the `after` rounds when `when` holds for the answer."""

    id: str
    after: tuple[str, ...]
    when: dict
    ask: str
    why: str
    goto: str | None = None
    # The same follow-up opening with the person's own words; asked instead of `ask` when every slot
    # (QUOTE_SLOTS) finds a sentence in the answer.
    ask_quoting: str | None = None


@dataclass(frozen=True)
class Prompt:
    """One daily question from the bank."""

    id: str
    variant: str
    text: str


@dataclass(frozen=True)
class Content:
    """Everything the interview needs, validated and merged across built-in and team directories."""

    gauntlet_id: str
    title: str
    order: tuple[str, ...]
    rounds: dict[str, Round]
    probes: tuple[Probe, ...]
    prompts: tuple[Prompt, ...]
    rubric: dict
    sources: tuple[Path, ...]

    def round(self, round_id: str) -> Round:
        try:
            return self.rounds[round_id]
        except KeyError:
            known = ", ".join(self.rounds)
            raise ValueError(f"unknown round {round_id!r}; known rounds: {known}") from None

    def next_round(self, round_id: str) -> str | None:
        """The round after `round_id` on the main path; a side round rejoins after its origin."""
        seen: set[str] = set()
        current = self.round(round_id)
        while current.id not in self.order:
            if current.reached_from is None or current.id in seen:
                return None
            seen.add(current.id)
            current = self.round(current.reached_from)
        position = self.order.index(current.id)
        return self.order[position + 1] if position + 1 < len(self.order) else None

    def probes_after(self, round_id: str) -> tuple[Probe, ...]:
        """The probes that may follow `round_id`, in library order."""
        return tuple(p for p in self.probes if round_id in p.after)


def evaluate_condition(
    cond: dict, *, flags: set[str], signals: set[str], dimensions: dict[str, float], score: int
) -> bool:
    """Whether a (validated) probe condition holds for a graded answer.

    `dimensions` maps a dimension key to its fraction 0..1; a dimension the grade does not have
    makes `dimension_below` false, so a probe never fires on a dimension the round does not score.
    """
    if not isinstance(cond, dict) or len(cond) != 1:
        raise ValueError(f"a condition is a mapping with exactly one key, got {cond!r}")
    ((kind, arg),) = cond.items()

    def recurse(sub: dict) -> bool:
        return evaluate_condition(sub, flags=flags, signals=signals, dimensions=dimensions, score=score)

    if kind == "flag":
        return arg in flags
    if kind == "signal":
        return arg in signals
    if kind == "no_signal":
        return arg not in signals
    if kind == "score_below":
        return score < arg
    if kind == "dimension_below":
        return all(key in dimensions and dimensions[key] < limit for key, limit in arg.items())
    if kind == "all":
        return all(recurse(sub) for sub in arg)
    if kind == "any":
        return any(recurse(sub) for sub in arg)
    if kind == "not":
        return not recurse(arg)
    raise ValueError(f"unknown condition {kind!r}; expected one of {', '.join(CONDITIONS)}")
