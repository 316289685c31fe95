"""Detectors for the answer-level flags: blame, gaming, solo hero, too short, off topic."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .dimensions import timeline_markers
from .text import FUNCTION_WORDS, Doc

_QUOTES = re.compile(r"[\"“”]|(?<!\w)['‘]|['’](?!\w)")
_POSSESSIVE_NAME = re.compile(r"\b([A-Z][a-z]{2,})(?:'s|’s)\s")
# A person's name right before a careless-act verb: "Kevin forgot", "Dana skipped".
_NAME_WEAK = re.compile(
    r"\b([A-Z][a-z]{2,})\s+(?:just\s+|simply\s+)?(?:forgot|ignored|skipped|did\s*n.?t|never|screwed|messed)\b"
)
# A capitalised word in the middle of a sentence, after a lower-case word: most often a person's name.
_NAME_MID = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,})\b(?!\s+[A-Z])")
_FRAGMENT_SPLIT = re.compile(r"[,;|•\n]|(?<=[.!?])\s+")
_CONTENT_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_COMMON_CAPS = frozenset(
    [
        "The",
        "This",
        "That",
        "Then",
        "After",
        "When",
        "While",
        "Our",
        "We",
        "They",
        "It",
        "Its",
        "Postgres",
        "Slack",
        "Monday",
        "Friday",
        "Sunday",
    ]
)

# Lexicons whose hits a keyword grader would reward; their density is what gaming inflates.
SCORING_LEXICONS = (
    "time_marker",
    "mitigation",
    "fix",
    "prevention_word",
    "detect_source",
    "role",
    "hypothesis",
    "wrong_turn",
    "cadence",
    "channel",
    "comms_roles",
    "system_gap",
    "blameless_stance",
    "jargon",
    "audience",
    "reflection",
    "owner",
)


@dataclass
class BlameHit:
    sentence: int
    position: int


def _inside_quotes(doc: Doc, sent: int, pos: int) -> bool:
    s, _ = doc.spans[sent]
    return len(_QUOTES.findall(doc.text, s, pos)) % 2 == 1


def _actor_before(doc: Doc, sent: int, pos: int) -> str | None:
    """'third' or 'self' for the nearest actor before `pos` in the sentence (or after, if none before)."""
    s, e = doc.spans[sent]
    actors = [(h[0], "third") for h in doc.in_sentence("third_party", sent)]
    actors += [(h[0], "self") for h in doc.in_sentence("self_actor", sent)]
    for m in _POSSESSIVE_NAME.finditer(doc.text, s, e):
        if m.group(1) not in _COMMON_CAPS:
            actors.append((m.start(), "third"))
    for m in _NAME_MID.finditer(doc.text, s, e):
        if m.group(1) not in _COMMON_CAPS:
            actors.append((m.start(1), "third"))
    for m in _NAME_WEAK.finditer(doc.text, s, e):
        if m.group(1) not in _COMMON_CAPS:
            actors.append((m.start(), "third"))
    before = [a for a in actors if a[0] <= pos]
    if before:
        return max(before)[1]
    after = [a for a in actors if a[0] > pos]
    return min(after)[1] if after else None


def _excused(doc: Doc, sent: int, pos: int, reported_ok: bool = True) -> bool:
    """Blaming words that are negated, quoted, or reported in order to push back on them."""
    s, _ = doc.spans[sent]
    if any(s <= h[0] < pos and pos - h[1] <= 40 for h in doc.in_sentence("negation", sent)):
        return True
    if _inside_quotes(doc, sent, pos):
        return True
    if reported_ok and "human" in doc.text[pos : pos + 6].lower() and doc.has("reported_speech", sent):
        return True  # "human error" is someone else's label here, not the speaker's claim
    if reported_ok and doc.has("reported_speech", sent):
        nearby = (sent, sent + 1)
        if any(doc.has("pushback", i) or doc.has("negation", i) for i in nearby if i < len(doc.spans)):
            return True
    return False


def find_blame(doc: Doc) -> BlameHit | None:
    """The first sentence that pins the failure on a person or team."""
    for start, _end, si in doc.hits("blame_strong"):
        if _excused(doc, si, start):
            continue
        actor = _actor_before(doc, si, start)
        phrase = doc.text[start:_end].lower()
        if actor == "third" or (actor is None and "human" in phrase):
            return BlameHit(si, start)
    for start, _end, si in doc.hits("blame_endorse"):
        # Endorsing personal blame ("I'd agree with the CTO") needs no named act. Agreeing on a point in
        # order to disagree is push-back; "the process was fine" with nobody named is a shrug, not blame.
        shrug = doc.has("blameless_shrug", si) and _actor_before(doc, si, start) != "third"
        if shrug or doc.has("pushback", si) or _excused(doc, si, start, reported_ok=False):
            continue
        return BlameHit(si, start)
    who = doc.rubric.lex["who_cause"]
    for si in range(len(doc.spans)):
        # the cause answered as a who: "Honestly, the contractors." — a sentence that is only a group
        s, e = doc.spans[si]
        if e - s <= 60 and who.fullmatch(doc.text[s:e].strip()) and _asks_cause(doc, si):
            return BlameHit(si, s)
    for start, _end, si in doc.hits("blame_weak"):
        if _excused(doc, si, start) or doc.has("system_gap", si) or not doc.has("blame_causal", si):
            continue
        if _actor_before(doc, si, start) == "third":
            return BlameHit(si, start)
    return None


def _asks_cause(doc: Doc, si: int) -> bool:
    """The answer is about the cause: the bare who stands in for "what caused it"."""
    near = range(max(0, si - 2), min(len(doc.spans), si + 2))
    return any(doc.has("cause", i) or doc.has("blame_causal", i) for i in near) or si == 0


def blame_rewrite(doc: Doc, hit: BlameHit) -> str:
    sentence = doc.sentence(hit.sentence)
    for topic, pattern in doc.rubric.rewrite_topics.items():
        if pattern.search(sentence):
            return doc.rubric.rewrites[topic]
    return doc.rubric.rewrites["default"]


def is_shrug(doc: Doc, guard_kinds: int) -> bool:
    """'Nobody was at fault' with no specific cause named anywhere."""
    shrugs = set(doc.sents("blameless_shrug"))
    # a gap named inside the shrug itself ("there's no root cause") is a denial, not a cause
    if not shrugs or guard_kinds or any(h[2] not in shrugs for h in doc.hits("system_gap")):
        return False
    # "because" alone names no cause ("because we've all moved on"); a negated cause is no cause either
    specific = {
        si
        for start, end, si in doc.hits("cause")
        if doc.text[start:end].lower() != "because" and not _negated_near(doc, si, start)
    }
    return not (specific - shrugs)


def _negated_near(doc: Doc, sent: int, pos: int) -> bool:
    return any(h[0] < pos and pos - h[1] <= 40 for h in doc.in_sentence("negation", sent))


@dataclass
class GamingReport:
    gaming: bool
    reasons: list[str]


def gaming(doc: Doc) -> GamingReport:
    """Keyword stuffing: little connective prose, repeated terms, bare timeline markers, verb-less lists."""
    words = [w.lower() for w in doc.words if w[0].isalpha()]
    n = len(words)
    if n < 12:
        return GamingReport(False, [])
    th = doc.rubric.thresholds
    reasons: list[str] = []
    fw = sum(1 for w in words if w in FUNCTION_WORDS) / n
    if fw < th["gaming_function_word_ratio"]:
        reasons.append("almost no connecting words between the keywords")
    hits = sum(len(doc.hits(name)) for name in SCORING_LEXICONS)
    if hits / n > th["gaming_keyword_density"]:
        reasons.append("rubric keywords make up an unusual share of the answer")
    content = [w for w in _CONTENT_WORD.findall(doc.text.lower()) if w not in FUNCTION_WORDS]
    structural = False
    if content:
        term, count = Counter(content).most_common(1)[0]
        if count >= 4 and count / len(content) > th["gaming_repeat_share"]:
            reasons.append(f"the term '{term}' is repeated {count} times")
            structural = True
    sentences = Counter(doc.sentence(i).strip().lower() for i in range(len(doc.spans)))
    if sentences and sentences.most_common(1)[0][1] >= 3:
        reasons.append("the same sentence is repeated")
        structural = True
    meta = len(doc.hits("meta_terms"))
    if meta >= 6 and meta / n > th["gaming_meta_density"]:
        reasons.append("it names the qualities of a good answer instead of showing them")
        structural = True
    tied, total = timeline_markers(doc)
    if total >= 3 and len(tied) < total / 2:
        reasons.append("time markers with no events attached")
        structural = True
    verb = doc.rubric.lex["event_verb"]
    bare_words = all_words = 0
    for frag in _FRAGMENT_SPLIT.split(doc.text):
        k = len(frag.split())
        all_words += k
        if k and k <= 4 and not verb.search(frag):
            bare_words += k
    if all_words and bare_words / all_words >= th["gaming_list_fragment_share"]:
        reasons.append("a list of terms rather than sentences")
        structural = True
    heavy_meta = meta / n > 1.5 * th["gaming_meta_density"]
    return GamingReport(structural and (len(reasons) >= 2 or heavy_meta), reasons)


def off_topic(doc: Doc) -> bool:
    if doc.word_count < doc.rubric.thresholds["too_short_words"]:
        return False
    th = doc.rubric.thresholds
    return (
        len(doc.hits("incident_core")) < th["off_topic_min_hits"]
        and len(doc.hits("incident")) <= th["off_topic_max_broad"]
    )
