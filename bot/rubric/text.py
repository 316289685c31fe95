"""An answer split into sentences, with lexicon hits mapped to sentences and computed once per answer."""

from __future__ import annotations

import bisect
import re

from .config import Rubric
from .reader import LABELS, default_reader
from .text_words import FUNCTION_WORDS

# Sentence ends: terminal punctuation (optionally closed by a quote or bracket) then space, but not
# the "1." that numbers a list item at the start of a line; a blank
# line; or a line break before a list bullet, a table row, a clock time or "T+n". A single line break inside a
# sentence (text pasted from an editor) is just a space.
_SPLIT = re.compile(
    r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))(?<!^\d\.)(?<!\n\d\.)(?<!^\d\d\.)(?<!\n\d\d\.)\s+"
    r"|[ \t]*\n[ \t]*(?:\n\s*)+"
    r"|(?<=[:;])[ \t]*\n\s*"
    r"|[ \t]*\n\s*(?=(?:[-*•>#|]+|\d{1,2}[.)]|\d{1,2}:\d{2}|[tT]\s?\+\s?\d)\s?)"
)
_OWNER_LINE = re.compile(
    r"\W*(?:\d+[.)]\s*)?(?:(?:owners?|dri|assignee)\s*[:\-\u2013]|assigned\s+to\b|owned\s+by\b)\s*\S", re.I
)
_FENCE = re.compile(r"```[^\n]*\n.*?```", re.S)
_SPACES = str.maketrans({c: " " for c in "\t\n\r\f\v\u00a0\u2028\u2029"})
_LEAD = re.compile(r"^(?:[-*•>#]+|\d{1,2}[.)])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d.,:]*%?")
MAX_QUOTE = 260
# Concreteness: digits, code-like names (snake_case, dotted, slashed), or a capitalised word after a
# lower-case one (a product, a system, a person), as opposed to category names ("the test gap").
_CONCRETE = re.compile(r"\d|\b\w+_\w+\b|\b[a-z]+\.[a-z]{2,}\b|#[\w-]+|\b[A-Z]{2,}\b|`")
_PROPER = re.compile(r"(?<=[a-z,] )[A-Z][a-z]+")
_LONG_WORD = re.compile(r"(?<![\w'’-])[A-Za-z]{5,}(?![\w'’])")



def _read_sentences(doc: Doc):
    return default_reader().read([doc.sentence(i) for i in range(len(doc.spans))])


def _over_threshold(doc: Doc, label: str) -> list[int]:
    if not doc.spans:
        return []
    return doc.over()[:, _LABEL_INDEX[label]].nonzero()[0].tolist()


_LABEL_INDEX = {label: j for j, label in enumerate(LABELS)}


