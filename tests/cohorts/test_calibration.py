"""`gauntlet calibration --ratings FILE`: the grader's agreement with people on a small rated file whose
figures are worked out by hand below, and clear refusals of files that cannot be used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cohorts.calibration import Comparison, agreement, calibrate, level_of
from bot.rubric.types import DimensionResult, Grade
from bot.terminal import cli

RATED = Path(__file__).parents[1] / "data" / "calibration" / "rated.jsonl"

# What the stand-in grader says about each answer in RATED: verdict, detection and timeline points of 15.
BOT = {"a1": ("Hire", 10, 15), "a2": ("Hire", 15, 5), "a3": ("Lean Hire", 0, 0),
       "a4": ("Strong Hire", 15, 15)}


def stand_in_grader(text, round_id, level="mid", *, content=None, id=None) -> Grade:
    """A grader whose output the hand calculation below can rely on."""
    verdict, detection, timeline = BOT[id]
    dims = [DimensionResult("detection", "Detection", detection, 15, evidence=[]),
            DimensionResult("timeline", "Timeline", timeline, 15, evidence=[])]
    return Grade(round=round_id, level=level, score=50, dimensions=dims, flags=[], flag_details=[],
                 summary="", verdict=verdict, id=id)


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr("bot.rubric.grade", stand_in_grader)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grader_scores_map_onto_the_four_step_scale():
    """Nothing is missing, under half weak, under four fifths solid, the rest strong."""
    assert [level_of(s, 15) for s in (0, 5, 7, 8, 11, 12, 15)] == [1, 2, 2, 3, 3, 4, 4]
    assert level_of(3, 0) == 1


def test_rated_file_figures_match_the_hand_calculation(capsys, stand_in):
    """Exact, adjacent and kappa for the verdict, each dimension and all pooled are as worked by hand."""
    # Worked by hand. Verdicts (human, bot) on the 0–4 scale are (1,1) (2,1) (4,2) (0,0): exact 2/4,
    # adjacent 3/4; quadratic weights (i-j)²/16 give an observed mean weight of 5/64 against an expected
    # 52/256 from the marginals, so kappa = 1 - 5/13 = 8/13. Detection pairs (3,3) (2,4) (1,1): exact and
    # adjacent 2/3, weights (i-j)²/9, kappa = 1 - (4/27)/(24/81) = 0.5. Timeline pairs (4,4) (3,2): exact
    # 1/2, adjacent 1, kappa = 1 - (1/18)/(6/36) = 2/3. All five dimension pairs pooled: exact 3/5,
    # adjacent 4/5, kappa = 1 - (25/225)/(61/225) = 36/61.
    code, out, err = run(capsys, "calibration", "--ratings", str(RATED), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["answers"] == 4
    verdict = report["verdict"]
    assert (verdict["n"], verdict["exact"], verdict["adjacent"]) == (4, 0.5, 0.75)
    assert verdict["kappa"] == pytest.approx(8 / 13)
    detection, timeline = report["dimensions"]["detection"], report["dimensions"]["timeline"]
    assert (detection["n"], detection["exact"], detection["adjacent"]) == (3, pytest.approx(2 / 3),
                                                                          pytest.approx(2 / 3))
    assert detection["kappa"] == pytest.approx(0.5)
    assert (timeline["n"], timeline["exact"], timeline["adjacent"]) == (2, 0.5, 1.0)
    assert timeline["kappa"] == pytest.approx(2 / 3)
    pooled = report["all_dimensions"]
    assert (pooled["n"], pooled["exact"], pooled["adjacent"]) == (5, 0.6, 0.8)
    assert pooled["kappa"] == pytest.approx(36 / 61)


def test_rated_file_prints_a_readable_table(capsys, stand_in):
    """Without --json the same figures come as a table a person reads, one row per scale."""
    code, out, _ = run(capsys, "calibration", "--ratings", str(RATED))
    assert code == 0
    lines = out.splitlines()
    assert "4 rated answer(s)" in lines[0]
    verdict_row = next(line for line in lines if line.startswith("verdict"))
    assert verdict_row.split() == ["verdict", "4", "50%", "75%", "0.62"]
    detection_row = next(line for line in lines if line.strip().startswith("Detection"))
    assert detection_row.split() == ["Detection", "3", "67%", "67%", "0.50"]


def test_the_real_grader_runs_over_the_rated_file(capsys):
    """With the built-in grader every answer is compared and kappa stays within its range."""
    code, out, err = run(capsys, "calibration", "--ratings", str(RATED), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["verdict"]["n"] == 4 and report["all_dimensions"]["n"] == 5
    assert report["verdict"]["kappa"] is None or -1 <= report["verdict"]["kappa"] <= 1


def test_a_bad_rated_file_names_every_bad_line_and_prints_no_figures(capsys, tmp_path):
    """Unknown rounds, verdicts outside the scale and ratings outside 1–4 are each reported by line."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([
        json.dumps({"id": "x1", "round": "opening", "text": "t", "verdict": "Maybe"}),
        json.dumps({"id": "x2", "round": "nope", "text": "t", "verdict": "Hire"}),
        json.dumps({"id": "x3", "round": "opening", "text": "t", "verdict": "Hire",
                    "dimensions": {"detection": 5}}),
        json.dumps({"id": "x4", "round": "opening", "text": "t", "verdict": "Hire",
                    "dimensions": {"migration_safety": 2}}),
        "{not json",
    ]), encoding="utf-8")
    code, out, err = run(capsys, "calibration", "--ratings", str(bad))
    assert code == 2 and out == ""
    assert "line 1: 'Maybe' is not a verdict" in err
    assert "line 2: unknown round 'nope'" in err
    assert "line 3: 'detection' is rated 5" in err
    assert "line 4: round 'opening' does not weigh 'migration_safety'" in err
    assert "line 5:" in err
    code, _, err = run(capsys, "calibration", "--ratings", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file" in err


def test_kappa_is_undefined_rather_than_invented_when_nobody_varies():
    """One shared rating on both sides gives full agreement and no kappa (0/0), not a made-up number."""
    same = agreement("verdict", [(1, 1), (1, 1)], range(5))
    assert (same.n, same.exact, same.adjacent, same.kappa) == (2, 1.0, 1.0, None)
    empty = calibrate([])
    assert empty.verdict.n == 0 and empty.verdict.exact is None and empty.dimensions == []
    one = calibrate([Comparison("c", "opening", "Hire", "No Hire", {"impact": 4}, {"impact": 1})])
    assert one.verdict.adjacent == 0.0 and one.dimensions[0].exact == 0.0
