"""Grading off the ack path: worker processes give the same grades, honour team content and survive dead
workers; the listener pool holds event work until the other requests are acknowledged."""

from __future__ import annotations

import os
import signal
import textwrap
import time

import pytest

from bot.content import load_content
from bot.interview.grading import grade
from bot.interview.grading_pool import PoolGrader, default_workers

ANSWERS = [
    "I was on call when the checkout latency alert fired at 14:02. About 12% of payments failed for "
    "25 minutes. I rolled back the 13:50 deploy, then we added a canary step so it cannot ship again.",
    "Honestly it was a mess and someone on the other team broke it. We restarted the box and it was fine.",
    "The migration ran ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu'; it locked the "
    "table for four minutes. I killed it, added the column as nullable, backfilled in batches of 10k.",
]


@pytest.fixture(scope="module")
def pool():
    grader = PoolGrader(2).start()
    yield grader
    grader.shutdown()


def test_pool_grades_equal_in_process_grades(pool):
    """Every answer, round and level graded in a worker equals bot.rubric.grade in this process."""
    assert pool.pooled and len(pool.worker_pids()) == 2
    content = pool.content
    for text in ANSWERS:
        for round_id in [*content.order, "sql"]:
            for level in ("junior", "senior"):
                expected = grade(text, round_id, level, content=content, id="42")
                assert pool(text, round_id, level, content=content, id="42") == expected


def test_grading_errors_reach_the_caller(pool):
    """An unknown round raises the same ValueError through the pool as in-process."""
    with pytest.raises(ValueError, match="unknown round"):
        pool("an answer", "no-such-round", "mid", content=pool.content)


def test_workers_load_the_team_content_directories(tmp_path):
    """A round that only a team directory defines is graded in the workers, with the team's weights."""
    (tmp_path / "gauntlet.yml").write_text(textwrap.dedent("""
        gauntlet:
          rounds:
            comms_drill:
              title: Status page
              reached_from: constraint
              prompt: Write the status-page update you would post right now.
              tests: Customer-facing wording.
              weighs: {communication: 100}
              model_answer: "14:20 update: checkout is recovering; next update at 14:35."
    """))
    team = load_content([tmp_path])
    with PoolGrader(1, content_dirs=[tmp_path]) as grader:
        assert grader.pooled
        text = "14:20 update: checkout is failing for some customers; we are rolling back, next update 14:35."
        got = grader(text, "comms_drill", "mid", content=grader.content)
        assert got == grade(text, "comms_drill", "mid", content=team)
        assert [d.key for d in got.dimensions if d.max] == ["communication"]


def test_a_killed_worker_does_not_lose_the_next_grade():
    """After one worker is killed the next grade still succeeds, from a recreated pool."""
    with PoolGrader(2) as grader:
        before = grader.worker_pids()
        os.kill(before[0], signal.SIGKILL)
        time.sleep(0.2)
        expected = grade(ANSWERS[0], "opening", "mid", content=grader.content)
        assert grader(ANSWERS[0], "opening", "mid", content=grader.content) == expected
        assert grader.pooled
        after = grader.worker_pids()
        assert len(after) == 2 and not set(after) & set(before)


def test_workers_dying_twice_in_a_row_fall_back_to_in_process_grading():
    """When the recreated pool breaks before grading anything, grades come from this process."""
    with PoolGrader(1) as grader:
        os.kill(grader.worker_pids()[0], signal.SIGKILL)
        grader._restarted = True  # as if the pool had already been recreated once since the last grade
        time.sleep(0.2)
        expected = grade(ANSWERS[1], "probe", "mid", content=grader.content)
        assert grader(ANSWERS[1], "probe", "mid", content=grader.content) == expected
        assert not grader.pooled


def test_shutdown_stops_every_worker_and_grading_carries_on_in_process():
    """shutdown() ends the worker processes; a grade asked for afterwards is still answered."""
    grader = PoolGrader(2).start()
    pids = grader.worker_pids()
    grader.shutdown()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not grader.pooled
    assert grader(ANSWERS[0], "opening").score == grade(ANSWERS[0], "opening", content=grader.content).score


def test_other_content_is_graded_in_process(pool, tmp_path):
    """Content other than the pool's is graded here against that content, not the workers' content."""
    (tmp_path / "gauntlet.yml").write_text(textwrap.dedent("""
        gauntlet:
          rounds:
            opening:
              title: Our opening
              prompt: Tell us about the last payments incident you handled.
              tests: Whether the story has detection and impact.
              weighs: {detection: 60, impact: 40}
              model_answer: Our ledger alert fired at 09:12 and I led the response.
    """))
    team = load_content([tmp_path])
    expected = grade(ANSWERS[0], "opening", "mid", content=team)
    assert pool(ANSWERS[0], "opening", "mid", content=team) == expected


def test_worker_count_comes_from_the_environment(monkeypatch):
    """GAUNTLET_GRADE_WORKERS sets the worker count (0: in-process); unset, it is 1 or 2."""
    monkeypatch.setenv("GAUNTLET_GRADE_WORKERS", "0")
    assert default_workers() == 0
    grader = PoolGrader().start()
    assert not grader.pooled and grader(ANSWERS[0], "opening").score >= 0
    monkeypatch.setenv("GAUNTLET_GRADE_WORKERS", "3")
    assert default_workers() == 3
    monkeypatch.delenv("GAUNTLET_GRADE_WORKERS")
    assert default_workers() in (1, 2)
