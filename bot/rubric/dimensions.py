"""One detector per rubric dimension.

Each returns a Partial: the fraction of the dimension earned (0..1), the sentences that earn it, and
the key of the hint to show when it is not full marks. Words live in rubric.yml; the structure the
detectors look for (co-occurrence in a sentence, negation, counting distinct things) lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import Doc
from .text_words import COMMON_CAPS

_CLAUSE_BREAK = re.compile(r"[,;:()\u2014\u2013]|\s-\s|\s+and then\s+")
_ALPHA = re.compile(r"[A-Za-z]{2,}")
_DIGIT = re.compile(r"\d")
# A capitalised word that acts like a person's name: followed by an action verb.
_NAME_ACTS = re.compile(
    r"\b([A-Z][a-z]{2,})\s+(?:\w+ly\s+)?(?:found|spotted|noticed|caught|suggested|joined|paired|took|ran|"
    r"wrote|owned|shipped|built|checked|confirmed|pointed|handled|led|rolled|paged|pulled|dug|traced|fixed)\b"
)
_NAME_MID = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,})\b(?!\s+[A-Z])")
_THING_BEFORE = re.compile(r"\b(?:the|a|an|our|their|in|on|at|into|via|using|from|of)\s+$")
# Capitalised words that start sentences or name things, never people.
_NOT_NAMES = frozenset(
    [
        "The",
        "This",
        "That",
        "Then",
        "After",
        "Before",
        "When",
        "While",
        "Once",
        "Our",
        "We",
        "They",
        "Everything",
        "Nothing",
        "Someone",
        "Nobody",
        "Support",
        "Customers",
        "Traffic",
        "Errors",
        "Latency",
        "Alerts",
        "Monitoring",
        "Postgres",
        "Mysql",
        "Redis",
        "Kafka",
        "Datadog",
        "Grafana",
        "Sentry",
        "Slack",
        "Zoom",
        "Friday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Saturday",
        "Sunday",
        "Within",
        "Later",
        "Next",
        "Finally",
        "Eventually",
        "Meanwhile",
        "Also",
        "Nobody",
        "Engineering",
        "Finance",
        "Legal",
        "Sales",
        "Marketing",
        "Product",
        "Security",
        "It",
        "Its",
        "Pagerduty",
        "Opsgenie",
        "Prometheus",
        "Checkout",
        "Payments",
        "Billing",
        "Search",
        "Ops",
        "Platform",
    ]
)


@dataclass
class Partial:
    fraction: float
    evidence: list[int] = field(default_factory=list)  # sentence indices
    hint: str | None = None
    spans: list[str] = field(default_factory=list)  # verbatim spans from elsewhere (the SQL analyser)
    hint_text: str | None = None  # a hint worded elsewhere (the SQL analyser), used instead of `hint`


def _union(*groups) -> list[int]:
    return sorted({i for g in groups for i in g})


def _read_prevention(doc: Doc) -> list[int]:
    """Sentences the reader says change the system for good, and that name what changed (a threshold,
    a system, a check): "we added monitoring" alone is not a guardrail. Items of a list headed as the
    changes ("What changed:", "Action items:") need the reader only to lean that way."""
    read = set(doc.read("prevention")) | set(_listed_under_changes(doc))
    return [i for i in sorted(read) if doc.concrete(i) and not _negative_reading(doc, i)]


_CHANGES_HEAD = re.compile(
    r"\W*(?:what\s+(?:we\s+)?changed|changes|action\s+items|follow[\s-]*ups|what\s+we\s+(?:did|changed|fixed)\s+"
    r"(?:after|afterwards)|remediations?|preventive\s+(?:actions|measures))\b[^\n]{0,40}:\s*$",
    re.I,
)
_ITEM = re.compile(r"\s*(?:[-*\u2022\u00b7]|\d+[.)])\s+")


def _listed_under_changes(doc: Doc) -> list[int]:
    return doc.once("listed_changes", _find_listed_changes)


def _find_listed_changes(doc: Doc) -> list[int]:
    out: list[int] = []
    under = False
    n = len(doc.spans)
    for i, (s, e) in enumerate(doc.spans):
        # a change followed by the line that names its owner ("2. Auto-halt if … Owner: SRE.")
        if i + 1 < n and doc.owner_line(i + 1) and doc.p("prevention", i) >= 0.3:
            out.append(i)
        if _CHANGES_HEAD.match(doc.text, s, e):
            under = True
            continue
        if under and _ITEM.match(doc.text, s, e):
            if doc.p("prevention", i) >= 0.2:
                out.append(i)
            continue
        under = False
    return out


def _negative_reading(doc: Doc, i: int) -> bool:
    """The sentence is read as blaming, shrugging or empty rubric talk more than as anything else."""
    return max(doc.p("blame", i), doc.p("empty_claim", i), doc.p("shrug", i)) >= 0.5


def _first(indices, n: int = 3) -> list[int]:
    out: list[int] = []
    for i in indices:
        if i not in out:
            out.append(i)
        if len(out) == n:
            break
    return out


def named_others(doc: Doc) -> list[int]:
    """Sentences that name another responder: a role, a team, someone paged, or a person's name."""
    return doc.once("others", _named_others)


