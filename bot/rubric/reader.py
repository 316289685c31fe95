"""The sentence reader: what each sentence of an answer does, learned from labelled sentences.

A small linear model per reading (impact, detection, mitigation, blame, blame_rejected, …) scores
each sentence on word and character n-grams of the sentence and the words of the sentence before it.
The models are trained by `training/train_reader.py` from `training/sentences/*.jsonl` and shipped as
`reader_model.npz` beside this file; reading needs numpy only (no scikit-learn at run time).
The feature function below is the one the training script hands to scikit-learn, so both sides see
exactly the same features.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .text_words import COMMON_CAPS, FUNCTION_WORDS

# What a sentence can do. The training corpus documents each one (training/sentences/README.md).
LABELS = (
    "impact",
    "detection",
    "mitigation",
    "fix",
    "prevention",
    "diagnosis",
    "cause",
    "blame",
    "blame_rejected",
    "own_mistake",
    "communication",
    "measurement",
    "role",
    "reflection",
    "sql_proposed",
    "sql_cause",
    "empty_claim",
    "shrug",
)

MODEL_PATH = Path(__file__).with_name("reader_model.npz")
# Bump when `features` changes: a model trained on other features must be retrained, not misread.
FEATURES_VERSION = 2

_DIGITS = re.compile(r"\d")
_TOKEN = re.compile(r"[a-z0][a-z0_'’.+-]*[a-z0]|[a-z0]|[#@`%$:;=<>()*/]")
_PREV_WORDS = 14
_NOT_NAMES = (
    COMMON_CAPS
    | {w.capitalize() for w in FUNCTION_WORDS}
    | frozenset(
        [
            "Incident",
            "Root",
            "Cause",
            "Action",
            "Item",
            "Impact",
            "Detection",
            "Mitigation",
            "Fix",
            "Prevention",
            "Timeline",
            "Follow",
            "Result",
            "Situation",
            "Task",
            "Lesson",
            "Lessons",
            "Status",
            "Update",
            "Customer",
            "Customers",
            "Team",
            "Engineers",
            "Manager",
            "Director",
            "Migration",
            "Deploy",
            "Deployment",
            "Alert",
            "Alerts",
            "Database",
            "Service",
            "Services",
            "Users",
            "Their",
            "His",
            "Her",
            "Later",
            "First",
            "Second",
            "Third",
            "Afterwards",
            "Today",
            "Yesterday",
            "Basically",
            "Around",
            "About",
            "Within",
            "During",
            "Between",
            "Without",
            "Instead",
            "Yeah",
            "Okay",
            "Sure",
            "Good",
            "Great",
            "Sorry",
            "Thanks",
            "Thank",
            "Step",
            "Phase",
            "Option",
            "Factor",
            "Owner",
            "Metric",
        ]
    )
)
_SQL_CAPS = re.compile(r"\b(?:ALTER|CREATE|UPDATE|SET|DROP|INSERT)\b")


@lru_cache(maxsize=65536)
def _word_ngrams(word: str) -> tuple[str, ...]:
    """Character 3- to 5-grams of one word, padded with spaces at both ends."""
    padded = f" {word} "
    n = len(padded)
    return tuple(padded[i : i + k] for k in (3, 4, 5) for i in range(n - k + 1))


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(_DIGITS.sub("0", _NAMES.sub(_name, text).lower()))


# A capitalised word that is not a common sentence opener, product or weekday reads as a person's (or
# a team's) name: "xname" lets "Dave forgot" teach the model about "Priya forgot" too.
_NAMES = re.compile(r"\b[A-Z][a-z]{2,}\b")


def _name(m: re.Match) -> str:
    word = m.group()
    return word if word in _NOT_NAMES else "Xname"


def features(text: str, previous: str = "") -> list[str]:
    """The features of one sentence: words, word pairs, character n-grams, and the previous sentence's
    last words (marked), so "I disagreed." after the CTO's claim reads differently from alone."""
    words = _tokens(text)
    out = [f"w:{w}" for w in words]
    out += [f"b:{a} {b}" for a, b in zip(["^", *words], [*words, "$"], strict=True)]
    for w in words:
        out.extend(_word_ngrams(w))
    if previous:
        out += [f"p:{w}" for w in _tokens(previous)[-_PREV_WORDS:]]
    else:
        out.append("p:^")
    if "\n" in text.strip():
        out.append("s:multiline")
    if _SQL_CAPS.search(text):
        out.append("s:sql_caps")
    return out


