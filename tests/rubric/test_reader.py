"""The sentence reader: shipped model, its training code and what it reads."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.rubric.reader import LABELS, MODEL_PATH, Reader, default_reader, features

ROOT = Path(__file__).resolve().parents[2]
TRAINING = ROOT / "training" / "train_reader.py"


def _training_module():
    spec = importlib.util.spec_from_file_location("train_reader", TRAINING)
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_reader"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_model_was_trained_on_the_committed_corpus():
    """The model records the corpus digest it was trained from: a changed corpus needs a retrain."""
    train = _training_module()
    assert default_reader().corpus_sha256 == train.corpus_digest(), (
        "training/sentences changed since reader_model.npz was built: run training/train_reader.py"
    )


def test_the_model_reads_exactly_the_labels_the_code_knows():
    """Every reading the grader asks for is in the model, in the same order."""
    assert default_reader().labels == LABELS
    assert default_reader().coef.shape[1] == len(LABELS)


def test_reading_matches_scikit_learn_on_the_same_features(tmp_path):
    """The numpy reader gives scikit-learn's probabilities for a model trained by the training script."""
    pytest.importorskip("sklearn")
    train = _training_module()
    rows = train.load_corpus()[:600]
    vec, models = train.fit(rows)
    path = tmp_path / "model.npz"
    train.export(vec, models, np.full(len(LABELS), 0.5), path)
    reader = Reader(path)
    expected = train.predict(vec, models, rows[:40])
    # the reader reads a sentence with the one before it, as the corpus rows record
    got = np.vstack(
        [
            reader.read([r["prev"], r["text"]])[1] if r["prev"] else reader.read([r["text"]])[0]
            for r in rows[:40]
        ]
    )
    assert np.abs(got - expected).max() < 2e-3  # float16 weights in the shipped file


def test_features_see_the_previous_sentence_and_normalise_digits():
    """Digits become 0 and the previous sentence's words are marked, so times and context generalise."""
    f = features("At 14:21 I rolled back.", "The alert fired.")
    assert "w:00" in f and "w:14" not in f and "p:fired" in f and "p:^" not in f
    assert "p:^" in features("At 14:21 I rolled back.")


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("At 14:21 I made the call to roll back the config change rather than debug forward.", "mitigation"),
        (
            "Our synthetic check from three regions started failing at 06:40 and paged the on-call.",
            "detection",
        ),
        (
            "If we blame the developer and send a reminder, the next person makes the same mistake.",
            "blame_rejected",
        ),
    ],
)
def test_the_reader_reads_what_a_sentence_does(sentence, label):
    """Sentences phrased without the rubric's words are read for what they do."""
    reader = default_reader()
    probs = reader.read([sentence])[0]
    assert probs[LABELS.index(label)] >= reader.thresholds[LABELS.index(label)]


def test_model_file_is_small_enough_to_ship():
    """The model stays a small file inside the package."""
    assert MODEL_PATH.stat().st_size < 4 * 1024 * 1024