def _named_others(doc: Doc) -> list[int]:
    found = set(doc.sents("others"))
    for m in _NAME_ACTS.finditer(doc.text):
        if m.group(1) not in _NOT_NAMES:
            found.add(doc.sentence_of(m.start()))
    if found and not doc.hits("bystanders"):
        return sorted(found)  # a responder is already credited: names would change nothing
    # a person's name anywhere ("Mei kept the status page current", "with Tunde"), not a product
    # named after a preposition ("in Grafana", "on Kafka")
    for m in _NAME_MID.finditer(doc.text):
        if _person_name(doc, m):
            found.add(doc.sentence_of(m.start()))
    return sorted(found)


def _person_name(doc: Doc, m: re.Match) -> bool:
    return (
        m.group(1) not in _NOT_NAMES
        and m.group(1) not in COMMON_CAPS
        and not _THING_BEFORE.search(doc.text, max(0, m.start() - 8), m.start())
    )


def negated(doc: Doc, start: int, sent: int, window: int = 30) -> bool:
    """A negation just before `start` in the same sentence ("there was no linter")."""
    s, _ = doc.spans[sent]
    lo = max(s, start - window)
    return any(lo <= h[0] < start and h[2] == sent for h in doc.hits("guardrail_negated"))


# ---------------------------------------------------------------- timeline


def timeline_markers(doc: Doc) -> tuple[dict[str, int], int]:
    """Distinct time markers tied to an event ({normalised marker: sentence}) and the count of all."""
    return doc.once("timeline_markers", _timeline_markers)


def _timeline_markers(doc: Doc) -> tuple[dict[str, int], int]:
    tied: dict[str, int] = {}
    markers = doc.hits("time_marker")
    verb = doc.rubric.lex["event_verb"]
    for k, (start, end, si) in enumerate(markers):
        s, e = doc.spans[si]
        nxt = markers[k + 1][0] if k + 1 < len(markers) and markers[k + 1][2] == si else e
        left = s
        for m in _CLAUSE_BREAK.finditer(doc.text, s, start):
            left = m.end()
        right_m = _CLAUSE_BREAK.search(doc.text, end, nxt)
        right = right_m.start() if right_m else nxt
        clause = doc.text[left:start] + " " + doc.text[end:right]
        if len(_ALPHA.findall(clause)) < 2 and right_m:
            # "T+5: rolled back the deploy" — the event sits in the clause after the marker
            after = _CLAUSE_BREAK.search(doc.text, right_m.end(), nxt)
            clause += " " + doc.text[right_m.end() : after.start() if after else nxt]
        # tied to an event: a verb of something happening next to it, or a sentence the reader sees
        # doing something (an action, a detection, a finding) told in words the verb list lacks
        # ("switch the resorts to on-request, then rollback at 11:10")
        if len(_ALPHA.findall(clause)) >= 2 and (verb.search(clause) or _reads_as_event(doc, si)):
            key = re.sub(r"\s+", "", doc.text[start:end].lower())
            tied.setdefault(key, si)
    return tied, len(markers)


_EVENT_READINGS = ("detection", "mitigation", "fix", "diagnosis", "communication", "impact", "measurement")


def _reads_as_event(doc: Doc, si: int) -> bool:
    return not _negative_reading(doc, si) and any(doc.p(label, si) >= 0.6 for label in _EVENT_READINGS)


def timeline(doc: Doc) -> Partial:
    tied, total = timeline_markers(doc)
    n = len(tied)
    fraction = min(n, 4) / 4
    hint = None
    if n < 4:
        hint = "bare" if total >= 3 and n < total / 2 else ("none" if n == 0 else "few")
    return Partial(fraction, _first(tied.values(), 4), hint)


# ---------------------------------------------------------------- mitigation / fix / prevention


def _tagged(doc: Doc, si: int) -> bool:
    """A terse change line tagged with its owner and when ("Page when lag passes 5k (Marta, week 2)")."""
    sentence = doc.sentence(si)
    return bool(_OWNER_TAG.search(sentence) and _WHEN_TAG.search(sentence))