class Doc:
    """The answer text with sentence spans; `hits(name)` runs one lexicon over the whole text once."""

    def __init__(self, text: str, rubric: Rubric) -> None:
        self.text = text
        self.rubric = rubric
        spans: list[tuple[int, int]] = []
        # a fenced code block is one unit, as the sentence corpus writes it: no cut inside it, and a cut
        # on each side of it
        fences = [(m.start(), m.end()) for m in _FENCE.finditer(text)] if "```" in text else []
        cuts = [(m.start(), m.end()) for m in _SPLIT.finditer(text)]
        if fences:
            cuts = [c for c in cuts if not any(fs < c[0] < fe for fs, fe in fences)]
            cuts = sorted({*cuts, *((fs, fs) for fs, _fe in fences), *((fe, fe) for _fs, fe in fences)})
        pos = 0
        for start, end in cuts:
            if start > pos:
                spans.append((pos, start))
            pos = max(pos, end)
        if pos < len(text):
            spans.append((pos, len(text)))
        self.spans = [(s, e) for s, e in spans if text[s:e].strip()]
        self.starts = [s for s, _ in self.spans]
        self.words = _WORD.findall(text)
        self.word_count = len(self.words)
        self._hits: dict[str, list[tuple[int, int, int]]] | None = None
        # results of detectors that several dimensions and flags ask for (see `Doc.once`)
        self._once: dict[str, object] = {}
        self._fallback: dict[str, list[tuple[int, int, int]]] = {}
        self._by_sentence: dict[str, dict[int, list[tuple[int, int, int]]]] = {}
        self._concrete: dict[int, bool] = {}
        lower = self.lower = text.lower()
        # Lexicons are written in lower case and whitespace is one space in the scanned text, so the
        # index can find every lexicon in one pass. A few characters change length when lower-cased,
        # which would shift offsets: those rare texts are scanned case-insensitively, lexicon by lexicon.
        self._exact = self.exact = len(lower) == len(text)
        self._scan = lower.translate(_SPACES) if self._exact else text

    def once(self, key: str, compute):
        """`compute(self)`, worked out on the first call for `key` and remembered for this answer."""
        if key not in self._once:
            self._once[key] = compute(self)
        return self._once[key]

    # ---- readings: what each sentence does, from the learned sentence reader (bot/rubric/reader.py)

    def readings(self):
        """Probabilities, one row per sentence and one column per reading (`reader.LABELS`)."""
        return self.once("readings", _read_sentences)

    def over(self):
        """Booleans, one row per sentence: which readings are over their thresholds."""
        return self.once("over", lambda d: d.readings() >= default_reader().thresholds)

    def p(self, label: str, i: int) -> float:
        """How sure the reader is that sentence `i` does `label` (0..1)."""
        return float(self.readings()[i, _LABEL_INDEX[label]])

    def read(self, label: str) -> list[int]:
        """Sentences the reader says do `label` (probability over that reading's threshold), in order."""
        return self.once("read:" + label, lambda d: _over_threshold(d, label))

    def sentence_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.starts, pos) - 1)

    def sentence(self, i: int) -> str:
        s, e = self.spans[i]
        return self.text[s:e]

    def hits(self, name: str) -> list[tuple[int, int, int]]:
        """(start, end, sentence index) of every match of lexicon `name`."""
        if not self._exact:
            got = self._fallback.get(name)
            if got is None:
                lex = self.rubric.lex
                pattern = lex[name] if name in lex else self.rubric.guardrails[name[3:]]
                got = [
                    (m.start(), m.end(), self.sentence_of(m.start())) for m in pattern.finditer(self._scan)
                ]
                self._fallback[name] = got
            return got
        if self._hits is None:
            self._hits = self.rubric.index.scan(self._scan, self._sentence_at())
        return self._hits[name]

    def _sentence_at(self) -> list[int]:
        """The sentence index of every character offset (text between sentences: the one before)."""
        at: list[int] = []
        spans = self.spans
        for i, (s, _e) in enumerate(spans):
            nxt = spans[i + 1][0] if i + 1 < len(spans) else len(self.text) + 1
            at += [i] * (nxt - (s if i else 0))
        return at or [0] * (len(self.text) + 1)

    def sents(self, name: str) -> list[int]:
        """Indices of the sentences where lexicon `name` matches, in order, without repeats."""
        return sorted({h[2] for h in self.hits(name)})

    def _grouped(self, name: str) -> dict[int, list[tuple[int, int, int]]]:
        """The hits of lexicon `name` grouped by sentence, built on the first per-sentence question."""
        got = self._by_sentence.get(name)
        if got is None:
            got = {}
            for h in self.hits(name):
                got.setdefault(h[2], []).append(h)
            self._by_sentence[name] = got
        return got

    def in_sentence(self, name: str, i: int) -> list[tuple[int, int, int]]:
        return list(self._grouped(name).get(i, ()))

    def has(self, name: str, i: int) -> bool:
        return i in self._grouped(name)

    def concrete(self, i: int) -> bool:
        """Sentence `i` names something concrete: a number, a system or code name, a proper noun, or
        enough specific words ("validation checked types, not semantics") beyond category names."""
        got = self._concrete.get(i)
        if got is None:
            got = self._concrete[i] = self._is_concrete(i)
        return got

    def _is_concrete(self, i: int) -> bool:
        s, e = self.spans[i]
        if _CONCRETE.search(self.text, s, e) or _PROPER.search(self.text, s + 1, e):
            return True
        return self.has("jargon", i) or self.has("sql_hint", i) or self.specific_words(i) >= 4

    def owner_line(self, i: int) -> bool:
        """Unit `i` names who owns a follow-up ("Owner: Hana on the cart team.", "2. DRI: SRE"): it
        assigns work, it finds no fault."""
        return bool(_OWNER_LINE.match(self.text, *self.spans[i]))

    def names_something(self, i: int) -> bool:
        """Sentence `i` names something outright: a number, a time, code, a proper noun or a system
        (without counting long words, which abstract prose has too)."""
        s, e = self.spans[i]
        return bool(_CONCRETE.search(self.text, s, e) or _PROPER.search(self.text, s + 1, e)) or (
            self.has("jargon", i) or self.has("sql_hint", i)
        )

    def specific_words(self, i: int) -> int:
        """Distinct words of five letters or more in sentence `i` that are neither connectives nor the
        rubric's own category and filler vocabulary (lexicon `generic_words`)."""
        s, e = self.spans[i]
        generic = {h[0] for h in self.in_sentence("generic_words", i)}
        words = {
            m.group().lower()
            for m in _LONG_WORD.finditer(self.text, s, e)
            if m.start() not in generic and m.group().lower() not in FUNCTION_WORDS
        }
        return len(words)

    def quote(self, i: int, around: int | None = None) -> str:
        """Sentence `i` verbatim (bullet markers dropped); a window around `around` when it is long."""
        s, e = self.spans[i]
        lead = _LEAD.match(self.text, s, e)
        if lead:
            s = lead.end()
        if e - s > MAX_QUOTE:
            centre = around if around is not None and s <= around < e else s
            lo = max(s, centre - MAX_QUOTE // 2)
            hi = min(e, lo + MAX_QUOTE)
            lo = max(s, hi - MAX_QUOTE)
            # snap inwards to whitespace so a quote does not start or end mid-word
            if lo > s:
                sp = self.text.find(" ", lo, hi)
                lo = sp + 1 if sp != -1 else lo
            if hi < e:
                sp = self.text.rfind(" ", lo, hi)
                hi = sp if sp > lo else hi
            s, e = lo, hi
        return self.text[s:e].strip()
