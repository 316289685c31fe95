"""The rubric settings (content/rubric.yml): validation and a compiled, cached form for the grader."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .scan import LexiconIndex
from .types import DIMENSIONS, FLAGS, LEVELS, VERDICTS

# bot/_content links to the repository's content/ and is a real directory inside an installed wheel.
RUBRIC_FILE = Path(__file__).resolve().parents[1] / "_content" / "rubric.yml"

DIMENSION_KEYS = DIMENSIONS

# The hint keys each dimension's detector may ask for; the file must word every one of them.
REQUIRED_HINTS = {
    "blameless": ("blame", "to_a_fault", "no_gap", "no_pushback", "no_exec", "one_gap"),
    "timeline": ("none", "few", "bare"),
    "mitigation_fix_prevention": ("conflated", "mitigation", "fix", "prevention"),
    "detection": ("none", "customer", "self", "vague"),
    "impact": ("none", "few", "severity"),
    "ownership": ("none", "we_only", "helped", "no_role", "no_credit", "hero", "senior_cross_team"),
    "diagnosis": ("none", "no_wrong_turn", "no_evidence", "chain"),
    "communication": ("none", "cadence", "channel", "audience", "roles", "structure", "senior_cross_team"),
    "prevention": ("none", "vague", "owner", "timing", "more"),
    "measurement": ("none", "before_after", "caught_since", "reflection"),
    "altitude": ("too_short", "vague", "jargon", "too_long"),
    "migration_safety": ("none", "unsafe", "prose"),
}

REQUIRED_LEXICONS = (
    "time_marker",
    "event_verb",
    "incident",
    "incident_core",
    "incident_followup",
    "detect_source",
    "detect_verb",
    "detect_customer",
    "detect_self",
    "before_customers",
    "quantity",
    "impact_context",
    "severity",
    "mitigation",
    "restored",
    "fix",
    "prevention_word",
    "fix_word",
    "i_action",
    "i_weak",
    "role",
    "others",
    "hero",
    "bystanders",
    "hero_solo",
    "sidelined",
    "we",
    "cross_team",
    "org_change",
    "hypothesis",
    "wrong_turn",
    "diag_evidence",
    "cadence",
    "channel",
    "audience",
    "comms_roles",
    "comms_structure",
    "comms_focus",
    "prevention_intent",
    "guardrail_negated",
    "owner",
    "timing",
    "vague_prevention",
    "before_after",
    "caught_since",
    "reflection",
    "verification",
    "system_gap",
    "blameless_stance",
    "pushback",
    "exec_framing",
    "cause",
    "blameless_shrug",
    "blame_strong",
    "blame_endorse",
    "blame_weak",
    "personnel_action",
    "meta_terms",
    "blame_causal",
    "factor_change",
    "factor_test",
    "factor_process",
    "factor_monitoring",
    "causal",
    "chain",
    "no_change_needed",
    "who_cause",
    "third_party",
    "judge_character",
    "judge_frequency",
    "judge_motive",
    "judge_competence",
    "judge_act",
    "judge_sarcasm",
    "judge_who",
    "damage",
    "blame_target",
    "blame_pronoun",
    "accusation_reported",
    "rejection",
    "self_actor",
    "negation",
    "reported_speech",
    "concrete",
    "jargon",
    "generic_words",
    "vague",
    "sql_hint",
    "expand_contract",
)
# matched against one clause or sentence, never scanned over the whole answer
CLAUSE_ONLY = ("event_verb", "who_cause", "blame_target")
REQUIRED_CAPS = ("gaming", "too_short", "off_topic", "staff_without_org_change")
REQUIRED_THRESHOLDS = (
    "too_short_words",
    "too_short_terse_words",
    "too_short_terse_specifics",
    "off_topic_min_hits",
    "gaming_function_word_ratio",
    "gaming_keyword_density",
    "gaming_repeat_share",
    "gaming_list_fragment_share",
    "gaming_meta_density",
    "gaming_restate_sentences",
    "gaming_restate_specific_share",
    "gaming_restate_rubric_share",
    "gaming_restate_density",
)
BANDED_VERDICTS = VERDICTS[:-1]  # the last verdict is what falls below every band
_FRAGMENT_REF = re.compile(r"@([A-Z_]+)@")
_UPPER_LITERAL = re.compile(r"(?<![\\@A-Z_])[A-Z](?![A-Z_]*@)")


def _expand(fragment: str, fragments: dict[str, str]) -> str:
    return _FRAGMENT_REF.sub(lambda m: fragments.get(m.group(1), m.group(0)), fragment)


def _wrap(fragments: list[str]) -> str:
    # Lookarounds instead of \b so entries may start or end with symbols (#channel, 5%, $).
    return r"(?<![\w])(?:" + "|".join(f"(?:{f})" for f in fragments) + r")(?![\w])"


def _check_regex(path: tuple, fragment: Any, fragments: dict, problems: list) -> None:
    if not isinstance(fragment, str) or not fragment.strip():
        problems.append((path, "expected a non-empty pattern string"))
        return
    expanded = _expand(fragment, fragments)
    if _FRAGMENT_REF.search(expanded):
        problems.append((path, f"unknown fragment {_FRAGMENT_REF.search(expanded).group(0)}"))
        return
    try:
        re.compile(expanded)
    except re.error as exc:
        problems.append((path, f"invalid pattern: {exc}"))


def validate_rubric_data(data: Any) -> list[tuple[tuple, str]]:
    """Every problem in a rubric mapping, as (key path, problem) pairs; empty when it is usable."""
    if not isinstance(data, dict):
        return [((), "expected a mapping of rubric settings")]
    problems: list[tuple[tuple, str]] = []

    fragments = data.get("fragments", {})
    if not isinstance(fragments, dict) or not all(isinstance(v, str) for v in fragments.values()):
        problems.append((("fragments",), "expected a mapping of fragment name to pattern string"))
        fragments = {}

    dims = data.get("dimensions")
    if not isinstance(dims, dict):
        problems.append((("dimensions",), "expected a mapping of dimension key to settings"))
        dims = {}
    for key in dims:
        if key not in DIMENSION_KEYS:
            problems.append((("dimensions", key), f"unknown dimension; known: {', '.join(DIMENSION_KEYS)}"))
    for key, hint_keys in REQUIRED_HINTS.items():
        if dims and key not in dims:
            problems.append((("dimensions",), f"missing dimension {key!r}"))
            continue
        spec = dims.get(key)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            problems.append((("dimensions", key), "expected a mapping with 'label' and 'hints'"))
            continue
        if not isinstance(spec.get("label"), str) or not spec.get("label", "").strip():
            problems.append((("dimensions", key, "label"), "expected a non-empty label"))
        hints = spec.get("hints")
        if not isinstance(hints, dict):
            problems.append((("dimensions", key, "hints"), "expected a mapping of hint key to text"))
            continue
        for hk in hint_keys:
            if not isinstance(hints.get(hk), str) or not hints[hk].strip():
                problems.append((("dimensions", key, "hints", hk), "missing hint text"))

    lex = data.get("lexicons")
    if not isinstance(lex, dict):
        problems.append((("lexicons",), "expected a mapping of lexicon name to a list of patterns"))
        lex = {}
    for name in REQUIRED_LEXICONS:
        if name not in lex:
            problems.append((("lexicons",), f"missing lexicon {name!r}"))
    for name, entries in lex.items():
        if not isinstance(entries, list) or not entries:
            problems.append((("lexicons", name), "expected a non-empty list of patterns"))
            continue
        for i, entry in enumerate(entries):
            _check_regex(("lexicons", name, i), entry, fragments, problems)
            if isinstance(entry, str) and _UPPER_LITERAL.search(entry):
                # the grader matches lexicons against lower-cased text
                problems.append((("lexicons", name, i), "write lexicon patterns in lower case"))

    guards = data.get("guardrails")
    if not isinstance(guards, dict) or not guards:
        problems.append((("guardrails",), "expected a mapping of guardrail kind to pattern"))
    else:
        for kind, pattern in guards.items():
            _check_regex(("guardrails", kind), pattern, fragments, problems)

    flags = data.get("flags")
    if not isinstance(flags, dict):
        problems.append((("flags",), "expected a mapping of flag name to message"))
        flags = {}
    for name in flags:
        if name not in FLAGS:
            problems.append((("flags", name), f"unknown flag; known: {', '.join(FLAGS)}"))
    for name in FLAGS:
        if not isinstance(flags.get(name), str) or not flags.get(name, "").strip():
            problems.append((("flags", name), "missing message"))

    rewrites = data.get("rewrites")
    topics = data.get("rewrite_topics", {})
    if not isinstance(rewrites, dict) or not isinstance(rewrites.get("default"), str):
        problems.append((("rewrites",), "expected a mapping of topic to rewrite, with a 'default'"))
    if not isinstance(topics, dict):
        problems.append((("rewrite_topics",), "expected a mapping of topic to pattern"))
    else:
        for topic, pattern in topics.items():
            _check_regex(("rewrite_topics", topic), pattern, fragments, problems)
            if isinstance(rewrites, dict) and topic not in rewrites:
                problems.append((("rewrite_topics", topic), "no rewrite for this topic under 'rewrites'"))

    for section, required in (("caps", REQUIRED_CAPS), ("thresholds", REQUIRED_THRESHOLDS)):
        values = data.get(section)
        if not isinstance(values, dict):
            problems.append(((section,), "expected a mapping of name to number"))
            continue
        for name in required:
            v = values.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                problems.append(((section, name), "expected a non-negative number"))
        for name, v in values.items():
            if section == "caps" and isinstance(v, (int, float)) and v > 100:
                problems.append(((section, name), "a cap is a score out of 100"))

    levels = data.get("levels")
    if not isinstance(levels, dict):
        problems.append((("levels",), f"expected a mapping with {', '.join(LEVELS)}"))
        levels = {}
    for name in levels:
        if name not in LEVELS:
            problems.append((("levels", name), f"unknown level; known: {', '.join(LEVELS)}"))
    for name in LEVELS:
        spec = levels.get(name)
        if not isinstance(spec, dict):
            problems.append((("levels", name), "missing level settings"))
            continue
        bands = spec.get("bands")
        if not isinstance(bands, dict):
            problems.append((("levels", name, "bands"), f"expected minimum scores for {BANDED_VERDICTS}"))
            continue
        previous = 101
        for verdict in BANDED_VERDICTS:
            v = bands.get(verdict)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                problems.append((("levels", name, "bands", verdict), "expected an integer 0..100"))
                continue
            if v >= previous:
                problems.append((("levels", name, "bands", verdict), "bands must strictly decrease"))
            previous = v
        for verdict in bands:
            if verdict not in BANDED_VERDICTS:
                problems.append(
                    (("levels", name, "bands", verdict), f"unknown verdict; banded: {BANDED_VERDICTS}")
                )
        for key in ("cross_team_rounds", "org_change_rounds"):
            rounds = spec.get(key, [])
            if not isinstance(rounds, list) or not all(isinstance(r, str) for r in rounds):
                problems.append((("levels", name, key), "expected a list of round ids"))
    return problems


@dataclass(frozen=True)
class Rubric:
    """rubric.yml compiled once: one regex per lexicon and per guardrail kind."""

    labels: dict[str, str]
    hints: dict[str, dict[str, str]]
    lex: Mapping[str, re.Pattern]  # case-insensitive, for the few texts whose lower-casing changes length
    guardrails: Mapping[str, re.Pattern]
    lex_lower: Mapping[str, re.Pattern]  # case-sensitive twins run on lower-cased text: about twice as fast
    guardrails_lower: Mapping[str, re.Pattern]
    flag_messages: dict[str, str]
    rewrites: dict[str, str]
    rewrite_topics: dict[str, re.Pattern]
    caps: dict[str, float]
    thresholds: dict[str, float]
    levels: dict[str, dict]
    index: LexiconIndex  # every scanned lexicon and guardrail ("gr:KIND"), found in one pass

    def hint(self, dim: str, key: str) -> str:
        return self.hints[dim][key]


class _LazyPatterns(Mapping[str, re.Pattern]):
    """Lexicon patterns compiled on first use: most answers need only a few of these twins (the one-pass
    index does the scanning), and compiling all of them made every `gauntlet grade` start slower."""

    def __init__(self, sources: dict[str, str], flags: int) -> None:
        self._sources = sources
        self._flags = flags
        self._compiled: dict[str, re.Pattern] = {}

    def __getitem__(self, name: str) -> re.Pattern:
        got = self._compiled.get(name)
        if got is None:
            got = self._compiled[name] = re.compile(self._sources[name], self._flags)
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


class RubricError(ValueError):
    """rubric.yml is malformed; the message lists every problem."""


def compile_rubric(data: dict) -> Rubric:
    problems = validate_rubric_data(data)
    if problems:
        listed = "; ".join(f"{'.'.join(map(str, p)) or '<root>'}: {msg}" for p, msg in problems)
        raise RubricError(f"invalid rubric settings: {listed}")
    fragments = data.get("fragments", {})
    flags = re.IGNORECASE

    def comp(entries: list[str], flags: int = flags) -> re.Pattern:
        return re.compile(_wrap([_expand(e, fragments) for e in entries]), flags)

    def lazy(groups: dict[str, list[str]], flags: int = flags) -> _LazyPatterns:
        return _LazyPatterns({k: _wrap([_expand(e, fragments) for e in v]) for k, v in groups.items()}, flags)

    sources = {
        name: _wrap([_expand(e, fragments) for e in entries]) for name, entries in data["lexicons"].items()
    }
    sources.update({"gr:" + k: _wrap([_expand(v, fragments)]) for k, v in data["guardrails"].items()})
    # event_verb is only ever searched inside a clause, never scanned over the answer
    scanned = {name: re.compile(src) for name, src in sources.items() if name not in CLAUSE_ONLY}
    return Rubric(
        index=LexiconIndex(scanned, sources),
        labels={k: v["label"] for k, v in data["dimensions"].items()},
        hints={k: dict(v["hints"]) for k, v in data["dimensions"].items()},
        lex=lazy(data["lexicons"]),
        guardrails=lazy({k: [v] for k, v in data["guardrails"].items()}),
        lex_lower=lazy(data["lexicons"], 0),
        guardrails_lower=lazy({k: [v] for k, v in data["guardrails"].items()}, 0),
        flag_messages=dict(data["flags"]),
        rewrites=dict(data["rewrites"]),
        rewrite_topics={k: comp([v]) for k, v in data.get("rewrite_topics", {}).items()},
        caps={k: float(v) for k, v in data["caps"].items()},
        thresholds={k: float(v) for k, v in data["thresholds"].items()},
        levels={k: dict(v) for k, v in data["levels"].items()},
    )


@functools.cache
def builtin_rubric_data() -> dict:
    with RUBRIC_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


_compiled: dict[int, tuple[dict, Rubric]] = {}


def rubric_from(data: dict | None) -> Rubric:
    """The compiled rubric for a parsed mapping (cached by identity: content objects are loaded once)."""
    if not data:
        data = builtin_rubric_data()
    hit = _compiled.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1]
    rubric = compile_rubric(data)
    if len(_compiled) > 32:  # a handful of team content sets at most; keep it bounded anyway
        _compiled.clear()
    _compiled[id(data)] = (data, rubric)
    return rubric