def guardrail_sentences(doc: Doc) -> dict[str, list[int]]:
    """Guardrail kinds the answer says were (or will be) put in place, not ones it says were missing."""
    return doc.once("guardrails", _guardrail_sentences)


def _guardrail_sentences(doc: Doc) -> dict[str, list[int]]:
    kinds: dict[str, list[int]] = {}
    for kind in doc.rubric.guardrails:
        for start, _end, si in doc.hits("gr:" + kind):
            if negated(doc, start, si):
                continue
            if not (doc.has("prevention_intent", si) or doc.has("owner", si) or doc.has("timing", si)
                    or _tagged(doc, si)):
                continue
            # the reader sees how things were (the cause), not a change: "the capacity plan was from 2019
            # and nobody was owner to update it" names a guardrail's absence, with an owner and a year
            if doc.p("cause", si) >= 0.6 and doc.p("prevention", si) < 0.25:
                continue
            kinds.setdefault(kind, []).append(si)
    return kinds


@dataclass
class Remedy:
    mitigation: list[int]
    fix: list[int]
    prevention: list[int]
    restored: list[int]
    conflated: bool


# "so that was the root cause fixed", "the main change was fixing the root cause", "resolved the issue"
_ROOT_FIXED = re.compile(
    r"\broot[\s-]+cause\s+(?:was\s+|is\s+|got\s+|has\s+been\s+)?(?:fixed|resolved|solved|addressed|gone|"
    r"eliminated|cleared|removed)|\b(?:fix|fixed|fixing|resolv\w+|solv\w+|address\w*|eliminat\w+)\s+(?:for\s+|of\s+)?"
    r"the\s+root[\s-]+cause\b",
    re.I,
)
# what stops the bleeding without changing what caused it
_STOPGAP = re.compile(
    r"\b(?:restart\w*|reboot\w*|bounc\w+|bump\w*|rais\w+|increas\w+|scal\w+\s+(?:up|out)|scaled|"
    r"roll\w*\s+back|rollback|redeploy\w*|re-deploy\w*|fail\w*\s+over|failover|flush\w*|cleared?|"
    r"purg\w+|kill\w*|re-?ran|rerun|re-?sign\w*|"
    r"(?:more|bigger|larger)\s+(?:replicas|pods|nodes|memory|cpu|capacity|margin|headroom|shards|instances|workers|"
    r"disks?)|\d+\s*(?:gb|gib|tb|cores?|vcpus?)\s+(?:shards|instances|nodes|disks?|limits?))",
    re.I,
)


def _restart_called_the_fix(doc: Doc, fix: list[int]) -> bool:
    """The answer says the root cause was fixed in a sentence whose action (or the one before it) only
    stops the bleeding (a restart, a bigger limit, more replicas, a rollback), and no other sentence
    corrects the cause: "the restart cleared the stuck state, so that was the root cause fixed"."""
    if "root" not in doc.lower:
        return False
    for m in _ROOT_FIXED.finditer(doc.text):
        si = doc.sentence_of(m.start())
        stop_here = bool(_STOPGAP.search(doc.sentence(si)))
        stop_before = bool(si) and bool(_STOPGAP.search(doc.sentence(si - 1)))
        # "We restarted the workers. The fix was a change to close the file, so that was the root cause
        # fixed." names a real fix in the claim itself
        if not (stop_here or (stop_before and si not in fix)):
            continue
        if not [i for i in fix if i != si and not _STOPGAP.search(doc.sentence(i))]:
            return True
    return False


def remedies(doc: Doc) -> Remedy:
    """Mitigation, fix and prevention sentences: what the reader says each sentence does, plus the
    words that name each step outright ("mitigation:", "the fix was", a guardrail put in place)."""
    # a sentence the reader sees both ways counts for the one it is surer of
    read_fix = [i for i in doc.read("fix") if doc.p("fix", i) > doc.p("mitigation", i)]
    read_mitigation = [i for i in doc.read("mitigation") if i not in read_fix]
    mitigation = _union(doc.sents("mitigation"), read_mitigation)
    fix = _union(doc.sents("fix"), read_fix)
    guard = guardrail_sentences(doc)
    prevention = _union(
        doc.sents("prevention_word"), [i for v in guard.values() for i in v], _read_prevention(doc)
    )
    fix_words = doc.hits("fix_word")
    fix_sents = {h[2] for h in fix_words}
    explicit_mitigation = any(
        re.match(r"mitigat|stop|workaround", doc.text[s:e], re.I) for s, e, _ in doc.hits("mitigation")
    )
    explicit_prevention = bool(doc.hits("prevention_word"))
    used_for_both = bool(fix_sents & set(mitigation)) and bool(fix_sents & set(prevention))
    conflated = (len(fix_words) >= 3 and not (explicit_mitigation and explicit_prevention)) or (
        len(fix_words) >= 2 and used_for_both and not explicit_mitigation
    ) or _restart_called_the_fix(doc, fix)
    return Remedy(mitigation, fix, prevention, doc.sents("restored"), conflated)


