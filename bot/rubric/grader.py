"""grade(): one answer to one round → a Grade with scores, quoted evidence, hints, flags and signals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from . import blame as bl
from . import dimensions as dims
from . import flags as fl
from . import orm
from .config import DIMENSION_KEYS, Rubric, rubric_from
from .reader import LABELS as READER_LABELS
from .sql import analyse_sql, extract_sql, mentions_schema_change
from .text import Doc
from .types import LEVELS, VERDICTS, DimensionResult, FlagDetail, Grade


def _content(content: Any) -> Any:
    # The rubric is handed its content (the loader sits above it and imports the rubric's validator);
    # callers with none at hand use bot.interview.grading, which passes the default content.
    if content is None:
        raise TypeError("the rubric grades against the content it is handed: pass content= "
                        "(bot.interview.grading passes bot.content.default_content())")
    return content


def _weights(content: Any, round_id: str) -> dict[str, int]:
    rounds = getattr(content, "rounds", None) or {}
    if round_id not in rounds:
        known = ", ".join(sorted(rounds)) or "(none loaded)"
        raise ValueError(f"unknown round {round_id!r}; valid rounds: {known}")
    weighs = getattr(rounds[round_id], "weighs", None) or {}
    return {k: int(v) for k, v in weighs.items() if k in DIMENSION_KEYS and int(v) > 0}


def verdict_for(score: int, level: str, rubric: Rubric | None = None) -> str:
    """The hiring verdict for a score out of 100 read against `level`."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; valid levels: {', '.join(LEVELS)}")
    bands = (rubric or rubric_from(None)).levels[level]["bands"]
    for verdict in VERDICTS[:-1]:
        if score >= bands[verdict]:
            return verdict
    return VERDICTS[-1]


def _flag(
    rubric: Rubric, name: str, extra: str = "", sentence: str | None = None, rewrite: str | None = None
):
    message = rubric.flag_messages[name] + (f" ({extra})" if extra else "")
    return FlagDetail(name=name, message=message, sentence=sentence, rewrite=rewrite)


def _scale(results: list[DimensionResult], cap: int, reason: str) -> list[DimensionResult]:
    """Scale dimension scores down so they sum to at most `cap`, keeping the round score their sum."""
    total = sum(d.score for d in results)
    if total <= cap:
        return results
    ratio = cap / total
    out = []
    for d in results:
        score = int(d.score * ratio)
        hint = d.hint if score == d.max else (d.hint or reason)
        out.append(DimensionResult(d.key, d.label, score, d.max, d.evidence, hint))
    return out


