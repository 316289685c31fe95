"""Progress per person and dimension: stuck detection, the weakest dimension, and which round drills it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cohort_factories import graded

from bot.cohorts.progress import (
    is_stuck,
    load_records,
    member_progress,
    next_drill_round,
    stuck,
    weakest_dimension,
    weekly_dimension_averages,
)
from bot.content import default_content

WS = "T1"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("series, expected", [
    ([0.4, 0.4, 0.42], True),  # flat, below mastery
    ([0.4, 0.3, 0.35], True),  # got worse
    ([0.4, 0.4, 0.5], False),  # improved by ten points
    ([0.9, 0.9, 0.9], False),  # flat but mastered
    ([0.9, 0.6, 0.5], True),  # sliding back below mastery
    ([0.4, 0.4], False),  # too few attempts to judge
    ([0.1, 0.2, 0.5, 0.5, 0.5], True),  # only the last three attempts count
])
def test_stuck_means_no_gain_over_the_last_attempts_below_mastery(series, expected):
    """A dimension is stuck when none of the last N-1 attempts beat the first of the window by five points."""
    assert is_stuck(series, 3) is expected


def test_progress_series_follow_the_stored_grades_in_time_order(db):
    """Each dimension's series lists the person's fractions oldest first; other people are not mixed in."""
    for i, frac in enumerate([0.2, 0.5, 0.8]):
        graded(db, WS, "U1", at=T0 + timedelta(days=i), dims={"timeline": frac, "impact": 0.3})
    graded(db, WS, "U2", at=T0, dims={"timeline": 1.0})
    progress = member_progress(db, WS, "U1")
    assert [p.fraction for p in progress.series["timeline"]] == [0.2, 0.5, 0.8]
    assert progress.attempts == 3
    assert [s.key for s in stuck(progress)] == ["impact"]
    assert weakest_dimension(db, WS, "U1") == "impact"
    assert weakest_dimension(db, WS, "UNOBODY") is None


def test_next_drill_round_is_the_one_weighing_the_dimension_most():
    """Communication is drilled through the constraint round, migration safety through the SQL round."""
    content = default_content()
    assert next_drill_round(content, "communication") == "constraint"
    assert next_drill_round(content, "migration_safety") == "sql"
    assert next_drill_round(content, "measurement") == "synthesis"
    assert next_drill_round(content, None) == content.order[0]
    with pytest.raises(ValueError, match="no round weighs"):
        next_drill_round(content, "juggling")


def test_weekly_averages_bucket_grades_into_seven_day_windows(db):
    """Each window ending at `end` averages the dimension percentages of the grades inside it."""
    end = T0 + timedelta(days=14)
    graded(db, WS, "U1", at=T0 + timedelta(hours=1), dims={"timeline": 0.2})
    graded(db, WS, "U1", at=T0 + timedelta(days=2), dims={"timeline": 0.4})
    graded(db, WS, "U1", at=T0 + timedelta(days=8), dims={"timeline": 0.9})
    graded(db, WS, "U1", at=end + timedelta(hours=1), dims={"timeline": 0.0})  # after the end: left out
    weeks = weekly_dimension_averages(load_records(db, WS), end=end, weeks=2)
    assert [w.start for w in weeks] == [T0.date(), (T0 + timedelta(days=7)).date()]
    assert [round(w.averages["timeline"]) for w in weeks] == [30, 90]
    assert [w.answers for w in weeks] == [2, 1]
