"""Loading content directories in layers (built in first, then each team directory) and merging them."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ContentError, ContentErrors
from .located import MAX_DIR_BYTES, Document, KeyPath, format_path, parse_file
from .model import Content, Probe, Prompt, Round
from .validate import Checker, GauntletPart, Located, kind, suggest

# bot/_content links to the repository's content/ and is a real directory in an installed wheel.
BUILTIN_CONTENT_DIR = (Path(__file__).resolve().parents[1] / "_content").resolve()
SECTIONS = ("gauntlet", "probes", "prompts", "rubric")


@dataclass
class _Layer:
    """Everything one directory contributes, before it is merged over the layers below it."""

    gauntlet: list[GauntletPart] = field(default_factory=list)
    probes: list[Located[Probe]] = field(default_factory=list)
    prompts: list[Located[Prompt]] = field(default_factory=list)
    rubric: list[tuple[Document, KeyPath]] = field(default_factory=list)  # (file, where the mapping sits)
    sources: list[Path] = field(default_factory=list)


def _display(path: Path, builtin: bool) -> str:
    # Built-in files read as "content/probes.yml" wherever the command runs; team files as given.
    if builtin:
        return str(path.relative_to(BUILTIN_CONTENT_DIR.parent))
    return str(path)


def _read_dir(directory: Path, index: int, builtin: bool, errors: list[ContentError]) -> _Layer:
    layer = _Layer()
    if not directory.is_dir():
        problem = "is not a directory" if directory.exists() else "no such directory"
        errors.append(ContentError(str(directory), None, "", problem))
        return layer
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    if not files:
        errors.append(ContentError(str(directory), None, "", "no .yml or .yaml files in this directory"))
    total = 0
    for path in files:
        layer.sources.append(path)
        with contextlib.suppress(OSError):  # parse_file says the file cannot be read
            total += path.stat().st_size
        if total > MAX_DIR_BYTES:
            errors.append(ContentError(_display(path, builtin), 1, "",
                                       f"the directory's content files add up to more than {MAX_DIR_BYTES:,} "
                                       "bytes; this file and the ones after it were not read"))
            break
        doc, parse_errors = parse_file(path, _display(path, builtin))
        errors.extend(parse_errors)
        if doc is not None:
            doc.layer = index
            _read_doc(doc, path, layer, errors)
    return layer


def _read_doc(doc: Document, path: Path, layer: _Layer, errors: list[ContentError]) -> None:
    expected = ", ".join(SECTIONS)
    if path.stem == "rubric":
        # rubric.yml belongs to the rubric: its whole mapping is rubric data, whatever its keys.
        if not isinstance(doc.data, dict):
            errors.append(doc.error((), f"expected a mapping of rubric settings, got {kind(doc.data)}"))
        else:
            layer.rubric.append((doc, ()))
        return
    if not isinstance(doc.data, dict) or not doc.data:
        got = "an empty file" if not doc.data else kind(doc.data)
        errors.append(doc.error((), f"expected a mapping with one of the keys {expected}, got {got}"))
        return
    check = Checker(doc, errors)
    for key, value in doc.data.items():
        if key == "gauntlet":
            layer.gauntlet.append(check.gauntlet(value))
        elif key == "probes":
            layer.probes.extend(check.probes(value))
        elif key == "prompts":
            layer.prompts.extend(check.prompts(value))
        elif key == "rubric":
            if isinstance(value, dict):
                layer.rubric.append((doc, ("rubric",)))
            else:
                check.err(("rubric",), f"expected a mapping, got {kind(value)}")
        else:
            check.err((key,), f"unknown top-level key {key!r} in {doc.file}; {suggest(key, SECTIONS)}")


def _merge_by_id(
    items: list[Located], layer_items: list[Located], what: str, errors: list[ContentError]
) -> None:
    """Replace entries with the same id from lower layers; a repeat within one layer is an error."""
    seen: dict[str, Located] = {}
    for item in layer_items:
        if item.value is None:
            continue
        item_id = item.value.id
        if item_id in seen:
            first = seen[item_id]
            where = f"{first.doc.file}:{first.doc.line(first.path)}"
            errors.append(
                item.error(f"duplicate {what} id {item_id!r} (already defined at {where})", sub=("id",))
            )
            continue
        seen[item_id] = item
        for i, old in enumerate(items):
            if old.value is not None and old.value.id == item_id:
                items[i] = item
                break
        else:
            items.append(item)


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _rubric_line(sources: list[tuple[Document, KeyPath]], path: tuple) -> tuple[Document, KeyPath] | None:
    """The file (and full key path) that most specifically defines `path` in the merged rubric."""
    best: tuple[int, Document, KeyPath] | None = None
    for doc, prefix in sources:  # later layers win ties, as they do in the merge
        full = (*prefix, *path)
        depth = max(n for n in range(len(full) + 1) if n == 0 or full[:n] in doc.lines)
        if best is None or depth >= best[0]:
            best = (depth, doc, full)
    return None if best is None else (best[1], best[2])


def _check_rubric(rubric: dict, sources: list[tuple[Document, KeyPath]], errors: list[ContentError]) -> None:
    try:
        from bot.rubric.config import validate_rubric_data  # the rubric owns what a valid rubric is
    except (ImportError, AttributeError):
        return
    for path, problem in validate_rubric_data(rubric):
        where = _rubric_line(sources, tuple(path))
        if where is None:
            errors.append(ContentError("rubric", None, format_path(tuple(path)), problem))
        else:
            doc, full = where
            errors.append(doc.error(full, problem))


def _merge(layers: list[_Layer], dirs: list[Path], errors: list[ContentError]) -> Content | None:
    gauntlet_id = title = None
    order: Located[tuple[str, ...]] | None = None
    rounds: dict[str, Located[Round]] = {}
    probes: list[Located[Probe]] = []
    prompts: list[Located[Prompt]] = []
    rubric: dict[str, Any] = {}
    rubric_sources: list[tuple[Document, KeyPath]] = []
    first_gauntlet: GauntletPart | None = None
    for layer in layers:
        layer_rounds: dict[str, Located[Round]] = {}
        for part in layer.gauntlet:
            first_gauntlet = first_gauntlet or part
            gauntlet_id = part.id or gauntlet_id
            title = part.title or title
            if part.order is not None and part.order.value is not None:
                order = part.order
            for round_id, located in part.rounds.items():
                if round_id in layer_rounds:
                    where = layer_rounds[round_id].doc.file
                    errors.append(
                        located.error(f"duplicate round id {round_id!r} (already defined in {where})")
                    )
                    continue
                layer_rounds[round_id] = located
        rounds.update(layer_rounds)
        _merge_by_id(probes, layer.probes, "probe", errors)
        _merge_by_id(prompts, layer.prompts, "prompt", errors)
        for doc, prefix in layer.rubric:
            data = doc.data
            for key in prefix:
                data = data[key]
            rubric = _deep_merge(rubric, data)
            rubric_sources.append((doc, prefix))

    if first_gauntlet is None:
        where = str(dirs[0]) if dirs else "content"
        errors.append(
            ContentError(where, None, "", "no gauntlet defined: add a file with a top-level 'gauntlet' key")
        )
        return None
    for key, value in (("id", gauntlet_id), ("title", title), ("order", order)):
        if value is None and not any(e.key_path.startswith(f"gauntlet.{key}") for e in errors):
            errors.append(first_gauntlet.doc.error(("gauntlet",), f"missing required key {key!r}"))
    _check_references(order, rounds, probes, errors)
    # A probe with another problem is left out of the merge, but its round references are still
    # checked, so every problem shows in one run instead of one per fix.
    for layer in layers:
        for located in layer.probes:
            if located.value is None:
                _check_raw_probe_references(located, rounds, errors)
    _check_prompt_texts(prompts, errors)
    if rubric_sources:
        _check_rubric(rubric, rubric_sources, errors)
    if errors or gauntlet_id is None or title is None or order is None or order.value is None:
        return None
    # With no errors every entry is valid; the filters only tell the type checker so.
    return Content(
        gauntlet_id=gauntlet_id,
        title=title,
        order=order.value,
        rounds={rid: loc.value for rid, loc in rounds.items() if loc.value is not None},
        probes=tuple(p.value for p in probes if p.value is not None),
        prompts=tuple(p.value for p in prompts if p.value is not None),
        rubric=rubric,
        sources=tuple(path for layer in layers for path in layer.sources),
    )


def _unknown_round(round_id: str, rounds: dict) -> str:
    return f"unknown round {round_id!r}; {suggest(round_id, list(rounds))}"


def _check_references(
    order: Located[tuple[str, ...]] | None,
    rounds: dict[str, Located[Round]],
    probes: list[Located[Probe]],
    errors: list[ContentError],
) -> None:
    if order is not None and order.value is not None:
        for i, round_id in enumerate(order.value):
            if round_id not in rounds:
                errors.append(order.doc.error((*order.path, i), _unknown_round(round_id, rounds)))
    main_path = set(order.value or ()) if order else set()
    for round_id, located in rounds.items():
        origin = located.value.reached_from if located.value else None
        if origin is None:
            continue
        if origin not in rounds:
            errors.append(located.error(_unknown_round(origin, rounds), sub=("reached_from",)))
            continue
        # Follow reached_from until the main path; a loop would leave next_round nowhere to go.
        seen, current = {round_id}, origin
        while current not in main_path:
            step = rounds.get(current)
            if step is not None and step.value is None:
                break  # that round is invalid and already reported
            if current in seen or step is None or step.value.reached_from is None:
                errors.append(
                    located.error(
                        f"reached_from never leads back to a round in the order (stuck at {current!r})",
                        sub=("reached_from",),
                    )
                )
                break
            seen.add(current)
            current = step.value.reached_from
    for located in probes:
        probe = located.value
        if probe is None:
            continue
        for i, round_id in enumerate(probe.after):
            if round_id not in rounds:
                errors.append(located.error(_unknown_round(round_id, rounds), sub=("after", i)))
        if probe.goto is not None and probe.goto not in rounds:
            errors.append(located.error(_unknown_round(probe.goto, rounds), sub=("goto",)))
        # Only when the probe's author wrote it over these exact rounds: a team that re-weighs a
        # built-in round should not be told off about built-in probes it cannot change.
        if all(located.doc.layer >= rounds[rid].doc.layer for rid in probe.after if rid in rounds):
            _check_probe_dimensions(located, probe, rounds, errors)


def _raw(located: Located) -> Any:
    data: Any = located.doc.data
    for key in located.path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _check_raw_probe_references(
    located: Located[Probe], rounds: dict[str, Located[Round]], errors: list[ContentError]
) -> None:
    raw = _raw(located)
    if not isinstance(raw, dict):
        return
    after = raw.get("after")
    if isinstance(after, list):
        for i, round_id in enumerate(after):
            if isinstance(round_id, str) and round_id.strip() and round_id.strip() not in rounds:
                errors.append(located.error(_unknown_round(round_id.strip(), rounds), sub=("after", i)))
    goto = raw.get("goto")
    if isinstance(goto, str) and goto.strip() and goto.strip() not in rounds:
        errors.append(located.error(_unknown_round(goto.strip(), rounds), sub=("goto",)))


def _dimension_tests(cond: dict, path: KeyPath) -> Iterator[tuple[str, KeyPath]]:
    """Every (dimension, key path) a validated condition compares, however deeply nested."""
    ((name, arg),) = cond.items()
    if name == "dimension_below":
        for key in arg:
            yield key, (*path, name, key)
    elif name == "not":
        yield from _dimension_tests(arg, (*path, name))
    elif name in ("all", "any"):
        for i, sub in enumerate(arg):
            yield from _dimension_tests(sub, (*path, name, i))


def _check_probe_dimensions(
    located: Located[Probe], probe: Probe, rounds: dict[str, Located[Round]], errors: list[ContentError]
) -> None:
    # A grade only scores the dimensions its round weighs, so testing any other one is a dead condition.
    weighed = {key for rid in probe.after if (r := rounds.get(rid)) and r.value for key in r.value.weighs}
    known = [rid for rid in probe.after if (r := rounds.get(rid)) and r.value]
    for key, path in _dimension_tests(probe.when, ("when",)):
        if known and key not in weighed:
            problem = f"no round in after ({', '.join(known)}) weighs {key!r}, so this test can never apply"
            errors.append(located.error(problem, sub=path))


def _check_prompt_texts(prompts: list[Located[Prompt]], errors: list[ContentError]) -> None:
    seen: dict[str, tuple[str, str]] = {}  # normalised text -> (prompt id, file)
    for located in prompts:
        if located.value is None:
            continue
        key = " ".join(located.value.text.lower().split())
        if key in seen:
            other_id, other_file = seen[key]
            errors.append(located.error(f"same text as prompt {other_id!r} ({other_file})", sub=("text",)))
        else:
            seen[key] = (located.value.id, located.doc.file)


def load_content(extra_dirs: Iterable[Path | str] = (), *, builtin: bool = True) -> Content:
    """Load the built-in content, then each team directory over it; raise ContentErrors with every problem."""
    errors: list[ContentError] = []
    dirs = ([BUILTIN_CONTENT_DIR] if builtin else []) + [Path(d) for d in extra_dirs]
    layers = [_read_dir(d, i, builtin and i == 0, errors) for i, d in enumerate(dirs)]
    content = _merge(layers, dirs, errors)
    if errors or content is None:
        raise ContentErrors(sorted(set(errors), key=_error_order))
    return content


def _error_order(e: ContentError) -> tuple:
    """Files in name order, then lines top to bottom: the order a person fixes them in."""
    return (e.file, e.line or 0, e.key_path, e.problem)


def content_dirs_from_env() -> list[Path]:
    raw = os.environ.get("GAUNTLET_CONTENT_DIR", "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


@functools.cache
def default_content() -> Content:
    """The built-in content plus any team directories named in $GAUNTLET_CONTENT_DIR (cached)."""
    return load_content(content_dirs_from_env())


def check_content(dir: Path | str | None = None) -> list[ContentError]:
    """Every problem in DIR loaded over the built-in content, or, with no DIR, in what the app would
    load: the built-in content plus the directories in $GAUNTLET_CONTENT_DIR. Sorted by file and line."""
    try:
        load_content([dir] if dir is not None else content_dirs_from_env())
    except ContentErrors as exc:
        return exc.errors
    return []
