"""Structural checks for each section of a content file.

Every check appends to an error list and carries on, so one run reports every problem. Checks that
need the whole merged content (round references, missing gauntlet keys) live in the loader.
"""

from __future__ import annotations

import difflib
import re
import string
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from bot.rubric.types import FLAGS, LEVELS

from .errors import ContentError
from .located import Document, KeyPath
from .model import CONDITIONS, DIMENSIONS, INCIDENT_SLOTS, QUOTE_SLOTS, SIGNALS, Probe, Prompt, Round

T = TypeVar("T")

ROUND_ID = re.compile(r"^[a-z][a-z0-9_]*$")
PROBE_ID = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
PROMPT_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

GAUNTLET_KEYS = ("id", "title", "order", "rounds")
ROUND_REQUIRED = ("title", "prompt", "tests", "weighs", "model_answer")
ROUND_OPTIONAL = ("reached_from", "level_notes", "prompt_own")
PROBE_REQUIRED = ("id", "after", "when", "ask", "why")
PROBE_OPTIONAL = ("goto", "ask_quoting")
PROMPT_REQUIRED = ("id", "variant", "text")


@dataclass
class Located(Generic[T]):
    """A value and where it was written; `value` is None when the entry itself was invalid."""

    value: T | None
    doc: Document
    path: KeyPath

    def error(self, problem: str, *, sub: KeyPath = ()) -> ContentError:
        return self.doc.error((*self.path, *sub), problem)


@dataclass
class GauntletPart:
    """What one file says about the gauntlet; every field may be absent in a team override."""

    doc: Document
    id: str | None = None
    title: str | None = None
    order: Located[tuple[str, ...]] | None = None
    rounds: dict[str, Located[Round]] = field(default_factory=dict)


def kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if value == [] or value == {}:
        return "an empty list" if isinstance(value, list) else "an empty mapping"
    if isinstance(value, bool):
        return "a boolean"
    names = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number"}
    return names.get(type(value), f"a {type(value).__name__}")


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if match:
        return f"did you mean {match[0]!r}?"
    return f"expected one of {', '.join(sorted(choices))}"


