"""YAML parsing that remembers the line of every key and list item.

The data comes back as plain Python (dicts, lists, scalars) together with a map from key path
tuples such as ("probes", 2, "when") to 1-based line numbers, so validators can work on plain data
and still point at the exact line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError

KeyPath = tuple[str | int, ...]

# Budgets: content is data people write by hand, so anything past these is a mistake or an attack (an
# alias bomb expands a few hundred bytes into billions of values; deep nesting crashes a recursive
# reader). Each is reported as `file:line: problem`, never a hang or a traceback.
MAX_FILE_BYTES = 1_000_000
MAX_DIR_BYTES = 5_000_000
MAX_DEPTH = 32  # nested mappings and lists
MAX_VALUES = 100_000  # values after aliases are expanded

_PLAIN_TAGS = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}


def format_path(path: KeyPath) -> str:
    """("probes", 2, "when") -> "probes[2].when"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Document:
    """One parsed file: its data and the line of every key path in it."""

    file: str
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    layer: int = 0  # 0 for the first directory loaded, then one more per team directory on top

    def line(self, path: KeyPath) -> int | None:
        # A path that does not exist (a missing key) falls back to its nearest existing parent.
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def error(self, path: KeyPath, problem: str, *, at: KeyPath | None = None) -> ContentError:
        """An error reported under `path`, on the line of `at` (default: `path` itself)."""
        return ContentError(self.file, self.line(path if at is None else at), format_path(path), problem)


def parse_file(path: Path, display: str) -> tuple[Document | None, list[ContentError]]:
    """Parse one YAML file; a syntax error comes back as an error with the parser's line."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [ContentError(display, 1, "", f"file is {size:,} bytes; a content file may be at "
                                                       f"most {MAX_FILE_BYTES:,} bytes")]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ContentError(display, None, "", f"cannot read file: {exc}")]
    return parse_text(text, display)


def parse_text(text: str, display: str) -> tuple[Document | None, list[ContentError]]:
    try:
        # The reader checks every character as the loader is built: a control character fails here.
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        return None, [ContentError(display, line, "", f"YAML syntax error: character {exc.character!r} "
                                                      "is not allowed in YAML")]
    too_deep = _too_deep(text, display)
    if too_deep is not None:
        loader.dispose()
        return None, [too_deep]
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = ": ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        return None, [ContentError(display, line, "", f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        return None, [ContentError(display, None, "", f"YAML syntax error: {exc}")]
    try:
        doc = Document(display, None)
        errors: list[ContentError] = []
        if root is not None:
            try:
                doc.data = _Builder(loader, doc, errors).build(root, ())
            except _Budget as exc:
                line = exc.args[0]
                return None, [ContentError(display, line, "", f"aliases expand this file to more than "
                                                              f"{MAX_VALUES:,} values")]
        return doc, errors
    finally:
        loader.dispose()


def _too_deep(text: str, display: str) -> ContentError | None:
    """Nesting deeper than MAX_DEPTH, found with PyYAML's event parser (which keeps its own stack) before
    the recursive composer sees it. Syntax errors are left for the composer to report."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return ContentError(display, event.start_mark.line + 1, "",
                                        f"nested more than {MAX_DEPTH} levels deep")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


class _Budget(Exception):
    """The document expands to more values than MAX_VALUES."""


class _Builder:
    """Turns composed nodes into plain data, recording lines and collecting problems."""

    def __init__(self, loader: yaml.SafeLoader, doc: Document, errors: list[ContentError]) -> None:
        self.loader = loader
        self.doc = doc
        self.errors = errors
        self.active: set[int] = set()  # nodes being built: a repeat means a recursive alias
        self.values = 0  # values built so far, each alias counted again: the expansion budget

    def fail(self, node: yaml.Node, path: KeyPath, problem: str) -> None:
        self.errors.append(ContentError(self.doc.file, node.start_mark.line + 1, format_path(path), problem))

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Budget(node.start_mark.line + 1)
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.active:
            self.fail(node, path, "recursive YAML alias")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag != _PLAIN_TAGS[type(node)]:
            self.fail(node, path, f"unsupported YAML tag {node.tag!r}")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.fail(node, path, f"cannot read value: {problem}")
            return None

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict:
        # Keys brought in by a `<<:` merge may be overridden; only repeats written out are mistakes.
        has_merge = any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value)
        try:
            self.loader.flatten_mapping(node)  # resolves `<<:` merge keys the way safe_load does
        except yaml.YAMLError as exc:
            self.fail(node, path, f"cannot merge mapping: {getattr(exc, 'problem', exc)}")
            return {}
        out: dict = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = self.scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, path, "a key must be a plain string, not a list or mapping")
                continue
            if not isinstance(key, str):
                self.fail(key_node, path, f"key {key_node.value!r} is not a string; put it in quotes")
                continue
            if key in first_line and not has_merge:
                self.fail(key_node, (*path, key), f"duplicate key (first defined on line {first_line[key]})")
                continue
            first_line[key] = line
            self.doc.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key))
        return out
