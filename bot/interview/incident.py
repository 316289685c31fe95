"""The person's own incident, carried through the rounds: facts read from their opening (the service,
the change, the impact) and from any answer (the table and column of a schema change), and the round
prompts told through them. Every fact is the person's own words; a fact not found is left out, and a
prompt whose slots are not all known falls back to the built-in wording."""

from __future__ import annotations

import re
import string

from bot.content import Round
from bot.interview.followups import pick_sentence, trim_quote
from bot.rubric.types import Grade

_SKIP = {"the", "a", "an", "our", "my", "their", "whole", "entire", "same", "new", "own", "this", "that",
         "one", "main", "production", "prod", "live", "busy", "big", "huge", "large", "existing", "other"}
_SERVICE = re.compile(
    r"\b(?:our|the|my)\s+((?:[A-Za-z][\w-]{0,40}\s+){1,2}?(?:API|service|platform|database|cluster|app|"
    r"application|website|site|backend|gateway|queue|pipeline|endpoint|system))\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(?:a|an|the|our|my)\s+((?:[A-Za-z][\w-]{0,40}\s+){0,2}?(?:deploy|deployment|migration|"
    r"config(?:uration)?\s+change|release|rollout|schema\s+change|feature\s+flag|code\s+change))\b",
    re.IGNORECASE,
)
_SQL_TABLE = re.compile(
    r"\b(?:ALTER\s+TABLE|UPDATE|INSERT\s+INTO|CREATE\s+INDEX\s+\w*\s*ON)\s+(?:IF\s+EXISTS\s+|ONLY\s+)?"
    r"[\"`]?([A-Za-z_]\w{0,62})", re.IGNORECASE)
_WORD_TABLE = re.compile(r"(?<![\w`])`?([A-Za-z_]\w{0,62})`?\s+table\b", re.IGNORECASE)
_SQL_COLUMN = re.compile(r"\bADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`]?([A-Za-z_]\w{0,62})",
                         re.IGNORECASE)
_WORD_COLUMN = re.compile(r"(?<![\w`])`?([A-Za-z_]\w{0,62})`?\s+column\b|"
                          r"\bcolumn\s+(?:called\s+|named\s+)?`([A-Za-z_]\w{0,62})`", re.IGNORECASE)
# Facts are told early in an answer; a 40,000-character paste is read no further than this.
READ_LIMIT = 20_000
_NOT_NAMES = _SKIP | {"required", "nullable", "not", "null", "extra", "text", "integer", "int", "boolean",
                      "uuid", "varchar", "column", "table", "add", "a", "to", "of", "each", "every", "that"}


def _name(candidate: str | None) -> str | None:
    if candidate and candidate.lower() not in _NOT_NAMES and not candidate.isdigit():
        return candidate
    return None


def schema_names(text: str) -> dict[str, str]:
    """The table and column of a schema change the answer named, as written (SQL first, then words)."""
    out: dict[str, str] = {}
    for m in _SQL_TABLE.finditer(text):
        if (name := _name(m.group(1))):
            out["table"] = name
            break
    if "table" not in out:
        for m in _WORD_TABLE.finditer(text):
            if (name := _name(m.group(1))):
                out["table"] = name
                break
    for m in _SQL_COLUMN.finditer(text):
        if (name := _name(m.group(1))):
            out["column"] = name
            break
    if "column" not in out:
        for m in _WORD_COLUMN.finditer(text):
            if (name := _name(m.group(1) or m.group(2))):
                out["column"] = name
                break
    return out


def _phrase(pattern: re.Pattern, text: str, article: str = "") -> str | None:
    for m in pattern.finditer(text):
        words = m.group(1).split()
        if words and words[0].lower() not in _SKIP:
            return article + " ".join(words)
        if len(words) > 1 and words[0].lower() in _SKIP and pattern is _CHANGE:
            return article + " ".join(words[1:])
    return None


def read_facts(text: str, grade: Grade, round_id: str) -> dict[str, str]:
    """Facts of the incident this answer gives: the opening tells the story, any answer may name the
    table and column of its schema change."""
    facts: dict[str, str] = {}
    text = text[:READ_LIMIT]
    if round_id == "opening":
        service = _phrase(_SERVICE, text)
        if service:
            facts["service"] = service
        change = _phrase(_CHANGE, text, article="the ")
        if change:
            facts["change"] = change
        impact = pick_sentence(grade, text, "impact")
        if impact:
            facts["impact"] = trim_quote(impact, "impact", limit=90).strip("… ").rstrip(".,;:")
    facts.update(schema_names(text))
    return facts


def merge(known: dict | None, new: dict[str, str], round_id: str) -> dict:
    """The opening's facts stand once told (a retry of the opening retells them); table and column take
    the newest naming, since the SQL trap follows the probe that named them."""
    out = dict(known or {})
    for key, value in new.items():
        if key in ("table", "column") or round_id == "opening" or key not in out:
            out[key] = value
    return out


def own_prompt(rnd: Round, facts: dict | None) -> str | None:
    """The round's prompt told through the person's incident, or None when no template's slots are known."""
    if not facts or not rnd.prompt_own:
        return None
    for template in rnd.prompt_own:
        slots = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        if all(facts.get(s) for s in slots):
            return template.format(**{s: facts[s] for s in slots})
    return None
