"""Follow-ups in the person's own words: which sentence of an answer fills a probe's quote slot.

Every quote is a verbatim piece of the answer, cut at word boundaries; when no sentence fits a slot the
plain probe is asked. The choice of sentence sits behind one function, `pick_sentence` (over
`candidates`): first the sentences the grader's sentence reader says do what the slot is about (the
mitigation taken, the number given for impact, the alert named), then the grade's evidence spans and
flagged sentences.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from bot.content import Probe
from bot.interview.grading import read_sentences
from bot.rubric.types import Grade

SENTENCE_LIMIT = 2_000
_READ_LIMIT = 20_000  # characters of an answer the reader looks through for a quotable sentence
QUOTE_LIMIT = 120  # characters: long enough for a clause, short enough to read aloud

# What each slot is, as (where today's grade keeps such sentences, what the sentence must say). The
# pattern also says which clause of a long sentence is the one worth quoting.
_SOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "mitigation": (
        ("mitigation_fix_prevention", "timeline", "ownership"),
        r"roll(?:ed|ing)?[ -]?back|revert|feature[ -]flag|flag off|switched off|turned off|disabled|"
        r"restart|fail(?:ed)?[ -]?over|drain|scaled? (?:up|out)|cancel|killed|throttl|paused|mitigat",
    ),
    "fix": (("mitigation_fix_prevention",), r"\bfix(?:ed|es)?\b|\bpatch|correct"),
    "prevention": (
        ("prevention", "mitigation_fix_prevention"),
        r"prevent|linter|\blint|canary|\balert\b|guardrail|check in ci|\bci\b|timeout|runbook",
    ),
    "impact": (
        ("impact",),
        r"\d[\d,.]{0,20}\s*(?:%|percent|users|customers|orders|requests|checkouts|minutes|min\b|hours|k\b)|\$\s?\d",
    ),
    "alert": (
        ("detection",),
        r"\balert|\bpage[ds]?\b|pager|monitor|dashboard|alarm|fired|on-call|oncall|ticket",
    ),
    "cause": (("diagnosis", "altitude"), r"cause|because|trigger|gap|\bdue to|led to|let "),
    "hypothesis": (
        ("diagnosis",),
        r"hypothes|suspect|thought|assum|first guess|ruled out|dropped|turned out|wrong",
    ),
    # Slots the story write-up uses (not offered to probe templates).
    "role": (("ownership",), r"\bI\b|\bmy\b|\bme\b"),
    "recovery": (
        ("mitigation_fix_prevention", "timeline", "impact", "measurement"),
        r"back to|restored|recovered|baseline|normal|resolved|stopped|cleared|healthy|all-clear|all clear",
    ),
    "measurement": (("measurement",), r"\w"),
}
# A slot's sentence must also say this (when given): an impact number is about harm, not a threshold.
_ALSO = {
    "impact": re.compile(r"fail|affect|error|lost|down\b|outage|degrad|unable|could ?n[o']t|impact|revenue|"
                         r"delay|timed? ?out|slow|broke", re.IGNORECASE),
}
_FLAGGED = {"blame": "blame", "unsafe_sql": "unsafe_sql"}
# The sentence reader's reading for each slot (bot.rubric.reader.LABELS).
_READINGS = {
    "mitigation": "mitigation",
    "fix": "fix",
    "prevention": "prevention",
    "impact": "impact",
    "alert": "detection",
    "cause": "cause",
    "hypothesis": "diagnosis",
    "role": "role",
    "measurement": "measurement",
}
_CLAUSE = re.compile(r"(?<=[;:])\s+|,\s+(?:and|but|so|then|while)\s+|\s+-{1,2}\s+|\s+—\s+")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _verbatim(span: str, text: str) -> str | None:
    """The span as the person wrote it (their spacing kept), or None if the answer does not hold it."""
    if not span:
        return None
    if span in text:
        return span
    words = [re.escape(w) for w in span.split()]
    found = re.search(r"\s+".join(words), text) if words else None
    return found.group(0) if found else None


def candidates(grade: Grade, text: str, slot: str) -> list[str]:
    """Sentences of `text` that could fill `slot`, best first; each one verbatim from the answer.

    Today's source: the grade's flagged sentences (blame, unsafe SQL) and the evidence spans of the
    dimensions that hold such sentences, kept when they say what the slot needs."""
    out: list[str] = []
    if slot in _FLAGGED:
        for f in grade.flag_details:
            if f.name == _FLAGGED[slot] and f.sentence:
                found = _verbatim(f.sentence, text)
                if found and found not in out:
                    out.append(found)
        return out
    if slot not in _SOURCES:
        raise ValueError(f"unknown quote slot {slot!r}")
    keys, pattern = _SOURCES[slot]
    needed = re.compile(pattern, re.IGNORECASE)
    also = _ALSO.get(slot)
    if slot in _READINGS:
        # what the reader says each sentence does; an impact sentence must still carry a number
        for found in read_sentences(text[:_READ_LIMIT], _READINGS[slot]):
            found = _verbatim(found, text)
            if slot == "impact" and not needed.search(found or ""):
                continue
            if found and found not in out:
                out.append(found)
    for key in keys:
        dim = grade.dimension(key)
        for span in dim.evidence if dim else ():
            found = _verbatim(span, text)
            head = (found or "")[:SENTENCE_LIMIT]  # a run-on "sentence" is judged by its start
            if found and needed.search(head) and (also is None or also.search(head)) and found not in out:
                out.append(found)
    return out


def pick_sentence(grade: Grade, text: str, slot: str) -> str | None:
    """The one sentence of the answer a follow-up on `slot` should quote, or None when none fits."""
    found = candidates(grade, text, slot)
    return found[0] if found else None


def trim_quote(sentence: str, slot: str | None = None, limit: int = QUOTE_LIMIT) -> str:
    """A verbatim piece of `sentence` no longer than `limit`, cut at word boundaries.

    A long sentence is cut to the clause that says what the slot is about; a clause still too long
    keeps whole words around that point and marks each cut with '…'."""
    sentence = _norm(sentence[:SENTENCE_LIMIT])
    if len(sentence) <= limit:
        return sentence
    needed = re.compile(_SOURCES[slot][1], re.IGNORECASE) if slot in _SOURCES else None
    clauses = [c.strip() for c in _CLAUSE.split(sentence) if c.strip()]
    focus = next((c for c in clauses if needed and needed.search(c)), clauses[0] if clauses else sentence)
    if len(focus) <= limit:
        return focus if focus == sentence else _mark(sentence, focus)
    words = focus.split()
    hit = needed.search(focus) if needed else None
    start = len(focus[: hit.start()].split()) if hit else 0
    lo = hi = max(0, min(start, len(words) - 1))
    hi += 1
    # Grow the window a word at a time, rightwards first, while it fits.
    while True:
        grew = False
        if hi < len(words) and len(" ".join(words[lo:hi + 1])) + 2 <= limit:
            hi += 1
            grew = True
        if lo > 0 and len(" ".join(words[lo - 1:hi])) + 2 <= limit:
            lo -= 1
            grew = True
        if not grew:
            break
    return _mark(sentence, " ".join(words[lo:hi]))


def _mark(sentence: str, piece: str) -> str:
    start = sentence.find(piece)
    head = "… " if start > 0 else ""
    tail = " …" if start + len(piece) < len(sentence) else ""
    return f"{head}{piece.rstrip(',;:')}{tail}"


@dataclass(frozen=True)
class Quoted:
    """A follow-up as asked: its text, and the sentence of the answer it quoted (if any)."""

    text: str
    slot: str | None = None
    sentence: str | None = None  # the whole sentence, verbatim from the answer
    quote: str | None = None  # the part of it shown


def slots_of(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f]


def ask(probe: Probe, grade: Grade, text: str) -> Quoted:
    """The probe's question for this answer: its quoting form when every slot finds a sentence."""
    if not probe.ask_quoting:
        return Quoted(probe.ask)
    filled: dict[str, str] = {}
    first: tuple[str, str] | None = None
    for slot in slots_of(probe.ask_quoting):
        sentence = pick_sentence(grade, text, slot)
        if sentence is None:
            return Quoted(probe.ask)
        filled[slot] = trim_quote(sentence, slot)
        first = first or (slot, sentence)
    assert first is not None
    slot, sentence = first
    return Quoted(probe.ask_quoting.format(**filled), slot=slot, sentence=sentence, quote=filled[slot])