def mitigation_fix_prevention(doc: Doc, rem: Remedy) -> Partial:
    parts = [
        ("mitigation", rem.mitigation, 0.34),
        ("fix", rem.fix, 0.33),
        ("prevention", rem.prevention, 0.33),
    ]
    fraction = sum(w for _, found, w in parts if found)
    evidence = _first([found[0] for _, found, _ in parts if found], 3)
    missing = [name for name, found, _ in parts if not found]
    hint = missing[0] if missing else None
    if rem.conflated:
        fraction = min(fraction, 0.34)
        hint = "conflated"
    return Partial(round(fraction, 2), evidence, hint)


# ---------------------------------------------------------------- detection


def detection(doc: Doc) -> Partial:
    return doc.once("detection", _detection)


def _detection(doc: Doc) -> Partial:
    alert = [
        si
        for start, _e, si in doc.hits("detect_source")
        if doc.has("detect_verb", si) and not negated(doc, start, si)
    ]
    before = doc.sents("before_customers")
    customer = [
        si
        for si in doc.sents("detect_customer")
        if doc.has("detect_verb", si) and si not in before and si not in alert
    ]
    selfish = doc.sents("detect_self")
    read = [i for i in doc.read("detection") if not _negative_reading(doc, i)]
    if read and not (alert or customer or selfish):
        # found out in other words: an alert or monitor named in the sentence is the stronger story
        alerted = [i for i in read if doc.has("detect_source", i)]
        if alerted:
            return Partial(0.85, _first(alerted, 2), "vague")
        return Partial(0.55, _first(read, 2), "self")
    if alert:
        if before:
            return Partial(1.0, _first([alert[0], before[0]], 2))
        if customer and customer[0] < alert[0]:
            return Partial(0.6, _first([customer[0], alert[0]], 2), "customer")
        return Partial(0.85, _first(alert, 2), "vague")
    if customer:
        return Partial(0.45, _first(customer, 2), "customer")
    if selfish:
        return Partial(0.55, _first(selfish, 2), "self")
    mentioned = doc.sents("detect_source")
    if mentioned:
        return Partial(0.25, _first(mentioned, 1), "vague")
    return Partial(0.0, [], "none")


# ---------------------------------------------------------------- impact


# A line headed as the impact ("Impact: 23 double bookings in 9 properties", "Blast radius - EU only")
_IMPACT_HEAD = re.compile(
    r"\W*(?:customer\s+|user\s+|business\s+)?(?:impact|blast\s+radius)\s*[:\-\u2013\u2014]", re.I
)


def impact(doc: Doc) -> Partial:
    context = set(doc.sents("impact_context")) | set(doc.read("impact"))
    context |= {si for si, (s, e) in enumerate(doc.spans) if _IMPACT_HEAD.match(doc.text, s, e)}
    quantities: dict[str, int] = {}
    for start, end, si in doc.hits("quantity"):
        if start and doc.text[start - 1] == "+":  # "T+5 minutes" is a timeline marker
            continue
        if si in context:
            quantities.setdefault(re.sub(r"\s+", " ", doc.text[start:end].lower()), si)
    n = len(quantities)
    scope = [si for si in doc.sents("severity")]
    fraction = {0: 0.0, 1: 0.45, 2: 0.7, 3: 0.9}.get(n, 1.0)
    evidence = _first(quantities.values(), 3)
    if scope:
        fraction += 0.1 if n else 0.2
        evidence = _first([*evidence, scope[0]], 4)
    # three numbers already make the impact concrete: what is missing then is how severe it was
    hint = None if fraction >= 1 else ("none" if n == 0 else ("few" if n < 3 else "severity"))
    return Partial(round(min(fraction, 1.0), 2), evidence, hint)


# ---------------------------------------------------------------- ownership


def hero_sentences(doc: Doc, others: list[int]) -> list[int]:
    """Sentences telling a solo-hero story: explicit ("I alone") or every action mine in a long story,
    with no other responder (a name, a role, a team, someone paged) anywhere else in the answer.

    People mentioned only as bystanders ("my manager", "the other engineers") or erased by the hero
    sentence itself ("the rest of the team was panicking") are not responders.
    """
    explicit = sorted(set(doc.sents("hero")) | set(_solo_sentences(doc)))
    bystanders = [(h[0], h[1]) for h in doc.hits("bystanders")]
    responders = {si for si in others if si not in explicit and not _only_bystanders(doc, si, bystanders)}
    if responders:
        return []
    if explicit:
        return explicit
    actions = doc.sents("i_action")
    if len(actions) >= 5 and not others and len(doc.hits("we")) <= 1 and doc.word_count >= 120:
        return actions[:2]
    return []