class Reader:
    """Linear models over shared tf-idf features; `read` gives one probability per (sentence, label)."""

    def __init__(self, path: Path = MODEL_PATH) -> None:
        with np.load(path, allow_pickle=False) as data:
            vocab = str(data["vocab"]).split("\n")
            self.labels = tuple(str(data["labels"]).split("\n"))
            self.idf = data["idf"].astype(np.float64)
            self.coef = data["coef"].astype(np.float32)  # (features, labels)
            self.intercept = data["intercept"].astype(np.float64)
            self.thresholds = data["thresholds"].astype(np.float64)
            self.corpus_sha256 = str(data["corpus_sha256"]) if "corpus_sha256" in data else ""
            version = int(data["features_version"]) if "features_version" in data else 1
        if version != FEATURES_VERSION:
            raise ValueError(
                f"{path.name} was trained on features v{version}, the code makes v{FEATURES_VERSION}: "
                "run training/train_reader.py"
            )
        self.index = {f: i for i, f in enumerate(vocab)}
        self._cache: dict[str, tuple[int, ...]] = {}
        self._start = self.index.get("p:^")
        self._multiline = self.index.get("s:multiline")
        self._sql_caps = self.index.get("s:sql_caps")
        if self.labels != LABELS:
            raise ValueError(f"{path.name} was trained for labels {self.labels}, the code reads {LABELS}")

    def read(self, sentences: list[str]) -> np.ndarray:
        """Probabilities, shape (len(sentences), len(LABELS)); each sentence read with the one before.

        The same features as `features()`, looked up as vocabulary ids: a word's own features are
        cached by word, so a sentence costs a few list extensions and one small matrix product."""
        get = self.index.get
        cache, word_ids = self._cache, self._word_ids
        ids: list[int] = []  # feature ids of every sentence, one after the other
        lengths: list[int] = []  # how many of them each sentence has
        width = len(self.index)
        previous: list[str] = []
        # plain loops: generator expressions cost more than the lookups they wrap
        for sentence in sentences:
            words = _tokens(sentence)
            start = len(ids)
            for w in words:
                found = cache.get(w)
                ids += found if found is not None else word_ids(w)
            before = "^"
            for w in words:
                i = get("b:" + before + " " + w)
                if i is not None:
                    ids.append(i)
                before = w
            i = get("b:" + before + " $")
            if i is not None:
                ids.append(i)
            if previous:
                for w in previous[-_PREV_WORDS:]:
                    i = get("p:" + w)
                    if i is not None:
                        ids.append(i)
            elif self._start is not None:
                ids.append(self._start)
            if self._multiline is not None and "\n" in sentence.strip():
                ids.append(self._multiline)
            if self._sql_caps is not None and _SQL_CAPS.search(sentence):
                ids.append(self._sql_caps)
            lengths.append(len(ids) - start)
            previous = words
        logits = np.tile(self.intercept, (len(sentences), 1))
        if ids:
            # one key per (sentence, feature): counting keys gives each sentence's term counts
            keys = np.repeat(np.arange(len(sentences), dtype=np.int64) * width, lengths)
            keys += np.array(ids, dtype=np.int64)
            uniq, counts = np.unique(keys, return_counts=True)
            rows, idx = np.divmod(uniq, width)
            weights = (1.0 + np.log(counts)) * self.idf[idx]
            norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=len(sentences)))
            weights /= norms[rows]
            contrib = self.coef[idx] * weights[:, None]
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            logits[rows[starts]] += np.add.reduceat(contrib, starts, axis=0)
        return 1.0 / (1.0 + np.exp(-logits))

    def _word_ids(self, word: str) -> tuple[int, ...]:
        ids = self._cache.get(word)
        if ids is None:
            get = self.index.get
            found = (get(f) for f in (f"w:{word}", *_word_ngrams(word)))
            ids = tuple(i for i in found if i is not None)
            if len(self._cache) < 100_000:
                self._cache[word] = ids
        return ids


@lru_cache(maxsize=1)
def default_reader() -> Reader:
    """The reader shipped with the package, loaded once per process."""
    return Reader()
