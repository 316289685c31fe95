"""Run every lexicon over an answer in one pass over its word starts.

Scanning each lexicon's alternation over the whole text costs a regex attempt at every word start per
lexicon, and that dominated grading time. Every lexicon pattern is anchored at a word start, and the
characters a match can begin with are known from the pattern itself. So the index maps the first one
to six characters of a word to the lexicons that can match there, and each word start tries only
those lexicons, with the lexicon's own compiled pattern. The result is exactly what `finditer` would
return per lexicon (leftmost, non-overlapping), because a lexicon is never skipped at a position
where it could match: the prefix sets are computed as supersets from the parsed pattern.

Digits are folded to "0" in both the prefixes and the keys read from the text, so a pattern that
starts with a number ("14:05", "30%") indexes under a handful of keys instead of thousands. The
candidates for a six-character key are the union over its one- to six-character prefixes,
worked out once per distinct key and remembered: words repeat, so most word starts cost one lookup.
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

PREFIX = 6  # characters of a word used as the index key
_MAX_SET = 16  # a character class larger than this ends the known prefix
_MAX_PREFIXES = 4000
# A word start and the (up to) PREFIX characters read from it, without consuming them.
_KEY_AT = re.compile(rf"(?<!\w)(?=(\S.{{0,{PREFIX - 1}}}))", re.DOTALL)
_FOLD = str.maketrans("123456789", "000000000")
_MEMO_MAX = 50_000


class _Unbounded(Exception):
    """The pattern can start with too many different prefixes to index."""


def _class_chars(items) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            out.add(chr(av).translate(_FOLD))
        elif op is _c.RANGE:
            if av[1] - av[0] > 64:
                return None
            chars = {chr(i).translate(_FOLD) for i in range(av[0], av[1] + 1)}
            if len(chars) > _MAX_SET:
                return None
            out |= chars
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            out.add("0")
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
        _prefixes(rest, acc + chr(av).translate(_FOLD), k, out)
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
        self._matchers = [p.match for p in self.patterns]  # bound once: the scan calls them ~1,000 times
        by_key: dict[str, set[int]] = {}
        self.always: list[int] = []  # lexicons that may start anywhere: scanned whole
        for i, name in enumerate(self.names):
            pre = prefixes(sources[name])
            if pre is None or "" in pre:
                self.always.append(i)
                continue
            for p in pre:
                by_key.setdefault(p, set()).add(i)
        self.keys = by_key
        self._memo: dict[str, tuple[int, ...]] = {}

    def candidates(self, key: str) -> tuple[int, ...]:
        """Lexicons that may match at a word start whose (folded) next characters are `key`."""
        got = self._memo.get(key)
        if got is None:
            found: set[int] = set()
            for size in range(1, len(key) + 1):
                found |= self.keys.get(key[:size], set())
            got = tuple(sorted(found))
            if len(self._memo) > _MEMO_MAX:  # an unbounded stream of new words: start over
                self._memo.clear()
            self._memo[key] = got
        return got

    def scan(self, text: str, where: list[int] | None = None) -> dict[str, list[tuple[int, int, int]]]:
        """{lexicon name: [(start, end, where[start]), ...]} exactly as each pattern's finditer finds them.

        `where` maps a character offset to its sentence; without it the third item is 0.
        """
        n = len(self.names)
        found: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
        last_end = [0] * n
        matchers = self._matchers
        memo_get, candidates = self._memo.get, self.candidates
        at = where if where is not None else [0] * (len(text) + 1)
        for m in _KEY_AT.finditer(text.translate(_FOLD)):
            key = m.group(1)
            cands = memo_get(key)
            if cands is None:
                cands = candidates(key)
            if not cands:
                continue
            p = m.start()
            for i in cands:
                if p < last_end[i]:
                    continue
                hit = matchers[i](text, p)
                if hit is not None:
                    e = hit.end()
                    if e > p:
                        found[i].append((p, e, at[p]))
                        last_end[i] = e
        for i in self.always:
            found[i] = [(mm.start(), mm.end(), at[mm.start()]) for mm in self.patterns[i].finditer(text)]
        return dict(zip(self.names, found, strict=True))


def build_index(patterns: dict[str, re.Pattern], sources: dict[str, str]) -> LexiconIndex:
    return LexiconIndex(patterns, sources)


def expand_sources(entries: Iterable[str]) -> str:
    return "|".join(f"(?:{e})" for e in entries)