def _solo_sentences(doc: Doc) -> list[int]:
    """Actions done "myself"/"alone" again and again, others only told to stop: the hero's shape.
    Twice with someone sidelined, or three times on its own; once is emphasis."""
    solo = doc.hits("hero_solo")
    if len(solo) < 2:
        return []
    sidelined = doc.sents("sidelined")
    if not sidelined and len(solo) < 3:
        return []
    return sorted({h[2] for h in solo} | set(sidelined))


def _only_bystanders(doc: Doc, si: int, bystanders: list[tuple[int, int]]) -> bool:
    """Every 'others' mention in sentence `si` is a bystander, and no name acts in it."""
    s, e = doc.spans[si]
    if any(s <= m.start() < e for m in _NAME_ACTS.finditer(doc.text, s, e) if m.group(1) not in _NOT_NAMES):
        return False
    if any(_person_name(doc, m) for m in _NAME_MID.finditer(doc.text, s, e)):
        return False
    hits = doc.in_sentence("others", si)
    return bool(hits) and all(any(b[0] <= h[0] < b[1] for b in bystanders) for h in hits)


def ownership(doc: Doc, level: str, others: list[int], hero: list[int], cross_team_needed: bool) -> Partial:
    actions = [i for i in _union(doc.sents("i_action"), doc.read("role")) if not doc.has("i_weak", i)]
    weak = doc.sents("i_weak")
    roles = doc.sents("role")
    junior = level == "junior"
    n = len(actions)
    if n == 0:
        if weak:
            return Partial(0.2, _first(weak, 1), "helped")
        if roles:
            return Partial(0.2, _first(roles, 1), "none")
        we = doc.sents("we")
        if len(we) >= 2:
            return Partial(0.1, _first(we, 1), "we_only")
        return Partial(0.0, [], "none")
    base = (0.4, 0.55, 0.65) if junior else (0.3, 0.45, 0.55)
    fraction = base[min(n, 3) - 1]
    evidence = _first(actions, 2)
    hint = None
    if roles:
        fraction += 0.1 if junior else 0.2
        evidence.append(roles[0])
    else:
        hint = "no_role"
    if others:
        fraction += 0.25
        evidence.append(others[0])
    else:
        hint = hint or "no_credit"
    if hero:
        fraction = min(fraction, 0.5)
        hint = "hero"
    if cross_team_needed and not _across_teams(doc) and fraction > 0.7:
        fraction = 0.7
        hint = "senior_cross_team"
    fraction = min(fraction, 1.0)
    if fraction >= 1:
        hint = None
    elif hint is None:
        hint = "no_role" if not roles else "no_credit"
    return Partial(round(fraction, 2), _first(evidence, 4), hint)


# ---------------------------------------------------------------- diagnosis


_FACTORS = ("factor_change", "factor_test", "factor_process", "factor_monitoring")


def contributing_factors(doc: Doc) -> dict[str, int]:
    """Distinct contributing factors explained causally: {factor: first sentence that explains it}.

    A factor counts where a sentence names it (the change, the tests, the deploy process, the
    monitoring) together with a causal or gap link ("because", "never", "no lock timeout", "so every
    write queued", or a colon before its explanation) and something concrete (a number, a system, a
    name, specific words), not the category name alone.
    """
    found: dict[str, int] = {}
    used: set[tuple[int, int]] = set()  # (sentence, clause start): one factor per clause
    causal = set(doc.sents("causal"))
    for factor in _FACTORS:
        for start, end, si in doc.hits(factor):
            # "The test gap: validation only checked types" explains the factor after the colon
            labelled = doc.text.find(":", end, min(end + 25, doc.spans[si][1])) != -1
            if not (si in causal or labelled) or not doc.concrete(si):
                continue
            # "the key expired unrecorded; the health check skipped it; no alert on delivery" lists
            # several factors in one sentence, separated by semicolons
            s, _e = doc.spans[si]
            clause = (si, doc.text.rfind(";", s, start) + 1 or s)
            if clause not in used:
                used.add(clause)
                found[factor] = si
                break
    # causes the reader finds, explained in words no factor lexicon lists: each concrete causal
    # sentence not already counted is a further link in the chain
    # (a sentence that goes on about the cause just read, in the same paragraph or line, tells more of
    # that link rather than another one: "Root cause was a poison message. It had a malformed payload…")
    read_links: set[int] = set()
    for si in doc.read("cause"):
        if si in found.values() or not doc.concrete(si) or _negative_reading(doc, si):
            continue
        if si - 1 in read_links and "\n" not in doc.text[doc.spans[si - 1][1] : doc.spans[si][0]]:
            read_links.add(si)
            continue
        read_links.add(si)
        found[f"read:{si}"] = si
    return found


