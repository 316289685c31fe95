"""Detectors for the answer-level flags: blame, gaming, solo hero, too short, off topic."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .dimensions import guardrail_sentences, named_others, timeline_markers
from .reader import LABELS
from .text import Doc
from .text_words import COMMON_CAPS, FUNCTION_WORDS

_FRAGMENT_SPLIT = re.compile(r"[,;|•\n]|(?<=[.!?])\s+")
_CONTENT_WORD = re.compile(r"[a-z][a-z'-]{3,}")
# The answer's words that start with a letter, read from the lower-cased text (`Doc.words`, lowered).
_ALPHA_WORD = re.compile(r"[a-z][a-z'’-]*")

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


_SHRUG, _BLAME = LABELS.index("shrug"), LABELS.index("blame")


def is_shrug(doc: Doc, guard_kinds: int) -> bool:
    """'Nobody was at fault' with no specific cause named anywhere."""
    shrug_hits = doc.hits("blameless_shrug")
    shrugs = {h[2] for h in shrug_hits}
    # a gap named inside the shrug phrase itself ("there's no root cause") is a denial, not a cause;
    # one named after it in the same sentence ("systems fail, and this one did: no alert on X") counts
    denials = [(a, b) for a, b, _ in shrug_hits]
    gaps = [
        (a, b)
        for a, b, _ in doc.hits("system_gap")
        if not any(x < b and a < y for x, y in denials) and not _BARE_CAUSE.fullmatch(doc.text[a:b])
    ]
    # the reader alone: sure of the shrug, and the sentence is about fault or cause ("nobody was really
    # at fault", "complex systems just fail"), not about how often things break or what changed
    read_shrugs = {
        i
        for i in doc.read("shrug")
        if doc.p("shrug", i) >= 0.8 and doc.p("blame", i) < 0.5 and _FAULT_TALK.search(doc.sentence(i))
    }
    read_causes = [i for i in doc.read("cause") if doc.concrete(i) and i not in read_shrugs]
    if read_shrugs and not shrugs and not guard_kinds and not read_causes and not gaps:
        return True  # fatalism in other words, with no specific cause anywhere
    # a whole answer against naming causes ("root-cause thinking is a trap", "nobody did anything wrong",
    # "a system doing what complex systems do"): two or more such sentences, no guardrail or gap named,
    # and no cause stated surely with something named in it (a system, a number, a change)
    r = doc.readings()
    leaning = {int(i) for i in ((r[:, _SHRUG] >= 0.6) & (r[:, _BLAME] < 0.5)).nonzero()[0]}
    named_causes = [
        i for i in doc.read("cause")
        if doc.p("cause", i) >= 0.75 and doc.names_something(i) and i not in leaning | shrugs
    ]
    # (a gap mentioned inside such a sentence is denied, not named: "there wasn't a broken safeguard so
    # much as a system doing what complex systems do")
    gaps_named = [(a, b) for a, b in gaps if doc.sentence_of(a) not in leaning]
    if len(leaning | shrugs) >= 2 and not guard_kinds and not gaps_named and not named_causes:
        return True
    if not shrugs or guard_kinds or gaps:
        return False
    # "because" alone names no cause ("because we've all moved on"); a negated cause is no cause either
    specific = {
        si
        for start, end, si in doc.hits("cause")
        if doc.text[start:end].lower() != "because" and not _negated_near(doc, si, start)
    }
    return not (specific - shrugs)


_FAULT_TALK = re.compile(
    r"\b(?:fault|blame\w*|caus\w*|nobody|no[- ]one|anyone|inevitabl\w*|complex|luck|nature|happens?|"
    r"bound\s+to|just\s+(?:fail|break)s?)\b",
    re.I,
)

# the words "root cause" name no gap: "I'm wary of looking for a root cause" is still a shrug
_BARE_CAUSE = re.compile(r"(?:contributing|root)\s+(?:factor|cause)s?", re.I)


def _negated_near(doc: Doc, sent: int, pos: int, reach: int = 40) -> bool:
    return any(h[0] < pos and pos - h[1] <= reach for h in doc.in_sentence("negation", sent))


@dataclass
class GamingReport:
    gaming: bool
    reasons: list[str]


# Readings that say something happened: someone noticed, acted, measured, reasoned or was hurt.
_EVENT_READINGS = (
    "impact",
    "detection",
    "mitigation",
    "fix",
    "prevention",
    "diagnosis",
    "cause",
    "communication",
    "measurement",
    "role",
    "own_mistake",
    "sql_proposed",
    "sql_cause",
)


def _event_candidates(doc: Doc) -> list[int]:
    """Sentences the reader sees doing something an event does (before the checks that cost more)."""
    readings = doc.readings()
    columns = [LABELS.index(label) for label in _EVENT_READINGS]
    read_as_event = doc.over()[:, columns].any(axis=1) | (readings.max(axis=1) >= 0.8)
    return [int(i) for i in read_as_event.nonzero()[0]]


def _is_event(doc: Doc, i: int) -> bool:
    """Something happened to someone in sentence `i`: it names something specific (a system, number,
    time, name or code), and it is neither read as empty rubric talk nor a list of bare terms."""
    return doc.p("empty_claim", i) < 0.5 and doc.concrete(i) and not _listy(doc.sentence(i), doc)


def _at_most_events(doc: Doc, limit: int) -> bool:
    """No more than `limit` event sentences (stops counting as soon as there are more)."""
    count = 0
    for i in _event_candidates(doc):
        if _is_event(doc, i):
            count += 1
            if count > limit:
                return False
    return True


def _listy(sentence: str, doc: Doc) -> bool:
    """A sentence that is mostly bare terms between commas ("canary step, linter in CI, SLO")."""
    frags = [f for f in _FRAGMENT_SPLIT.split(sentence) if f.strip()]
    if len(frags) < 4:
        return False
    verb = doc.rubric.lex["event_verb"]
    bare = sum(len(f.split()) for f in frags if len(f.split()) <= 4 and not verb.search(f))
    return bare / max(1, len(sentence.split())) >= 0.5


def gaming(doc: Doc, has_code: bool = False) -> GamingReport:
    """Claims with no events: rubric vocabulary, jargon lists or bare timeline markers where nothing
    happened to anyone. A terse answer full of specifics is not gaming, and code is not gaming."""
    words = _ALPHA_WORD.findall(doc.lower) if doc.exact else [w.lower() for w in doc.words if w[0].isalpha()]
    n = len(words)
    if n < 12 or has_code:
        return GamingReport(False, [])
    th = doc.rubric.thresholds
    reasons: list[str] = []
    fw = sum(1 for w in words if w in FUNCTION_WORDS) / n
    if fw < th["gaming_function_word_ratio"]:
        reasons.append("almost no connecting words between the keywords")
    hits = sum(len(doc.hits(name)) for name in SCORING_LEXICONS)
    if hits / n > th["gaming_keyword_density"]:
        reasons.append("rubric keywords make up an unusual share of the answer")
    content = [w for w in _CONTENT_WORD.findall(doc.lower) if w not in FUNCTION_WORDS]
    if content:
        term, count = Counter(content).most_common(1)[0]
        if count >= 4 and count / len(content) > th["gaming_repeat_share"]:
            reasons.append(f"the term '{term}' is repeated {count} times")
    sentences = Counter(doc.sentence(i).strip().lower() for i in range(len(doc.spans)))
    if sentences and sentences.most_common(1)[0][1] >= 3:
        reasons.append("the same sentence is repeated")
    meta = len(doc.hits("meta_terms"))
    if meta >= 6 and meta / n > th["gaming_meta_density"]:
        reasons.append("it names the qualities of a good answer instead of showing them")
    tied, total = timeline_markers(doc)
    if total >= 3 and len(tied) < total / 2:
        reasons.append("time markers with no events attached")
    verb = doc.rubric.lex["event_verb"]
    bare_words = all_words = 0
    for frag in _FRAGMENT_SPLIT.split(doc.text):
        k = len(frag.split())
        all_words += k
        if k and k <= 4 and not verb.search(frag):
            bare_words += k
    if all_words and bare_words / all_words >= th["gaming_list_fragment_share"]:
        reasons.append("a list of terms rather than sentences")
    n_sent = max(1, len(doc.spans))
    empty = doc.read("empty_claim")
    if not reasons and len(empty) < 3:
        # nothing looks stuffed and too few empty claims to matter: no need to count what happened
        restated = _restates_rubric(doc, n) and not _told_plainly(doc)
        return GamingReport(restated, [_RESTATED] if restated else [])
    candidates = set(_event_candidates(doc))
    claims = [i for i in empty if not (i in candidates and _is_event(doc, i))]
    # What decides is how much happened: a story with events is not gaming however it is worded.
    few_events = _at_most_events(doc, min(max(1, int(0.25 * n_sent)), (n - 1) // 12))
    claiming = len(claims) >= 3 and len(claims) >= 0.5 * n_sent
    if claiming:
        reasons.append("its sentences claim good practice without anything that happened")
    restated = _restates_rubric(doc, n) and not _told_plainly(doc)
    if restated:
        reasons.append(_RESTATED)
    # rubric items restated with nothing specific is gaming however its sentences read; otherwise it
    # takes a story where little happened and either two signs of stuffing or empty claims
    # a story where little happened, told in the vocabulary of good incident practice (frameworks,
    # factors, hypotheses "tested" with none named): several empty claims and the rubric's own terms
    reciting = len(claims) >= 3 and meta >= 4
    if few_events and reciting and not claiming:
        reasons.append("it describes a method (factors, frameworks, hypotheses) instead of what happened")
    # the vocabulary of good practice throughout and almost nothing named: a method recited in abstract
    # prose ("a change interacted with existing conditions"), however event-like its sentences read
    nameless = (
        n_sent >= 4 and meta >= 6 and len(claims) >= 2
        and sum(1 for i in range(n_sent) if doc.names_something(i)) <= 0.15 * n_sent
    )
    if nameless:
        reasons.append("rubric vocabulary with nothing named: no system, number, time or person")
    return GamingReport(
        restated or nameless or (few_events and (len(reasons) >= 2 or claiming or reciting)), reasons
    )


def _told_plainly(doc: Doc) -> bool:
    """Most sentences clearly do something (a cause explained, an action taken), even in the rubric's
    own words ("the test gap hid it"): an honest plain answer, not rubric items restated."""
    readings = doc.readings()
    columns = [LABELS.index(label) for label in _EVENT_READINGS]
    empty = readings[:, LABELS.index("empty_claim")]
    sure = (readings[:, columns].max(axis=1) >= 0.8) & (empty < 0.5)
    return bool(len(doc.spans)) and int(sure.sum()) >= 0.5 * len(doc.spans)


_RESTATED = "its sentences restate rubric items with nothing specific: no system, number, time, name or event"


# Rubric items an answer can restate without saying anything: the scoring lexicons and the phrases of
# the constraint and curveball rounds.
_RESTATE_LEXICONS = (
    *SCORING_LEXICONS,
    "meta_terms",
    "comms_structure",
    "comms_focus",
    "pushback",
    "exec_framing",
    "verification",
)
# numbers, #channels, code, identifiers and acronyms other than the roles every answer names
_SPECIFIC_TOKEN = re.compile(
    r"\d|`|#[\w-]|\b\w+_\w+\b|\b(?!(?:IC|VP|CTO|CEO|CI|SRE|ETA|PR|SEV|OK)\b)[A-Z]{2,}\b"
)
_MID_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,})\b")


def _restates_rubric(doc: Doc, n_words: int) -> bool:
    """Sentence after sentence of rubric vocabulary ("I used one channel as the single source of truth")
    with no system, number, time, name or code in almost any of them."""
    th = doc.rubric.thresholds
    n = len(doc.spans)
    if n < th["gaming_restate_sentences"]:
        return False
    # the rubric counts are already scanned and cheap; most honest answers stop here
    rubric_sents: set[int] = set()
    hits = 0
    for name in _RESTATE_LEXICONS:
        found = doc.hits(name)
        hits += len(found)
        rubric_sents.update(h[2] for h in found)
    if hits < th["gaming_restate_density"] * n_words:
        return False
    if len(rubric_sents) < th["gaming_restate_rubric_share"] * n:
        return False
    limit = th["gaming_restate_specific_share"] * n
    specific = set(doc.sents("concrete")) | set(doc.sents("quantity")) | set(doc.sents("time_marker"))
    specific |= set(doc.sents("jargon"))
    for i in range(n):
        if len(specific) > limit:
            return False
        if i in specific:
            continue
        s = doc.sentence(i)
        if _SPECIFIC_TOKEN.search(s) or any(m.group(1) not in COMMON_CAPS for m in _MID_NAME.finditer(s)):
            specific.add(i)
    return len(specific) <= limit


def off_topic(doc: Doc, round_id: str = "opening") -> bool:
    """About something else entirely: no incident at all. Nothing broke, failed, degraded, alerted, paged
    or hurt anyone (a negated "no downtime" does not count), and, after the opening, nothing refers
    back to the incident, its fix or its responders either. Points earned elsewhere do not rescue it:
    a CI migration or a weekly update email earns communication points without being an incident."""
    th = doc.rubric.thresholds
    if doc.word_count < th["too_short_words"]:
        return False
    lexicons = ["incident_core"]
    if round_id != "opening":
        lexicons += ["incident_followup", "system_gap"]  # "why it got through" explains the incident
    found = 0
    for name in lexicons:
        for start, _end, _si in doc.hits(name):
            if not _NO_HARM.search(doc.text, max(0, start - 40), start):
                found += 1
                if found >= th["off_topic_min_hits"]:
                    return False
    # harm told in words no lexicon lists ("196,000 customers were debited twice"): the reader sees
    # damage, its detection or its mitigation, and the story around it
    harm = {i for label in ("impact", "detection", "mitigation") for i in doc.read(label)}
    story = harm | {i for label in ("cause", "diagnosis", "fix") for i in doc.read(label)}
    return not (harm and len(story) >= 3)


# "no customer-visible downtime", "without any errors": harm denied right before the word
_NO_HARM = re.compile(r"\b(?:no|zero|without(?:\s+any)?)\s+(?:[\w-]+\s+){0,2}$", re.I)


def too_short(doc: Doc, has_code: bool = False) -> bool:
    """Too few words to grade a story: under the hard minimum always; under the terse limit unless the
    few words are dense with specifics (numbers, times, channels, roles, guardrails, named responders)."""
    th = doc.rubric.thresholds
    if doc.word_count < th["too_short_words"]:
        return True
    if doc.word_count >= th["too_short_terse_words"] or (has_code and doc.word_count >= 12):
        return False
    kinds = ("quantity", "time_marker", "channel", "role", "sql_hint")
    specifics = {doc.text[a:b].lower() for name in kinds for a, b, _ in doc.hits(name)}
    specifics |= set(guardrail_sentences(doc))
    specifics |= {f"responder {si}" for si in named_others(doc)}
    return len(specifics) < th["too_short_terse_specifics"]