class Checker:
    """Validation helpers bound to one document and one shared error list."""

    def __init__(self, doc: Document, errors: list[ContentError]) -> None:
        self.doc = doc
        self.errors = errors

    def err(self, path: KeyPath, problem: str, *, at: KeyPath | None = None) -> None:
        self.errors.append(self.doc.error(path, problem, at=at))

    def mapping(
        self, value: Any, path: KeyPath, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
    ) -> dict | None:
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping, got {kind(value)}")
            return None
        allowed = required + optional
        for key in value:
            if allowed and key not in allowed:  # no keys named: the caller checks keys itself
                self.err((*path, key), f"unknown key {key!r}; {suggest(key, allowed)}")
        for key in required:
            if key not in value:
                self.err(path, f"missing required key {key!r}")
        return value

    def text(self, value: Any, path: KeyPath) -> str | None:
        if not isinstance(value, str):
            self.err(path, f"expected a string, got {kind(value)}")
            return None
        if not value.strip():
            self.err(path, "must not be empty")
            return None
        return value.strip()

    def ident(self, value: Any, path: KeyPath, pattern: re.Pattern, what: str) -> str | None:
        text = self.text(value, path)
        if text is not None and not pattern.match(text):
            self.err(path, f"{text!r} is not a valid {what}")
            return None
        return text

    def choice(self, value: Any, path: KeyPath, choices: tuple[str, ...], what: str) -> str | None:
        text = self.text(value, path)
        if text is not None and text not in choices:
            self.err(path, f"unknown {what} {text!r}; {suggest(text, choices)}")
            return None
        return text

    # --- gauntlet -------------------------------------------------------------------------------

    def gauntlet(self, value: Any) -> GauntletPart:
        part = GauntletPart(self.doc)
        path: KeyPath = ("gauntlet",)
        data = self.mapping(value, path, optional=GAUNTLET_KEYS)
        if data is None:
            return part
        if "id" in data:
            part.id = self.ident(data["id"], (*path, "id"), PROBE_ID, "gauntlet id")
        if "title" in data:
            part.title = self.text(data["title"], (*path, "title"))
        if "order" in data:
            part.order = self.order(data["order"], (*path, "order"))
        if "rounds" in data:
            rounds = self.mapping(data["rounds"], (*path, "rounds"))
            for round_id, body in (rounds or {}).items():
                round_path = (*path, "rounds", round_id)
                if not ROUND_ID.match(round_id):
                    self.err(round_path, f"{round_id!r} is not a valid round id (lowercase, digits, '_')")
                    continue
                part.rounds[round_id] = Located(self.round(round_id, body, round_path), self.doc, round_path)
        return part

    def order(self, value: Any, path: KeyPath) -> Located[tuple[str, ...]]:
        if not isinstance(value, list) or not value:
            self.err(path, f"expected a non-empty list of round ids, got {kind(value)}")
            return Located(None, self.doc, path)
        ids: list[str] = []
        ok = True
        for i, item in enumerate(value):
            round_id = self.text(item, (*path, i))
            if round_id is not None and round_id in ids:
                self.err((*path, i), f"round {round_id!r} appears twice in the order")
                round_id = None
            if round_id is None:
                ok = False
            else:
                ids.append(round_id)
        # A half-valid order is not used, so it cannot hide the order from the layer below.
        return Located(tuple(ids) if ok else None, self.doc, path)

    def round(self, round_id: str, value: Any, path: KeyPath) -> Round | None:
        data = self.mapping(value, path, ROUND_REQUIRED, ROUND_OPTIONAL)
        if data is None:
            return None
        texts = {
            key: self.text(data[key], (*path, key))
            for key in ROUND_REQUIRED
            if key != "weighs" and key in data
        }
        weighs = self.weighs(data["weighs"], (*path, "weighs")) if "weighs" in data else None
        reached_from = None
        if data.get("reached_from") is not None:
            reached_from = self.text(data["reached_from"], (*path, "reached_from"))
        notes = self.level_notes(data["level_notes"], (*path, "level_notes")) if "level_notes" in data else {}
        own: tuple[str, ...] | None = ()
        if "prompt_own" in data:
            own = self.prompt_own(data["prompt_own"], (*path, "prompt_own"))
        fields_ok = all(texts.get(k) is not None for k in ROUND_REQUIRED if k != "weighs")
        if not fields_ok or weighs is None or notes is None or own is None:
            return None
        if data.get("reached_from") is not None and reached_from is None:
            return None
        return Round(
            id=round_id,
            title=texts["title"],
            prompt=texts["prompt"],
            tests=texts["tests"],
            weighs=weighs,
            model_answer=texts["model_answer"],
            reached_from=reached_from,
            level_notes=notes,
            prompt_own=own,
        )

    def template(self, value: Any, path: KeyPath, slots: tuple[str, ...], what: str) -> str | None:
        """A text with {slot} fields, each one of `slots`; at least one slot (else it is a plain text)."""
        text = self.text(value, path)
        if text is None:
            return None
        try:
            parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            self.err(path, f"malformed template ({exc}); write a slot as {{name}}, a brace as {{{{ or }}}}")
            return None
        fields = [f for f, _, _ in parsed]
        if any(spec or conv for _, spec, conv in parsed):
            self.err(path, "a slot is just {name}, with no format spec or conversion")
            return None
        if not fields:
            self.err(path, f"has no slot; use one of {', '.join('{' + s + '}' for s in slots)}")
            return None
        ok = True
        for name in fields:
            if name not in slots:
                self.err(path, f"unknown {what} slot {{{name}}}; {suggest(name, slots)}")
                ok = False
        return text if ok else None

    def prompt_own(self, value: Any, path: KeyPath) -> tuple[str, ...] | None:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            self.err(path, f"expected a template or a non-empty list of templates, got {kind(value)}")
            return None
        sub = (lambda i: path) if isinstance(value, str) else (lambda i: (*path, i))
        out = [self.template(item, sub(i), INCIDENT_SLOTS, "incident") for i, item in enumerate(items)]
        return tuple(t for t in out if t is not None) if all(t is not None for t in out) else None

    def weighs(self, value: Any, path: KeyPath) -> dict[str, int] | None:
        data = self.mapping(value, path)
        if data is None:
            return None
        if not data:
            self.err(path, "must weigh at least one dimension")
            return None
        ok = True
        for key, weight in data.items():
            if key not in DIMENSIONS:
                self.err((*path, key), f"unknown dimension {key!r}; {suggest(key, DIMENSIONS)}")
                ok = False
            elif isinstance(weight, bool) or not isinstance(weight, int):
                self.err((*path, key), f"weight must be a whole number, got {kind(weight)}")
                ok = False
            elif weight < 0:
                self.err((*path, key), f"weight must not be negative, got {weight}")
                ok = False
        if not ok:
            return None
        total = sum(data.values())
        if total != 100:
            self.err(path, f"weights add up to {total}; they must add up to 100")
            return None
        return dict(data)

    def level_notes(self, value: Any, path: KeyPath) -> dict[str, str] | None:
        data = self.mapping(value, path, optional=LEVELS)
        if data is None:
            return None
        notes: dict[str, str] = {}
        for level, note in data.items():
            text = self.text(note, (*path, level)) if level in LEVELS else None
            if text is not None:
                notes[level] = text
        return notes if len(notes) == len(data) else None

    # --- probes ---------------------------------------------------------------------------------

    def probes(self, value: Any) -> list[Located[Probe]]:
        path: KeyPath = ("probes",)
        if not isinstance(value, list):
            self.err(path, f"expected a list of probes, got {kind(value)}")
            return []
        return [Located(self.probe(item, (*path, i)), self.doc, (*path, i)) for i, item in enumerate(value)]

    def probe(self, value: Any, path: KeyPath) -> Probe | None:
        data = self.mapping(value, path, PROBE_REQUIRED, PROBE_OPTIONAL)
        if data is None:
            return None
        probe_id = self.ident(data["id"], (*path, "id"), PROBE_ID, "probe id") if "id" in data else None
        after = self.after(data["after"], (*path, "after")) if "after" in data else None
        when_ok = self.condition(data["when"], (*path, "when")) if "when" in data else False
        ask = self.text(data["ask"], (*path, "ask")) if "ask" in data else None
        why = self.text(data["why"], (*path, "why")) if "why" in data else None
        quoting = None
        if "ask_quoting" in data:
            quoting = self.template(data["ask_quoting"], (*path, "ask_quoting"), QUOTE_SLOTS, "quote")
            if quoting is None:
                return None
        goto = None
        if data.get("goto") is not None:
            goto = self.text(data["goto"], (*path, "goto"))
            if goto is None:
                return None
        if probe_id is None or after is None or ask is None or why is None or not when_ok:
            return None
        return Probe(id=probe_id, after=after, when=data["when"], ask=ask, why=why, goto=goto,
                     ask_quoting=quoting)

    def after(self, value: Any, path: KeyPath) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            self.err(path, f"expected a non-empty list of round ids, e.g. [opening], got {kind(value)}")
            return None
        ids = [self.text(item, (*path, i)) for i, item in enumerate(value)]
        valid = tuple(i for i in ids if i is not None)
        return valid if len(valid) == len(ids) else None

    def condition(self, value: Any, path: KeyPath) -> bool:
        """Check one condition recursively; True when it is well formed."""
        if not isinstance(value, dict) or len(value) != 1:
            got = f"{len(value)} keys" if isinstance(value, dict) else kind(value)
            self.err(
                path, f"a condition is a mapping with exactly one key ({', '.join(CONDITIONS)}), got {got}"
            )
            return False
        ((name, arg),) = value.items()
        arg_path = (*path, name)
        if name not in CONDITIONS:
            self.err(
                path, f"unknown condition {name!r}; expected one of {', '.join(CONDITIONS)}", at=arg_path
            )
            return False
        if name == "flag":
            return self.choice(arg, arg_path, FLAGS, "flag") is not None
        if name in ("signal", "no_signal"):
            return self.choice(arg, arg_path, SIGNALS, "signal") is not None
        if name == "score_below":
            if isinstance(arg, bool) or not isinstance(arg, int) or not 0 <= arg <= 100:
                self.err(arg_path, f"expected a whole-number score from 0 to 100, got {arg!r}")
                return False
            return True
        if name == "dimension_below":
            return self.dimension_below(arg, arg_path)
        if name == "not":
            return self.condition(arg, arg_path)
        if not isinstance(arg, list) or not arg:
            self.err(arg_path, f"expected a non-empty list of conditions, got {kind(arg)}")
            return False
        results = [self.condition(sub, (*arg_path, i)) for i, sub in enumerate(arg)]
        return all(results)

    def dimension_below(self, arg: Any, path: KeyPath) -> bool:
        data = self.mapping(arg, path)
        if data is None:
            return False
        if len(data) != 1:
            # One dimension per condition keeps the meaning unambiguous; combine with all/any.
            self.err(path, "name exactly one dimension, e.g. {detection: 0.5}; combine several with all/any")
            return False
        ((key, limit),) = data.items()
        if key not in DIMENSIONS:
            self.err((*path, key), f"unknown dimension {key!r}; {suggest(key, DIMENSIONS)}")
            return False
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 <= limit <= 1:
            self.err((*path, key), f"expected a fraction from 0 to 1, got {limit!r}")
            return False
        return True

    # --- prompts --------------------------------------------------------------------------------

    def prompts(self, value: Any) -> list[Located[Prompt]]:
        path: KeyPath = ("prompts",)
        if not isinstance(value, list):
            self.err(path, f"expected a list of prompts, got {kind(value)}")
            return []
        return [Located(self.prompt(item, (*path, i)), self.doc, (*path, i)) for i, item in enumerate(value)]

    def prompt(self, value: Any, path: KeyPath) -> Prompt | None:
        data = self.mapping(value, path, PROMPT_REQUIRED)
        if data is None:
            return None
        prompt_id = (
            self.ident(data["id"], (*path, "id"), PROMPT_ID, "prompt id (kebab-case)")
            if "id" in data
            else None
        )
        variant = self.text(data["variant"], (*path, "variant")) if "variant" in data else None
        text = self.text(data["text"], (*path, "text")) if "text" in data else None
        if prompt_id is None or variant is None or text is None:
            return None
        return Prompt(id=prompt_id, variant=variant, text=text)