def diagnosis(doc: Doc, round_id: str = "opening") -> Partial:
    if round_id == "probe":
        return _failure_chain(doc)
    wrong = doc.sents("wrong_turn")
    hyp = doc.sents("hypothesis")
    ev = doc.sents("diag_evidence")
    fraction = (0.45 if wrong else 0) + (0.3 if hyp else 0) + (0.25 if ev else 0)
    evidence = _first([*wrong[:1], *hyp[:1], *ev[:1]], 3)
    # reasoning in other words: each sentence the reader sees testing or ruling out a hypothesis
    reasoning = [i for i in doc.read("diagnosis") if not _negative_reading(doc, i)]
    read_fraction = {0: 0.0, 1: 0.45, 2: 0.75}.get(len(reasoning), 1.0)
    if read_fraction > fraction:
        fraction = read_fraction
        evidence = _first([*reasoning, *evidence], 3)
        if not wrong and not hyp:
            hyp = reasoning[:1]
        if not ev and len(reasoning) >= 2:
            ev = reasoning[1:2]
        if not wrong and len(reasoning) >= 3:
            wrong = reasoning[:1]
    factors = contributing_factors(doc)
    if factors:
        # the failure chain: several contributing factors, each linked to what it let happen
        chain = {1: 0.3, 2: 0.6, 3: 0.8}.get(len(factors), 0.9) + (0.1 if doc.hits("chain") else 0.0)
        if chain > fraction:
            evidence = _first([*factors.values(), *evidence], 3)
        fraction = max(fraction, chain) + (0.1 if fraction and chain else 0.0)
        fraction = min(fraction, 1.0)
        if len(factors) >= 2 and fraction >= 0.8:
            return Partial(round(fraction, 2), evidence, None if fraction >= 1 else "no_wrong_turn")
    hint = None
    if not wrong:
        hint = "no_wrong_turn" if (hyp or ev) else "none"
    elif not ev:
        hint = "no_evidence"
    elif not hyp:
        hint = "none"
    return Partial(round(fraction, 2), evidence, hint)


def _failure_chain(doc: Doc) -> Partial:
    """The probe round asks for the failure chain, not the debugging story: contributing factors,
    each explained causally; three make the chain. Reasoning told along the way adds a little."""
    factors = contributing_factors(doc)
    n = len(factors)
    fraction = {0: 0.0, 1: 0.4, 2: 0.75}.get(n, 1.0)
    reasoning = [i for i in doc.read("diagnosis") if not _negative_reading(doc, i)]
    if n and n < 3 and (reasoning or doc.hits("chain")):
        fraction += 0.1
    if not n and reasoning:
        fraction = 0.25
    evidence = _first([*factors.values(), *reasoning], 3)
    return Partial(round(min(fraction, 1.0), 2), evidence, None if fraction >= 1 else "chain")


# ---------------------------------------------------------------- communication

_COMMS = (
    ("cadence", "cadence", 0.25),
    ("channel", "channel", 0.2),
    ("comms_roles", "roles", 0.2),
    ("audience", "audience", 0.15),
    ("comms_structure", "structure", 0.1),
    ("comms_focus", "structure", 0.1),
)


def _checklist(doc: Doc, items) -> tuple[float, list[int], str | None]:
    """Weighted parts of an answer: each part found adds its weight and its first sentence as
    evidence; the first part missing names the hint."""
    fraction = 0.0
    evidence: list[int] = []
    hint = None
    for lex, hint_key, weight in items:
        found = doc.sents(lex)
        if found:
            fraction += weight
            evidence.append(found[0])
        elif hint is None:
            hint = hint_key
    return fraction, evidence, hint


def _across_teams(doc: Doc) -> bool:
    """Coordination beyond one's own team: said outright ("looped in the DBA team"), or shown by
    keeping two or more different audiences informed (support and the VP, customers and sales)."""
    if doc.hits("cross_team"):
        return True
    audiences = {doc.text[s:e].lower().rstrip("s") for s, e, _ in doc.hits("audience")}
    return len(audiences) >= 2


