"""Train the sentence reader from training/sentences/*.jsonl and write bot/rubric/reader_model.npz.

    .venv/bin/python training/train_reader.py            # evaluate, then train on everything and write
    .venv/bin/python training/train_reader.py --eval     # evaluate only (nothing written)

Evaluation is leave-one-writer-out: the models are trained on every writer's sentences but one and
scored on that one's, so the figures say how the reader does on phrasing it never saw. The per-label
decision thresholds are chosen on those held-out predictions, never on the labelled answer sets.
Training is deterministic: the same corpus and library versions give the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.rubric.reader import FEATURES_VERSION, LABELS, MODEL_PATH, features  # noqa: E402

CORPUS = ROOT / "training" / "sentences"
C = 4.0  # inverse regularisation; chosen by the leave-one-writer-out macro F1 (see --sweep)
MIN_DF = 2


def load_corpus(directory: Path = CORPUS) -> list[dict]:
    """Every unit with its text, labels, writer and the unit before it in the same answer."""
    rows: list[dict] = []
    for path in sorted(directory.glob("*.jsonl")):
        previous: dict[str, str] = {}
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                unknown = set(row["labels"]) - set(LABELS)
                if unknown:
                    raise SystemExit(f"{path.name}:{n}: unknown labels {sorted(unknown)}")
                doc = row["doc"]
                rows.append(
                    {
                        "text": row["text"],
                        "prev": previous.get(doc, ""),
                        "labels": set(row["labels"]),
                        "writer": path.stem,
                    }
                )
                previous[doc] = row["text"]
    return rows


def _analyzer(item: tuple[str, str]) -> list[str]:
    return features(item[0], item[1])


def _matrix(rows: list[dict]) -> np.ndarray:
    return np.array([[label in r["labels"] for label in LABELS] for r in rows], dtype=np.int8)


def fit(rows: list[dict], c: float = C):
    vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=MIN_DF, norm="l2", lowercase=False)
    x = vec.fit_transform([(r["text"], r["prev"]) for r in rows])
    y = _matrix(rows)
    models = []
    for j in range(len(LABELS)):
        if y[:, j].sum() == 0:
            models.append(None)
            continue
        m = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="liblinear")
        m.fit(x, y[:, j])
        models.append(m)
    return vec, models


def predict(vec, models, rows: list[dict]) -> np.ndarray:
    x = vec.transform([(r["text"], r["prev"]) for r in rows])
    out = np.zeros((len(rows), len(LABELS)))
    for j, m in enumerate(models):
        if m is not None:
            out[:, j] = m.predict_proba(x)[:, 1]
    return out


def held_out(rows: list[dict], c: float = C) -> np.ndarray:
    """Out-of-writer probabilities: each writer's units predicted by models trained without them."""
    probs = np.zeros((len(rows), len(LABELS)))
    writers = sorted({r["writer"] for r in rows})
    for w in writers:
        train = [r for r in rows if r["writer"] != w]
        test_idx = [i for i, r in enumerate(rows) if r["writer"] == w]
        vec, models = fit(train, c)
        probs[test_idx] = predict(vec, models, [rows[i] for i in test_idx])
    return probs


def _f1(y: np.ndarray, p: np.ndarray, t: float) -> tuple[float, float, float]:
    pred = p >= t
    tp = int((pred & (y == 1)).sum())
    fp = int((pred & (y == 0)).sum())
    fn = int((~pred & (y == 1)).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def thresholds_for(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per label, the threshold in 0.30..0.70 with the best held-out F1 (0.5 where there is no data)."""
    out = np.full(len(LABELS), 0.5)
    for j in range(len(LABELS)):
        if y[:, j].sum() == 0:
            continue
        grid = np.round(np.arange(0.30, 0.71, 0.05), 2)
        out[j] = max(grid, key=lambda t, j=j: (_f1(y[:, j], probs[:, j], t)[2], -abs(t - 0.5)))
    return out


def report(rows: list[dict], probs: np.ndarray, thresholds: np.ndarray) -> str:
    y = _matrix(rows)
    lines = [
        f"{len(rows)} units from {len({r['writer'] for r in rows})} writers; "
        "leave-one-writer-out (each writer's units read by models trained on the others):",
        f"{'label':16} {'units':>6} {'thr':>5} {'prec':>6} {'recall':>6} {'F1':>6}",
    ]
    f1s = []
    for j, label in enumerate(LABELS):
        prec, rec, f1 = _f1(y[:, j], probs[:, j], thresholds[j])
        f1s.append(f1)
        lines.append(
            f"{label:16} {int(y[:, j].sum()):6d} {thresholds[j]:5.2f} {prec:6.1%} {rec:6.1%} {f1:6.1%}"
        )
    lines.append(f"macro F1 {np.mean(f1s):.1%}")
    return "\n".join(lines)


def corpus_digest(directory: Path = CORPUS) -> str:
    """sha256 over the corpus files (name and bytes), recorded in the model it was trained from."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.jsonl")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def export(vec, models, thresholds: np.ndarray, path: Path = MODEL_PATH) -> None:
    vocab = vec.get_feature_names_out()
    coef = np.zeros((len(vocab), len(LABELS)), dtype=np.float32)
    intercept = np.full(len(LABELS), -10.0, dtype=np.float32)
    for j, m in enumerate(models):
        if m is not None:
            coef[:, j] = m.coef_[0]
            intercept[j] = m.intercept_[0]
    # drop features no label uses (tiny weights everywhere): a smaller file, the same readings
    keep = np.abs(coef).max(axis=1) >= 1e-3
    np.savez_compressed(
        path,
        vocab=np.array("\n".join(str(v) for v in vocab[keep])),
        labels=np.array("\n".join(LABELS)),
        idf=vec.idf_[keep].astype(np.float32),
        coef=coef[keep].astype(np.float16),
        intercept=intercept,
        thresholds=thresholds.astype(np.float32),
        corpus_sha256=np.array(corpus_digest()),
        features_version=np.array(FEATURES_VERSION),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", action="store_true", help="evaluate only; write nothing")
    ap.add_argument("--sweep", action="store_true", help="print held-out macro F1 for several C values")
    ap.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    args = ap.parse_args(argv)
    rows = load_corpus()
    counts = Counter(label for r in rows for label in r["labels"])
    missing = [label for label in LABELS if counts[label] < 10]
    if missing:
        print(f"warning: fewer than 10 units for {missing}", file=sys.stderr)
    if args.sweep:
        y = _matrix(rows)
        for c in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            probs = held_out(rows, c)
            th = thresholds_for(y, probs)
            f1 = np.mean([_f1(y[:, j], probs[:, j], th[j])[2] for j in range(len(LABELS))])
            print(f"C={c:5}: macro F1 {f1:.1%}")
        return 0
    probs = held_out(rows)
    thresholds = thresholds_for(_matrix(rows), probs)
    print(report(rows, probs, thresholds))
    if args.eval:
        return 0
    vec, models = fit(rows)
    export(vec, models, thresholds, args.out)
    by_writer = defaultdict(int)
    for r in rows:
        by_writer[r["writer"]] += 1
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) from {dict(by_writer)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
