"""Blame: a sentence that pins the failure on a person or a team.

Two readers, both over the sentences of one answer:

- the lexicon reader: words that blame on their own ("sloppy", "should have known better", "Honestly,
  the contractors."), unless they are negated, quoted or reported in order to be pushed back on;
- the judgement scorer: a person or group (a blame target, a name, or a pronoun that refers back to
  one) together with judgement cues from several families (character generalised from one act, motive,
  competence, sarcasm, the cause answered as a who, careless acts). Each family counts once per
  sentence, with a weight; a sentence blames at two points. Excusers take cues away: the speaker
  criticising themselves, an accusation reported in order to reject it, a quoted or negated cue, and,
  for a careless act alone, a system gap named in the same sentence.

Words live in rubric.yml; the structure (who is judged, which cue belongs to whom) lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import Doc
from .text_words import COMMON_CAPS

_QUOTES = re.compile(r"[\"“”]|(?<!\w)['‘]|['’](?!\w)")
_POSSESSIVE_NAME = re.compile(r"\b([A-Z][a-z]{2,})(?:'s|’s)\s")
# A person's name right before a careless-act verb: "Kevin forgot", "Dana skipped".
_NAME_WEAK = re.compile(
    r"\b([A-Z][a-z]{2,})\s+(?:just\s+|simply\s+)?(?:forgot|ignored|skipped|did\s*n.?t|never|screwed|messed)\b"
)
# A capitalised word in the middle of a sentence, after a lower-case word: most often a person's name.
_NAME_MID = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,})\b(?!\s+[A-Z])")
# A capitalised word at a sentence start reads as a person when a person's verb or team follows it.
_NAME_LEAD = re.compile(
    r"([A-Z][a-z]{2,})(?:\s+(?:on|from|in)\s+(?:the\s+)?[a-z]+\s+team|\s+(?:has|had|is|was|just|never|"
    r"always|decided|thought|thinks|said|says|does|did|would|will|knew|knows|wanted|insisted|refused|"
    r"ignored|skipped|forgot|pushed|merged|shipped|deployed|ran|clicked|turned|disabled)\b)"
)
# A blaming phrase denied right after it: "human error is never the root cause".
_DENIED_AFTER = re.compile(r"\s+(?:is|was|are|were)(?:\s+(?:not|never|rarely)\b|n[’']t\b)", re.I)
# A cue that names what the speaker received ("we got excuses"): the speaker is not its subject.
_RECEIVED = re.compile(r"(?:got|get|gave|give|received|heard)\b")
_POSSESSIVES = frozenset(["his", "her", "their"])  # a possessive always points at a person
_THIRD_PRONOUN = re.compile(r"\b(?:he|she|they|him|her|them|his|their)\b")
_SELF_ONLY = frozenset(["our team", "my team", "our teams", "my teams"])

# (lexicon, weight): a sentence blames at two points; each family counts once.
_CUES = (
    ("judge_character", 2),
    ("judge_motive", 2),
    ("judge_competence", 2),
    ("judge_sarcasm", 2),
    ("judge_who", 2),
    ("judge_frequency", 1),
    ("judge_act", 1),
)
# A weak who-cue ("because Priya ...") only names who acted; it needs another cue to judge them.
_WEAK_WHO = re.compile(r"(?:because|thanks|why|how)\b", re.I)
_WHO_REACH = 45  # characters between a who-cue and its target


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
    for rx, group in ((_POSSESSIVE_NAME, 0), (_NAME_MID, 1), (_NAME_WEAK, 0)):
        for m in rx.finditer(doc.text, s, e):
            if m.group(1) not in COMMON_CAPS:
                actors.append((m.start(group), "third"))
    before = [a for a in actors if a[0] <= pos]
    if before:
        return max(before)[1]
    after = [a for a in actors if a[0] > pos]
    return min(after)[1] if after else None


def _excused(doc: Doc, sent: int, pos: int, end: int, reported_ok: bool = True) -> bool:
    """Blaming words that are negated, denied, quoted, or reported in order to push back on them."""
    s, _ = doc.spans[sent]
    if any(s <= h[0] < pos and pos - h[1] <= 40 for h in doc.in_sentence("negation", sent)):
        return True
    if _DENIED_AFTER.match(doc.text, end):
        return True  # "human error is never the cause" says the opposite of the words
    if _inside_quotes(doc, sent, pos):
        return True
    if reported_ok and "human" in doc.text[pos : pos + 6].lower() and doc.has("reported_speech", sent):
        return True  # "human error" is someone else's label here, not the speaker's claim
    if reported_ok and doc.has("reported_speech", sent):
        nearby = [i for i in (sent, sent + 1) if i < len(doc.spans)]
        if any(doc.has("pushback", i) or doc.has("negation", i) or doc.has("system_gap", i) for i in nearby):
            return True
    return False


def find_blame(doc: Doc) -> BlameHit | None:
    """The first sentence that pins the failure on a person or team."""
    return doc.once("blame", _find_blame)


def _find_blame(doc: Doc) -> BlameHit | None:
    """Blame is what the sentence does: fault assigned to a person or team, a personnel remedy,
    "human error" as the cause. Two readers agree on it: the learned sentence reader (sure, and the
    sentence names someone) and the rubric's blame cues; a cue is overruled when the sentence reader
    reads the sentence as pushing back on blame, as the speaker owning a mistake, or as a shrug."""
    found = [
        BlameHit(si, doc.spans[si][0])
        for si in doc.read("blame")
        if doc.p("blame", si) >= _READER_ALONE and _reader_may_blame(doc, si)
    ]
    for hit in (_lexicon_blame(doc), _judged(doc)):
        if hit is not None and not _overruled(doc, hit.sentence):
            found.append(hit)
    if not found:
        found = _repeated(doc)
    return min(found, key=lambda h: (h.sentence, h.position)) if found else None


def _repeated(doc: Doc) -> list[BlameHit]:
    """Blame heard more than once: two or more sentences the reader decides blame (over its threshold,
    short of the sureness the reader alone needs), each naming someone and none pushing back. One such
    sentence can be a neutral account of who did what; a pattern of them is how blame sounds
    ("Root cause: Dana skipped the step. … Action item: remind Dana.")."""
    hits = [BlameHit(si, doc.spans[si][0]) for si in doc.read("blame") if _reader_may_blame(doc, si)]
    return hits[:1] if len(hits) >= 2 else []


_MIN_WORDS = 4  # "He agreed." cannot pin a failure on anyone by itself


def _reader_may_blame(doc: Doc, si: int) -> bool:
    """A sentence the reader reads as blame counts without a lexicon cue only when it reads as blame
    more than anything that excuses, names someone, says enough to assign fault, is not a slip turned
    to the system, carries no push-back words ("rather than moving him, we paired him with a DBA"),
    and does not refuse to endorse the blame ("I will not agree with the CTO")."""
    s, e = doc.spans[si]
    endorsed = doc.in_sentence("blame_endorse", si)
    return (
        _reads_as_blame(doc, si)
        and len(doc.text[s:e].split()) >= _MIN_WORDS
        and _has_target(doc, si)
        and not _redirected(doc, si)
        and not _pushes_back(doc, si)
        and not any(_excused(doc, si, a, b, reported_ok=False) for a, b, _ in endorsed)
        and not _REFUSES.search(doc.text, s, e)
        and not _SELF_CULPRIT.search(doc.text, s, e)
        and not doc.owner_line(si)
    )


# "I'd tell the CTO…", "What I would answer:" introduce what is said; they push back on nothing.
_SPEECH_FRAME = re.compile(r"i[’']?d\s+\w+|i\s+would\s+\w+", re.I)


def _pushes_back(doc: Doc, si: int) -> bool:
    """Push-back words in the sentence other than a bare frame for what the speaker would say."""
    hits = doc.in_sentence("pushback", si)
    return any(not _SPEECH_FRAME.fullmatch(doc.text[a:b].strip()) for a, b, _ in hits)


# The speaker is the person the blame would land on.
_SELF_CULPRIT = re.compile(
    r"\b(?:(?:the\s+)?(?:engineer|developer|person|one|culprit)\s+(?:was|is)\s+(?:me|myself)|it\s+was\s+me|"
    r"i\s+was\s+the\s+(?:engineer|developer|one|person))\b",
    re.I,
)
# Declining to endorse: "I will not agree with the CTO", "I don't accept that framing".
_REFUSES = re.compile(
    r"\b(?:not|never|n[’']t)\s+(?:\w+\s+)?(?:agree|accept|buy|sign\s+off|go\s+along)\b", re.I
)


# The reader alone flags a sentence only when it is sure and the sentence names someone to blame; with
# a blame cue from the lexicons as well, a lean towards blaming is enough.
_READER_ALONE = 0.85
_TEAMWIDE = re.compile(
    r"\b(?:every(?:one|body)|the\s+(?:whole\s+)?team|all\s+(?:the\s+)?(?:engineers|devs|developers)|"
    r"engineers|developers|human\s+error|careless\w*|sloppy|should\s+have\s+known|management|leadership)\b",
    re.I,
)


def _has_target(doc: Doc, si: int) -> bool:
    """The sentence (or, through a pronoun, the one before it) names a person, a team or a group."""
    s, e = doc.spans[si]
    groups = [h[0] for h in doc.in_sentence("third_party", si)]
    groups += [m.start() for rx in (_TEAMWIDE, _A_TEAM) for m in rx.finditer(doc.text, s, e)]
    if any(not _own_group(doc, s, e, pos) for pos in groups):
        return True
    names = (_POSSESSIVE_NAME, _NAME_MID, _NAME_AFTER_COLON)
    if any(m.group(1) not in COMMON_CAPS for rx in names for m in rx.finditer(doc.text, s, e)):
        return True
    # a name opening the sentence, followed by what a person does ("Marek skipped that step")
    lead = _NAME_LEAD.match(doc.text, s, e)
    return bool(lead) and lead.group(1) not in COMMON_CAPS


# The speaker's own group: "my second month as junior in mobile backend team", "my team" ("our X team"
# can be any team of the company, so it stays a possible target)
_OWN_GROUP_BEFORE = re.compile(
    r"\bmy\s+(?:[\w-]+\s+){0,3}$|\b(?:in|on|joined)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}$", re.I
)
_FIRST_PERSON = re.compile(r"\b(?:I|my|me)\b")


def _own_group(doc: Doc, s: int, e: int, pos: int) -> bool:
    before = doc.text[max(s, pos - 40) : pos]
    m = _OWN_GROUP_BEFORE.search(before)
    if not m:
        return False
    return m.group(0).lower().startswith("my") or bool(_FIRST_PERSON.search(doc.text, s, pos))


# A team by name: "the Network Engineering team's decision", "the data platform team".
_A_TEAM = re.compile(r"\bthe\s+(?:[A-Za-z][\w-]*\s+){1,3}team\b", re.I)
_NAME_AFTER_COLON = re.compile(r"(?<=[:;] )([A-Z][a-z]{2,})\b")


_CONTRAST = re.compile(r"\b(?:but|however|though|yet|still)\b", re.I)
_SYSTEM = re.compile(
    r"\b(?:system|pipeline|tool\w*|process|ci|checks?|validation|review|guardrails?|deploy\w*|nothing|"
    r"no\s+\w+|allowed|let)\b",
    re.I,
)


def _redirected(doc: Doc, si: int) -> bool:
    """A slip conceded and then turned to the system that let it through ("he set the path wrong, but
    the pipeline allowed it with no validation"): push-back, not blame."""
    s, e = doc.spans[si]
    m = _CONTRAST.search(doc.text, s, e)
    if m and _SYSTEM.search(doc.text, m.end(), e):
        return True
    if si + 1 < len(doc.spans):
        ns, ne = doc.spans[si + 1]
        lead = _CONTRAST.search(doc.text, ns, min(ne, ns + 12))
        # the turn to the system must not itself read as blame (the reader neither decides it blames
        # nor leans that way)
        not_blame = si + 1 not in doc.read("blame") and doc.p("blame", si + 1) < 0.5
        return bool(lead) and not_blame and bool(_SYSTEM.search(doc.text, ns, ne))
    return False


def _overruled(doc: Doc, si: int) -> bool:
    """The reader decides the sentence does something other than blame: pushing back on blame, owning
    one's own mistake or a shrug is over its own decision threshold and more likely than blame. Pushing
    back needs something pushed back on in the words: a report of the blame, a negation, quotation
    marks or push-back words, here or in the sentence before ("Nobody bothered to show up" rejects
    nothing)."""
    blame = doc.p("blame", si)
    return any(
        si in doc.read(label)
        and doc.p(label, si) > blame
        and (label != "blame_rejected" or _rejects_something(doc, si))
        for label in _NOT_BLAME
    )


def _rejects_something(doc: Doc, si: int) -> bool:
    s, e = doc.spans[si]
    if _QUOTES.search(doc.text, s, e):
        return True
    near = [i for i in (si - 1, si) if i >= 0]
    cues = ("pushback", "reported_speech", "system_gap", "rejection", "accusation_reported")
    return any(_real_cue(doc, cue, i) for cue in cues for i in near) or any(
        s <= h[0] < e and not doc.text[h[0] : h[1]].lower().startswith("nobody")
        for h in doc.hits("negation")
        if h[2] == si
    )


# "she thinks the limiter slows her down" reports what the person blamed thinks, not someone's blame
_OWN_THOUGHT = re.compile(r"\b(?:she|he|they)\s+(?:\w+\s+)?$", re.I)


def _real_cue(doc: Doc, cue: str, i: int) -> bool:
    for a, _b, _si in doc.in_sentence(cue, i):
        word = doc.text[a:_b].lower()
        if word.startswith(("think", "believe")) and _OWN_THOUGHT.search(doc.text, max(0, a - 20), a):
            continue
        return True
    return False


_NOT_BLAME = ("blame_rejected", "own_mistake", "shrug")


def _reads_as_blame(doc: Doc, si: int) -> bool:
    """Blaming more than pushing back on blame, owning one's own mistake or shrugging it off."""
    blame = doc.p("blame", si)
    others = (doc.p("blame_rejected", si), doc.p("own_mistake", si), doc.p("shrug", si))
    return all(blame > other for other in others)


def _lexicon_blame(doc: Doc) -> BlameHit | None:
    for start, end, si in doc.hits("blame_strong"):
        if _excused(doc, si, start, end):
            continue
        actor = _actor_before(doc, si, start)
        phrase = doc.text[start:end].lower()
        if actor == "third" or (actor is None and "human" in phrase):
            return BlameHit(si, start)
    for start, end, si in doc.hits("blame_endorse"):
        s0, e0 = doc.spans[si]
        if _SELF_CULPRIT.search(doc.text, s0, e0):
            continue  # "the CTO would be right, the engineer was me": owning it, not blaming
        # Endorsing personal blame ("I'd agree with the CTO") needs no named act. Agreeing on a point in
        # order to disagree is push-back; "the process was fine" with nobody named is a shrug, not blame.
        shrug = doc.has("blameless_shrug", si) and _actor_before(doc, si, start) != "third"
        if shrug or doc.has("pushback", si) or _excused(doc, si, start, end, reported_ok=False):
            continue
        if _BARE_HABIT.fullmatch(doc.text[start:end]) and not _third_in_clause(doc, si, start):
            continue  # "the deploy went out as usual" says how a thing went, not who keeps failing
        return BlameHit(si, start)
    for start, end, si in doc.hits("personnel_action"):
        # a person taken off the rotation or their work handed on is the remedy of a blaming story
        if not _excused(doc, si, start, end) and not doc.has("pushback", si):
            return BlameHit(si, start)
    for start, end, si in doc.hits("cause"):
        span = _copula_span(doc, start, end)
        if span and _person_is_cause(doc, si, *span, _names(doc)) and not _excused(doc, si, *span):
            return BlameHit(si, span[0])
    for m in _GROUP_IS_CAUSE.finditer(doc.text):
        # "the communication problem in that outage was management, full stop"
        si = doc.sentence_of(m.start())
        if not _excused(doc, si, m.start(), m.end()) and not doc.has("pushback", si):
            return BlameHit(si, m.start())
    who = doc.rubric.lex["who_cause"]
    for si in range(len(doc.spans)):
        # the cause answered as a who: "Honestly, the contractors." — a sentence that is only a group
        s, e = doc.spans[si]
        if e - s <= 60 and who.fullmatch(doc.text[s:e].strip()) and _asks_cause(doc, si):
            return BlameHit(si, s)
    for start, end, si in doc.hits("blame_weak"):
        if _excused(doc, si, start, end) or doc.has("system_gap", si) or not doc.has("blame_causal", si):
            continue
        if _actor_before(doc, si, start) == "third":
            return BlameHit(si, start)
    return None


# An endorsement cue that names nobody: it blames only a person acting in the same clause.
_BARE_HABIT = re.compile(r"as\s+usual", re.I)
_CLAUSE_EDGE = re.compile(r"[,;:\u2014\u2013]")


def _third_in_clause(doc: Doc, si: int, pos: int) -> bool:
    s, _ = doc.spans[si]
    edges = [s] + [m.end() for m in _CLAUSE_EDGE.finditer(doc.text, s, pos)]
    if len(edges) > 1 and not doc.text[edges[-1] : pos].strip():
        edges.pop()  # ", as usual" trails the clause before the comma
    lo = edges[-1]
    names = _names(doc)
    if any(lo <= h[0] < pos for h in doc.in_sentence("third_party", si)):
        return True
    return any(m.group(1) in names for m in _WORD_CAP.finditer(doc.text, lo, pos))


# "I agreed (that)" before the subject of "X was the cause" is the speaker's frame, not the subject
_FRAME = re.compile(
    r"\s*(?:(?:i|we)\s+(?:\w+\s+)?(?:agreed|think|thought|believe|found|said|concluded|decided)(?:\s+that)?\s+)?",
    re.I,
)
_PERSON_HEAD = re.compile(
    r"(?:the|that|our|a|this)\s+(?:new\s+|junior\s+|senior\s+)?(?:person|engineer|developer|dev|intern|"
    r"contractor|hire|guy|girl|dba|sre|admin|operator)\b|(?:he|she)\b",
    re.I,
)
_AFTER_NAME = re.compile(r"\s*(?:,?\s*who\b|[.;,:]|$)")


_COPULA_BEFORE = re.compile(
    r"(?:was|is|were|are)\s+(?:the\s+)?(?:real\s+|actual\s+|main\s+|whole\s+|only\s+)?$", re.I
)
_COPULA_AFTER = re.compile(r"(?:\s+of\s+(?:the|this|our)\s+\w+)?\s+(?:was|is|were)\b", re.I)


def _copula_span(doc: Doc, start: int, end: int) -> tuple[int, int] | None:
    """The "was the root cause" / "the root cause was" span around a cause hit, if it is stated that way."""
    word = doc.text[start:end].lower()
    if not word.endswith("cause") or word.endswith("because"):
        return None
    before = _COPULA_BEFORE.search(doc.text, max(0, start - 30), start)
    if before:
        return before.start(), end
    after = _COPULA_AFTER.match(doc.text, end)
    return (start, after.end()) if after else None


def _person_is_cause(doc: Doc, si: int, start: int, end: int, names: frozenset[str]) -> bool:
    """'Oleksandr was the root cause', 'the person who ran it was the cause', 'the root cause was Dmitri,
    who ...': a person, not a change or a gap, stated as the cause."""
    s, e = doc.spans[si]
    if doc.text[start:end].lower().startswith(("was", "is", "were", "are")):
        edges = [s] + [m.end() for m in _CLAUSE_EDGE.finditer(doc.text, s, start)]
        lo = _FRAME.match(doc.text, edges[-1], start).end()
        subject = doc.text[lo:start]
        first = subject.split()[0] if subject.split() else ""
        return first in names or bool(_PERSON_HEAD.match(subject))
    m = _WORD_CAP.match(doc.text, end + 1, e) if doc.text[end : end + 1] == " " else None
    if _GROUP_CAUSE.match(doc.text, end, e):
        return True  # "the root cause was management, full stop"
    return bool(m and m.group(1) in names and _AFTER_NAME.match(doc.text, m.end(), e))


_GROUP_IS_CAUSE = re.compile(
    r"\b(?:problem|cause|issue|reason|fault|failure)\b[^.;!?\n]{0,60}?\b(?:was|is)\s+(?:(?:simply|just|basically|"
    r"really)\s+)?(?:upper\s+|senior\s+)?(?:management|leadership|the\s+execs?)\b(?!\s+(?:process|review|"
    r"approval|sign-?off|tooling|dashboard))",
    re.I,
)
_GROUP_CAUSE = re.compile(
    r"\s+(?:(?:simply|just|basically|really)\s+)?(?:upper\s+|senior\s+)?(?:management|leadership|the\s+execs?)"
    r"\s*(?:[.;,:!]|$|full\s+stop)",
    re.I,
)


def _asks_cause(doc: Doc, si: int) -> bool:
    """The answer is about the cause: the bare who stands in for "what caused it"."""
    near = range(max(0, si - 2), min(len(doc.spans), si + 2))
    return any(doc.has("cause", i) or doc.has("blame_causal", i) for i in near) or si == 0


# ---------------------------------------------------------------- the judgement scorer


def _names(doc: Doc) -> frozenset[str]:
    """Capitalised words the answer uses as people: mid-sentence, or leading with a person's verb."""
    return doc.once("blame_names", _find_names)


def _find_names(doc: Doc) -> frozenset[str]:
    found = {m.group(1) for m in _NAME_MID.finditer(doc.text)}
    for s, e in doc.spans:
        m = _NAME_LEAD.match(doc.text, s, e)
        if m:
            found.add(m.group(1))
    return frozenset(found - COMMON_CAPS)


def _targets(doc: Doc, si: int, names: frozenset[str]) -> list[tuple[int, int]]:
    """Spans of the people and groups named in sentence `si` (not the speaker's own team)."""
    s, e = doc.spans[si]
    out = [
        m.span()
        for m in doc.rubric.lex["blame_target"].finditer(doc.text, s, e)
        if " ".join(m.group().lower().split()) not in _SELF_ONLY
    ]
    if names:
        out += [(m.start(1), m.end(1)) for m in _WORD_CAP.finditer(doc.text, s, e) if m.group(1) in names]
    return out


_WORD_CAP = re.compile(r"\b([A-Z][a-z]{2,})\b")


def _pronoun_targets(doc: Doc, si: int, names: frozenset[str], previous: bool) -> list[tuple[int, int]]:
    """Third-person pronouns in `si` that refer to a person or group named here or just before."""
    pronouns = [(h[0], h[1]) for h in doc.in_sentence("blame_pronoun", si)]
    if not pronouns:
        return []
    here = _targets(doc, si, names)
    first_here = min((t[0] for t in here), default=None)
    return [
        p
        for p in pronouns
        if previous
        or (first_here is not None and first_here < p[0])
        or doc.text[p[0] : p[1]].lower() in _POSSESSIVES
    ]


def _self_subject(doc: Doc, si: int, pos: int, targets: list[tuple[int, int]]) -> bool:
    """The nearest actor before the cue is the speaker ("we skipped", "I couldn't be bothered")."""
    selves = [h[0] for h in doc.in_sentence("self_actor", si) if h[0] < pos]
    if not selves:
        return False
    others = [t[0] for t in targets if t[0] < pos]
    return max(selves) > max(others, default=-1)


def _reported_and_rejected(doc: Doc, si: int, pos: int) -> bool:
    """An accusation someone else made, reported before the cue and rejected after it."""
    s, _ = doc.spans[si]
    if not any(s <= h[0] < pos for h in doc.in_sentence("accusation_reported", si)):
        return False
    after = [h for h in doc.in_sentence("rejection", si) if h[0] > pos]
    return bool(after) or (si + 1 < len(doc.spans) and doc.has("rejection", si + 1))


def _who_reaches(doc: Doc, start: int, end: int, targets: list[tuple[int, int]], weak: bool) -> bool:
    """A who-cue is about a person only when a target sits right after it (or, for 'was the problem',
    right before it)."""
    if weak:
        return any(0 <= t[0] - end <= 2 for t in targets)
    return any(0 <= t[0] - end <= _WHO_REACH or 0 <= start - t[1] <= _WHO_REACH for t in targets)


def _sentence_score(doc: Doc, si: int, targets: list[tuple[int, int]]) -> tuple[int, int, bool]:
    """(points, position of the first counted cue, whether a weak who-cue names a person here)."""
    families: dict[str, int] = {}
    first = None
    weak_who = False
    gap = doc.has("system_gap", si)
    for lex, weight in _CUES:
        for start, end, _ in doc.in_sentence(lex, si):
            cue = doc.text[start:end]
            own_target = bool(_THIRD_PRONOUN.search(cue.lower())) and lex != "judge_act"
            if not (targets or own_target):
                continue
            w = weight
            if lex == "judge_who":
                weak = bool(_WEAK_WHO.match(cue))
                if not _who_reaches(doc, start, end, targets, weak):
                    continue
                if cue.lower().startswith("thanks") and any(
                    h[0] > end for h in doc.in_sentence("damage", si)
                ):
                    w = 2  # "thanks to Gordon, the region went dark" is sarcasm, not gratitude
                elif weak:
                    weak_who, w = True, 1
                elif "reason" in cue.lower():
                    w = 1  # "X was the reason we recovered" can be credit: it needs another cue
            if _inside_quotes(doc, si, start) or _reported_and_rejected(doc, si, start):
                continue
            if w == 1 and gap:
                continue  # a slip next to the gap that let it through is the system's story
            if not _RECEIVED.match(cue) and _self_subject(doc, si, start, targets):
                continue
            if lex != "judge_competence" and _negated_before(doc, si, start):
                continue
            if w > families.get(lex, 0):
                families[lex] = w
                first = start if first is None else min(first, start)
    return sum(families.values()), (first if first is not None else doc.spans[si][0]), weak_who


def _negated_before(doc: Doc, si: int, pos: int) -> bool:
    """A negation just before the cue ("wasn't lazy"); "nobody on the X team bothered" is a subject."""
    s, _ = doc.spans[si]
    return any(
        s <= h[0] < pos
        and pos - h[1] <= 25
        and not _QUANTIFIER.match(doc.text, h[0])
        and not _CLAUSE_BREAK.search(doc.text, h[1], pos)
        for h in doc.in_sentence("negation", si)
    )


_QUANTIFIER = re.compile(r"(?:nobody|no\s*one|none)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[;:,\u2014\u2013]|\bbut\b")


def _judged(doc: Doc) -> BlameHit | None:
    cue_sents: set[int] = set()
    for lex, _w in _CUES:
        cue_sents.update(doc.sents(lex))
    if not cue_sents:
        return None
    names = _names(doc)
    carry_from = -2  # the sentence whose weak who-cue named a person
    for si in sorted(cue_sents):
        previous_named = si > 0 and bool(_targets(doc, si - 1, names))
        targets = _targets(doc, si, names)
        targets += _pronoun_targets(doc, si, names, previous_named)
        points, pos, weak_who = _sentence_score(doc, si, targets)
        if carry_from == si - 1 and targets:
            points += 1  # "Because Derek turned it off." then "He does that every time." judges Derek
        if points >= 2:
            return BlameHit(si, pos)
        if weak_who:
            carry_from = si
    return None


def blame_rewrite(doc: Doc, hit: BlameHit) -> str:
    sentence = doc.sentence(hit.sentence)
    for topic, pattern in doc.rubric.rewrite_topics.items():
        if pattern.search(sentence):
            return doc.rubric.rewrites[topic]
    return doc.rubric.rewrites["default"]