def communication(doc: Doc, cross_team_needed: bool) -> Partial:
    fraction, evidence, hint = _checklist(doc, _COMMS)
    # communication told in other words: each concrete sentence the reader sees informing someone
    told = [i for i in doc.read("communication") if doc.concrete(i) and not _negative_reading(doc, i)]
    read_fraction = min(len(told), 4) * 0.2
    if read_fraction > fraction:
        evidence = _first([*evidence, *told], 4)
        fraction = read_fraction
    if cross_team_needed and not _across_teams(doc) and fraction > 0.75:
        fraction, hint = 0.75, "senior_cross_team"
    if fraction >= 0.999:
        fraction, hint = 1.0, None
    if fraction == 0:
        hint = "none"
    return Partial(round(fraction, 2), _first(evidence, 4), hint)


# ---------------------------------------------------------------- prevention


# An owner and a date tagged onto a change, as action-item lists write them: "(Nadia, week 2)",
# "(me, by Friday)", "owner: Sam", "— Priya, Q3".
_OWNER_TAG = re.compile(
    r"\((?:me|us|myself|[A-Z][a-z]+|@[\w.-]+)\s*[,;/)]|\bowner\s*[:=]\s*\S|[\u2014\u2013-]\s*[A-Z][a-z]+,"
)
_WHEN_TAG = re.compile(
    r"\b(?:week|wk|sprint|day|q)\s*\d\b|\bby\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\b\d{4}-\d\d-\d\d\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b",
    re.I,
)


def prevention(doc: Doc) -> Partial:
    """Changes that stop the class of failure recurring: the guardrail kinds the rubric names, and every
    other concrete sentence the reader sees changing the system for good; then owners, dates and numbers."""
    kinds = guardrail_sentences(doc)
    guard = {i for v in kinds.values() for i in v}
    # each further concrete change the reader finds counts as one more guardrail
    read = [i for i in _read_prevention(doc) if i not in guard]
    k = len(kinds) + len(read)
    if k == 0:
        vague = doc.sents("vague_prevention")
        if vague:
            return Partial(0.15, _first(vague, 1), "vague")
        return Partial(0.0, [], "none")
    changes = sorted(guard | set(read))
    fraction = {1: 0.35, 2: 0.55}.get(k, 0.65)
    evidence = _first([*(v[0] for v in kinds.values()), *read], 3)
    owners = doc.sents("owner") or [i for i in changes if _OWNER_TAG.search(doc.sentence(i))]
    timing = doc.sents("timing") or [i for i in changes if _WHEN_TAG.search(doc.sentence(i))]
    hint = "more" if k == 1 else None
    if owners:
        fraction += 0.15
        evidence.append(owners[0])
    else:
        hint = hint or "owner"
    if timing:
        fraction += 0.1
        evidence.append(timing[0])
    else:
        hint = hint or "timing"
    if any(_DIGIT.search(doc.sentence(i)) for i in changes):
        fraction += 0.1  # a threshold or a count makes the guardrail concrete
    fraction = min(fraction, 1.0)
    if fraction >= 1:
        hint = None
    elif hint is None:
        hint = "more"
    return Partial(round(fraction, 2), _first(evidence, 4), hint)


# ---------------------------------------------------------------- measurement

_MEASURE = (
    ("before_after", "before_after", 0.35),
    ("caught_since", "caught_since", 0.3),
    ("reflection", "reflection", 0.25),
    ("verification", "before_after", 0.1),
)


_EVIDENCE_HEAD = re.compile(
    r"\W*(?:proof|evidence|results?|outcome|how\s+(?:we|i)\s+know(?:\s+it\s+worked)?|did\s+it\s+work\??)\s*[:\-\u2013\u2014]",
    re.I,
)


def measurement(doc: Doc) -> Partial:
    fraction, evidence, hint = _checklist(doc, _MEASURE)
    measured = [i for i in doc.read("measurement") if doc.concrete(i) and not _negative_reading(doc, i)]
    # a line headed as the evidence ("Proof: in March the alert fired at 510M…", "How we know: …")
    measured += [
        i for i, (s, e) in enumerate(doc.spans)
        if i not in measured and _EVIDENCE_HEAD.match(doc.text, s, e) and doc.names_something(i)
    ]
    reflected = [i for i in doc.read("reflection") if not _negative_reading(doc, i)]
    read_fraction = min(len(measured), 2) * 0.35 + (0.25 if reflected else 0.0)
    if read_fraction > fraction:
        fraction = read_fraction
        evidence = _first([*measured, *reflected[:1], *evidence], 4)
        if hint == "reflection" and reflected:
            hint = None
        if hint in ("before_after", "caught_since") and measured:
            hint = "reflection" if not reflected else None
    if fraction >= 0.999:
        fraction, hint = 1.0, None
    if fraction == 0:
        hint = "none"
    return Partial(round(fraction, 2), _first(evidence, 4), hint)


# ---------------------------------------------------------------- altitude