def grade(
    text: str,
    round_id: str,
    level: str = "mid",
    *,
    content: Any,
    id: str | None = None,
    followup: bool = False,
) -> Grade:
    """Grade one answer to one round, read against a level; pure and deterministic.

    `followup`: the text replies to a follow-up question inside the round. A reply is meant to be
    short and to answer one thing, so it is never too short or off topic; `merge_followup` then keeps
    the best of it and the round's answer per dimension."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; valid levels: {', '.join(LEVELS)}")
    content = _content(content)
    weights = _weights(content, round_id)
    rubric = rubric_from(getattr(content, "rubric", None))
    text = text if isinstance(text, str) else str(text or "")
    doc = Doc(text, rubric)
    level_spec = rubric.levels[level]
    cross_team_needed = round_id in level_spec.get("cross_team_rounds", [])

    flag_details: list[FlagDetail] = []
    signals: list[str] = []

    # SQL analysis is the slow part (squawk runs as a process): only when the round or the text needs it.
    analysis = None
    if "migration_safety" in weights or doc.hits("sql_hint") or orm.has_orm_code(text):
        analysis = analyse_sql(proposed_sql(doc, round_id))

    # code (SQL statements or an ORM migration) is an answer in itself: never keyword stuffing, never
    # off topic, and its statements count as the specifics a terse answer needs
    has_code = (analysis is not None and analysis.has_sql) or orm.has_orm_code(text)
    blame = bl.find_blame(doc)
    guard_kinds = dims.guardrail_sentences(doc)
    shrug = blame is None and fl.is_shrug(doc, len(guard_kinds))
    others = dims.named_others(doc)
    hero = dims.hero_sentences(doc, others)
    rem = dims.remedies(doc)

    partials: dict[str, dims.Partial] = {}
    for key in weights:
        if key == "blameless":
            partials[key] = dims.blameless(doc, round_id, blame is not None, shrug)
        elif key == "timeline":
            partials[key] = dims.timeline(doc)
        elif key == "mitigation_fix_prevention":
            partials[key] = dims.mitigation_fix_prevention(doc, rem)
        elif key == "detection":
            partials[key] = dims.detection(doc)
        elif key == "impact":
            partials[key] = dims.impact(doc)
        elif key == "ownership":
            partials[key] = dims.ownership(doc, level, others, hero, cross_team_needed)
        elif key == "diagnosis":
            partials[key] = dims.diagnosis(doc, round_id)
        elif key == "communication":
            partials[key] = dims.communication(doc, cross_team_needed)
        elif key == "prevention":
            partials[key] = dims.prevention(doc)
        elif key == "measurement":
            partials[key] = dims.measurement(doc)
        elif key == "altitude":
            partials[key] = dims.altitude(doc)
        elif key == "migration_safety":
            partials[key] = _migration(doc, analysis)

    results: list[DimensionResult] = []
    for key, weight in weights.items():
        p = partials[key]
        spans = [s for s in p.spans if s and s in text]
        spans += [doc.quote(i) for i in p.evidence if 0 <= i < len(doc.spans)]
        evidence = list(dict.fromkeys(s for s in spans if s))
        score = round(max(0.0, min(1.0, p.fraction)) * weight) if evidence else 0
        hint = ""
        if score < weight:
            hint_key = p.hint or "none"
            hints = rubric.hints[key]
            hint = p.hint_text or hints.get(hint_key) or next(iter(hints.values()))
        results.append(DimensionResult(key, rubric.labels[key], score, weight, evidence, hint))

    # ----- flags
    if blame is not None:
        flag_details.append(
            _flag(
                rubric,
                "blame",
                sentence=doc.quote(blame.sentence, blame.position),
                rewrite=bl.blame_rewrite(doc, blame),
            )
        )
    if shrug:
        flag_details.append(
            _flag(
                rubric,
                "blameless_to_a_fault",
                sentence=doc.quote((doc.sents("blameless_shrug") or doc.read("shrug"))[0]),
            )
        )
    if hero:
        flag_details.append(_flag(rubric, "hero", sentence=doc.quote(hero[0])))
    remedy_round = "mitigation_fix_prevention" in weights or "prevention" in weights
    # Only where the round asks what changed (prevention weighs heavily) is a missing prevention a flag.
    # A story round (it weighs mitigation/fix/prevention) that ends at the restore or the fix.
    # The opening asks about the first hour, not what changed afterwards: no flag there.
    story = "mitigation_fix_prevention" in weights and "prevention" in weights
    on_story = doc.word_count >= rubric.thresholds["too_short_words"]
    # "nothing else needed to change, it was a one-off" declines prevention outright
    declined = bool(doc.hits("no_change_needed")) and not dims.guardrail_sentences(doc)
    if (
        story
        and on_story
        and (declined or (not rem.prevention and (rem.mitigation or rem.restored or rem.fix)))
    ):
        flag_details.append(_flag(rubric, "no_prevention"))
    if remedy_round and rem.conflated:
        flag_details.append(_flag(rubric, "conflated_fix"))
    if analysis is not None and analysis.unsafe:
        failure = next((f for f in analysis.findings if f.severity == "failure"), None)
        flag_details.append(
            _flag(
                rubric,
                "unsafe_sql",
                extra=failure.message if failure else "",
                sentence=_own_words(doc, failure.statement) if failure else None,
                rewrite=failure.hint if failure else None,
            )
        )
    game = fl.gaming(doc, has_code=has_code)
    if not game.gaming and round_id == "sql" and analysis is not None and analysis.recited and _listed(text):
        game = fl.GamingReport(True, ["the migration's steps named as a list, with nothing done to a table"])
    if game.gaming:
        flag_details.append(_flag(rubric, "gaming", extra="; ".join(game.reasons)))
    topic_off = not has_code and not followup and fl.off_topic(doc, round_id)
    if topic_off:
        flag_details.append(_flag(rubric, "off_topic"))
    short = not followup and fl.too_short(doc, has_code)
    if short:
        flag_details.append(_flag(rubric, "too_short", extra=f"{doc.word_count} words"))

    # ----- caps
    caps = rubric.caps
    names_so_far = {f.name for f in flag_details}
    for on, cap_key, reason in (
        ("blame" in names_so_far and "blame" in caps, "blame", rubric.flag_messages["blame"]),
        ("conflated_fix" in names_so_far and "conflated_fix" in caps, "conflated_fix",
         rubric.flag_messages["conflated_fix"]),
        # naming no cause fails the rounds that ask for the cause (the chain, the CTO's "human error")
        ("blameless_to_a_fault" in names_so_far and "blameless_to_a_fault" in caps
         and round_id in ("probe", "curveball"), "blameless_to_a_fault",
         rubric.flag_messages["blameless_to_a_fault"]),
        ("hero" in names_so_far and "hero" in caps, "hero", rubric.flag_messages["hero"]),
        (game.gaming, "gaming", rubric.flag_messages["gaming"]),
        (short, "too_short", rubric.flag_messages["too_short"]),
        (topic_off, "off_topic", rubric.flag_messages["off_topic"]),
    ):
        if on:
            results = _scale(results, int(caps[cap_key]), reason)
    org_rounds = level_spec.get("org_change_rounds", [])
    if round_id in org_rounds and not doc.hits("org_change"):
        results = _scale(results, int(caps["staff_without_org_change"]), level_spec["expectation"])

    # ----- signals
    if mentions_schema_change(text):
        signals.append("schema_change")
    if analysis is not None and analysis.has_sql:
        signals.append("has_sql")
    if doc.hits("expand_contract") or (
        analysis is not None
        and (analysis.prose_pattern or (analysis.has_sql and not analysis.unsafe and analysis.score >= 0.6))
    ):
        signals.append("expand_contract")
    if dims.detection(doc).fraction == 0:
        signals.append("no_detection")
    if (rem.mitigation or rem.restored) and not rem.fix and not rem.prevention:
        signals.append("restart_only")
    if hero:
        signals.append("solo_hero")

    score = max(0, min(100, sum(d.score for d in results)))
    names = [f.name for f in flag_details]
    verdict = verdict_for(score, level, rubric)
    if {"gaming", "off_topic", "too_short"} & set(names):
        verdict = VERDICTS[-1]
    g = Grade(
        round=round_id,
        level=level,
        score=score,
        dimensions=results,
        flags=names,
        flag_details=flag_details,
        summary="",
        verdict=verdict,
        signals=signals,
        id=id,
    )
    g.summary = _summary(g)
    return g


def proposed_sql(doc: Doc, round_id: str = "sql") -> str:
    """The answer with the statements it quotes as the incident's cause blanked out, and ORM migration
    calls written out as the SQL they run: what the candidate proposes is what gets linted.

    In the SQL round the candidate is asked for SQL, so a statement is taken as quoted only when the
    reader is clear about it; elsewhere SQL is usually the story's cause, so it is taken as quoted
    whenever the reader leans that way."""
    text = doc.text
    if round_id == "sql":
        # "Something like:" before a statement offers it, whatever the statement looks like
        quoted = [
            i
            for i in doc.read("sql_cause")
            if doc.p("sql_cause", i) >= 0.7
            and (doc.p("sql_proposed", i) < 0.35 or _introduced_as_cause(doc, i))
            and not (i and doc.p("sql_proposed", i - 1) >= 0.3)
        ]
    else:
        read = set(doc.read("sql_cause"))
        quoted = [
            i
            for i in range(len(doc.spans))
            if (i in read and doc.p("sql_cause", i) > doc.p("sql_proposed", i))
            or _introduced_as_cause(doc, i)
        ]
    if quoted:
        chars = list(text)
        for i in quoted:
            s, e = doc.spans[i]
            chars[s:e] = [c if c == "\n" else " " for c in chars[s:e]]
        blanked = "".join(chars)
        # asked what SQL they would run, an answer whose every statement read as quoted still offers
        # them: nothing is left to grade otherwise
        if round_id != "sql" or extract_sql(blanked) or orm.has_orm_code(blanked):
            text = blanked
    return orm.with_sql(_without_down_migrations(text))


def _introduced_as_cause(doc: Doc, i: int) -> bool:
    """The unit is code announced by the one before it as what caused the incident ("The migration
    that took us down was this:"), a reading of the pair the reader cannot make on the code alone."""
    if not i or not doc.text[doc.spans[i][0] : doc.spans[i][1]].lstrip().startswith("```"):
        return False
    intro = doc.text[doc.spans[i - 1][0] : doc.spans[i - 1][1]].rstrip()
    return intro.endswith(":") and doc.p("sql_cause", i - 1) >= 0.6 and doc.p("sql_proposed", i - 1) < 0.3



# Where a migration's rollback half starts and where the forward half (re)starts: migration tools'
# file names and markers (golang-migrate, goose, dbmate, Flyway undo, Rails/Alembic methods).
_DOWN_START = re.compile(
    r"^\s*(?:(?:--|#|//)\s*.*(?:\.down\.sql|\+goose\s+down|migrate:down|\bdown\s+migration|\brollback\b|"
    r"\bundo\b)|def\s+(?:down|downgrade)\b|down\s*\(|async\s+down\b|exports\.down\b)",
    re.I,
)
_UP_START = re.compile(
    r"^\s*(?:(?:--|#|//)\s*.*(?:\.up\.sql|\+goose\s+up|migrate:up|\bup\s+migration)|def\s+(?:up|upgrade|change)\b|"
    r"up\s*\(|async\s+up\b|exports\.up\b|```)",
    re.I,
)


_MAYBE_DOWN = re.compile(r"down|rollback|undo", re.I)


_LIST_ITEM = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+\S", re.M)


def _listed(text: str) -> bool:
    """The answer is mostly a list: three items or more."""
    return len(_LIST_ITEM.findall(text)) >= 3


def _without_down_migrations(text: str) -> str:
    """The text with each migration's rollback half blanked: a DROP COLUMN in a down file undoes the
    expand step, it is not a statement the candidate proposes to run against live traffic."""
    if not _MAYBE_DOWN.search(text):
        return text
    out: list[str] = []
    down = False
    for line in text.split("\n"):
        if _DOWN_START.match(line):
            down = True
        elif down and _UP_START.match(line):
            down = False
        out.append(" " * len(line) if down and not line.lstrip().startswith("```") else line)
    return "\n".join(out)


def _own_words(doc: Doc, statement: str | None) -> str | None:
    """A statement as the person wrote it: itself, or the ORM line it was translated from."""
    if not statement or statement in doc.text:
        return statement
    return orm.source_line(doc.text, statement)


def _migration(doc: Doc, analysis) -> dims.Partial:
    if analysis is None:
        return dims.Partial(0.0, [], "none")
    spans = [w for w in (_own_words(doc, s) for s in analysis.evidence) if w and w in doc.text]
    fallback = doc.sents("sql_hint") + doc.sents("expand_contract")
    p = dims.Partial(analysis.score, [] if spans else fallback[:2], None, spans)
    if analysis.score < 1:
        p.hint = "unsafe" if analysis.unsafe else ("prose" if not analysis.has_sql and spans else "none")
        p.hint_text = analysis.hint or None
        failure = next((f for f in analysis.findings if f.severity == "failure"), None)
        if failure and failure.statement not in doc.text:
            # a statement translated from an ORM call: quote the person's own line, never our SQL
            own = _own_words(doc, failure.statement)
            p.hint_text = (f"`{own[:100]}`: " if own else "") + f"{failure.message} {failure.hint}"
    return p


def _summary(g: Grade) -> str:
    strong, weak = g.strongest, g.weakest
    if strong is None or weak is None:
        return "Nothing in this round to grade."
    if g.flags and g.flags[0] in ("gaming", "off_topic", "too_short"):
        lead = f"Flagged {g.flags[0].replace('_', ' ')}. "
    else:
        lead = ""
    if strong.score == 0:
        return f"{lead}No dimension earned points yet; start with {weak.label.lower()}: {weak.hint}"
    if weak.fraction >= 1:
        return f"{lead}Full marks on every dimension; strongest: {strong.label.lower()}."
    return (
        f"{lead}Strongest: {strong.label.lower()} ({strong.score}/{strong.max}). "
        f"Weakest: {weak.label.lower()} ({weak.score}/{weak.max}): {weak.hint}"
    )


# Flags a follow-up reply can lift when it shows what was missing: the dimension it costs is repaired.
_REPAIRS = {
    "blame": "blameless",
    "blameless_to_a_fault": "blameless",
    "hero": "ownership",
    "no_prevention": "mitigation_fix_prevention",
    "conflated_fix": "mitigation_fix_prevention",
    "unsafe_sql": "migration_safety",
}


def merge_followup(main: Grade, reply: Grade, rubric: Rubric | None = None) -> Grade:
    """The round's result after a follow-up: per dimension the better of the answer and the reply
    (with that one's evidence and hint), so the reply can repair what the question asked about.
    A flag of the answer stays unless the reply repaired its dimension and does not raise it again;
    flags the reply raises count too. The summary says what the follow-up repaired."""
    by_key = {d.key: d for d in reply.dimensions}
    dims: list[DimensionResult] = []
    repaired: list[str] = []
    for d in main.dimensions:
        r = by_key.get(d.key)
        if r is not None and r.score > d.score:
            dims.append(r)
            repaired.append(f"{d.label} {d.score}→{r.score}/{d.max}")
        else:
            dims.append(d)
    improved = {d.key for d, m in zip(dims, main.dimensions, strict=True) if d.score > m.score}
    details = [
        f
        for f in main.flag_details
        if f.name in reply.flags or _REPAIRS.get(f.name) not in improved
    ]
    seen = {f.name for f in details}
    details += [
        f for f in reply.flag_details if f.name not in seen and f.name not in ("too_short", "off_topic")
    ]
    score = max(0, min(100, sum(d.score for d in dims)))
    names = [f.name for f in details]
    verdict = verdict_for(score, main.level, rubric)
    if {"gaming", "off_topic", "too_short"} & set(names):
        verdict = VERDICTS[-1]
        score = min(score, main.score)
    merged = Grade(
        round=main.round,
        level=main.level,
        score=score,
        dimensions=dims,
        flags=names,
        flag_details=details,
        summary="",
        verdict=verdict,
        signals=sorted(set(main.signals) & set(reply.signals)),
        id=reply.id,
    )
    merged.summary = _summary(merged)
    if repaired:
        merged.summary = "The follow-up repaired " + ", ".join(repaired) + ". " + merged.summary
    return merged


def read_sentences(text: str, label: str, *, content: Any) -> list[str]:
    """The sentences of `text` the sentence reader says do `label` (a `reader.LABELS` name), surest
    first, each verbatim from the answer (a bullet's marker dropped)."""
    if label not in READER_LABELS:
        raise ValueError(f"unknown reading {label!r}; known: {', '.join(READER_LABELS)}")
    content = _content(content)
    text = text if isinstance(text, str) else str(text or "")
    doc = Doc(text, rubric_from(getattr(content, "rubric", None)))
    return [doc.quote(i) for i in sorted(doc.read(label), key=lambda i: -doc.p(label, i))]


def grade_many(
    items: Iterable[tuple[str | None, str, str]], level: str = "mid", *, content: Any
) -> Iterator[Grade]:
    """Grade (id, round, text) items lazily, in order, against the one content handed in."""
    content = _content(content)
    for item_id, round_id, text in items:
        yield grade(text, round_id, level, content=content, id=item_id)
