"""Run every lexicon over an answer in one pass over its word starts.

Scanning each lexicon's alternation over the whole text costs a regex attempt at every word start per
lexicon, and that dominated grading time. Every lexicon pattern is anchored at a word start, and the
characters a match can begin with are known from the pattern itself. So the index maps the first one
or two characters of a word to the lexicons that can match there, and each word start tries only
those lexicons, with the lexicon's own compiled pattern. The result is exactly what `finditer` would
return per lexicon (leftmost, non-overlapping), because a lexicon is never skipped at a position
where it could match: the prefix sets are computed as supersets from the parsed pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

try:  # Python 3.11+
    import re._constants as _c
    import re._parser as _p
except ImportError:  # pragma: no cover - older interpreters keep them under sre_*
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

PREFIX = 4  # characters of a word used as the index key
_MAX_SET = 16  # a character class larger than this ends the known prefix
_MAX_PREFIXES = 4000
_WORD_START = re.compile(r"(?<!\w)\S")


class _Unbounded(Exception):
    """The pattern can start with too many different prefixes to index."""


def _class_chars(items) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            out.add(chr(av))
        elif op is _c.RANGE:
            if av[1] - av[0] > _MAX_SET:
                return None
            out |= {chr(i) for i in range(av[0], av[1] + 1)}
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            out |= set("0123456789")
        elif op is _c.CATEGORY and av is _c.CATEGORY_SPACE:
            out.add(" ")  # the scanned text has every whitespace character turned into a space
        else:  # negation, \w, \s, or anything else: too broad
            return None
    return out if len(out) <= _MAX_SET else None


def _prefixes(seq: list, acc: str, k: int, out: set[str]) -> None:
    """Add to `out` every prefix (up to k characters) a match of `seq` can start with, after `acc`.

    A prefix shorter than k means "anything may follow": the set stays a superset of real starts.
    """
    if len(out) > _MAX_PREFIXES:
        raise _Unbounded
    if len(acc) >= k or not seq:
        out.add(acc[:k])
        return
    op, av = seq[0]
    rest = seq[1:]
    if op is _c.LITERAL:
        _prefixes(rest, acc + chr(av), k, out)
    elif op is _c.IN:
        chars = _class_chars(av)
        if chars is None:
            out.add(acc)
        else:
            for ch in chars:
                _prefixes(rest, acc + ch, k, out)
    elif op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):  # zero width: skipping it only widens the set
        _prefixes(rest, acc, k, out)
    elif op is _c.SUBPATTERN:
        _prefixes(list(av[-1]) + rest, acc, k, out)
    elif op is _c.BRANCH:
        for alt in av[1]:
            _prefixes(list(alt) + rest, acc, k, out)
    elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) or getattr(_c, "POSSESSIVE_REPEAT", None) is op:
        lo, hi, item = av
        if lo == 0:
            _prefixes(rest, acc, k, out)
        if hi != 0:
            again = [(op, (max(lo - 1, 0), hi if hi is _c.MAXREPEAT else hi - 1, item))]
            _prefixes(list(item) + again + rest, acc, k, out)
    else:  # any character, a back reference, ...: the prefix ends here
        out.add(acc)


def prefixes(pattern: str, k: int = PREFIX) -> set[str] | None:
    """The prefixes a match of `pattern` can start with (strings of length 0..k); None if unknowable."""
    out: set[str] = set()
    try:
        _prefixes(list(_p.parse(pattern).data), "", k, out)
    except (_Unbounded, RecursionError):
        return None
    return out


class LexiconIndex:
    """Compiled lexicons keyed by name, with the word-start index that finds all their matches."""

    def __init__(self, patterns: dict[str, re.Pattern], sources: dict[str, str]) -> None:
        self.names = list(patterns)
        self.patterns = [patterns[n] for n in self.names]
        by_key: dict[str, set[int]] = {}
        self.always: list[int] = []  # lexicons that may start anywhere: scanned whole
        for i, name in enumerate(self.names):
            pre = prefixes(sources[name])
            if pre is None or "" in pre:
                self.always.append(i)
                continue
            for p in pre:
                by_key.setdefault(p, set()).add(i)
        self.keys = [
            {key: tuple(sorted(v)) for key, v in by_key.items() if len(key) == size}
            for size in range(1, PREFIX + 1)
        ]

    def scan(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """{lexicon name: [(start, end), ...]} exactly as each pattern's finditer would find them."""
        n = len(self.names)
        found: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        last_end = [0] * n
        patterns = self.patterns
        sized = list(enumerate(self.keys, start=1))
        empty: tuple[int, ...] = ()
        for m in _WORD_START.finditer(text):
            p = m.start()
            cands: tuple[int, ...] = ()
            for size, keys in sized:
                got = keys.get(text[p : p + size], empty)
                if got:
                    cands += got
            for i in cands:
                if p < last_end[i]:
                    continue
                hit = patterns[i].match(text, p)
                if hit is not None and hit.end() > p:
                    found[i].append((p, hit.end()))
                    last_end[i] = hit.end()
        for i in self.always:
            found[i] = [mm.span() for mm in patterns[i].finditer(text)]
        return dict(zip(self.names, found, strict=True))


def build_index(patterns: dict[str, re.Pattern], sources: dict[str, str]) -> LexiconIndex:
    return LexiconIndex(patterns, sources)


def expand_sources(entries: Iterable[str]) -> str:
    return "|".join(f"(?:{e})" for e in entries)