# Characters without which a whitespace-separated token cannot hold a code-like match below.
_HINTED_TOKEN = re.compile(r"(?<!\S)\S*?(?:[_/{}<>=]|[a-z][A-Z]|0x[0-9a-fA-F]|\d\.\d+\.\d)\S*")
_CODEISH = re.compile(
    r"\b[a-z]+[A-Z]\w*\b|\b\w+_\w+\b|\b0x[0-9a-fA-F]+\b|(?<!\w)/[\w.-]+/[\w./-]+|\bv?\d+\.\d+\.\d+\b|[{}<>=]{1,2}"
)


def _code_sentences(doc: Doc) -> dict[int, int]:
    """{sentence: code-like tokens in it} (camelCase, snake_case, paths, versions, operators).

    Every such match lies inside one whitespace-free token holding what that kind of match must hold
    (an underscore, a slash, an operator, a lower-then-upper case change, "0x", or "1.2.3"), so only
    those tokens are searched: plain words, capitalised names and clock times never are.
    """
    text = doc.text
    out: dict[int, int] = {}
    for token in _HINTED_TOKEN.finditer(text):
        for m in _CODEISH.finditer(text, token.start(), token.end()):
            si = doc.sentence_of(m.start())
            out[si] = out.get(si, 0) + 1
    return out


def altitude(doc: Doc) -> Partial:
    words = doc.word_count
    if words == 0:
        return Partial(0.0, [], "too_short")
    code = _code_sentences(doc)
    jargon = len(doc.hits("jargon")) + sum(code.values())
    density = jargon / words
    vague = len(doc.hits("vague")) / words * 100
    specific = len(_DIGIT.findall(doc.text)) / words * 100
    if words < 30:
        fraction, hint = 0.2, "too_short"
    elif words < 60:
        fraction, hint = 0.6, "too_short"
    elif words <= 500:
        fraction, hint = 1.0, None
    elif words <= 800:
        fraction, hint = 0.7, "too_long"
    else:
        fraction, hint = 0.45, "too_long"
    if density > 0.15:
        fraction -= 0.5
        hint = "jargon"
    elif density > 0.08:
        fraction -= 0.25
        hint = "jargon"
    if vague > 3 and specific < 1:
        fraction -= 0.4
        hint = "vague"
    fraction = max(fraction, 0.0)
    # Evidence: the plainest concrete sentences, the ones an outsider could follow.
    plain = []
    for i, (s, e) in enumerate(doc.spans):
        text = doc.text[s:e]
        n = len(text.split())
        if 6 <= n <= 40 and i not in code and not doc.has("jargon", i):
            plain.append((0 if _DIGIT.search(text) else 1, i))
    evidence = [i for _, i in sorted(plain)[:2]] or ([0] if doc.spans else [])
    if fraction >= 1:
        hint = None
    return Partial(round(fraction, 2), sorted(evidence), hint or ("vague" if fraction < 1 else None))


# ---------------------------------------------------------------- blameless


def blameless(doc: Doc, round_id: str, blame: bool, shrug: bool) -> Partial:
    if blame:
        return Partial(0.0, [], "blame")
    # a cause the reader leans towards (0.4) counts as a gap here: the blame check has already run
    read_gaps = [
        i
        for i in range(len(doc.spans))
        if doc.p("cause", i) >= 0.4 and doc.concrete(i) and not _negative_reading(doc, i)
    ]
    gaps = _union(doc.sents("system_gap"), read_gaps)
    stance = doc.sents("blameless_stance")
    push = _union(doc.sents("pushback"), doc.read("blame_rejected"))
    exec_ = doc.sents("exec_framing")
    causes = doc.sents("cause")
    if shrug:
        shrugs = doc.sents("blameless_shrug") or doc.read("shrug")
        return Partial(0.2, _first(shrugs, 1), "to_a_fault")
    g = min(len(gaps), 2)
    evidence = gaps[:2]
    hint = None
    if round_id == "curveball":
        fraction = (0.0, 0.45, 0.65)[g]
        if push:
            fraction += 0.15
            evidence.append(push[0])
        if exec_:
            fraction += 0.1
            evidence.append(exec_[0])
        if not push:
            hint = "no_pushback"
        elif not exec_:
            hint = "no_exec"
    else:
        fraction = (0.0, 0.7, 0.9)[g]
    if stance:
        fraction += 0.1
        evidence.append(stance[0])
    if g == 0:
        if causes:
            fraction += 0.35 if round_id == "curveball" else 0.5
            evidence.append(causes[0])
        hint = "no_gap"
    elif g == 1:
        hint = hint or "one_gap"
    fraction = min(fraction, 1.0)
    if fraction >= 1:
        hint = None
    elif hint is None:
        hint = "one_gap"
    return Partial(round(fraction, 2), _first(evidence, 4), hint)
