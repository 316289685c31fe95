"""Points and leaderboards: periods, deterministic tie-breaks, opt-out, streaks, personal stats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from bot.content import Prompt
from bot.daily import post_daily_prompt
from bot.leaderboard import (
    BoardRow,
    board,
    is_opted_out,
    person_stats,
    rank_change,
    rank_of,
    recent_scorecards,
    set_opt_out,
    streak,
)
from bot.store.db import session_scope
from bot.store.models import Answer, GradeRecord, Interview, PointEntry

WS = "T1"
BANK = SimpleNamespace(prompts=tuple(Prompt(f"p{i}", "outage", f"Question {i}?") for i in range(5)))
# Thursday 26 March 2026: its ISO week starts Monday 23 March 00:00 UTC.
NOW = datetime(2026, 3, 26, 12, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def scored(db, user: str, rounds: dict[str, int], at: datetime, *, channel: str | None = None,
           source: str = "cli", thread_ts: str | None = None, status: str = "finished") -> int:
    """An interview with one point entry per graded round, as the engine writes them."""
    with session_scope(db) as s:
        interview = Interview(
            workspace=WS, user_id=user, source=source, channel=channel, thread_ts=thread_ts, round="opening",
            status=status, score=round(sum(rounds.values()) / len(rounds)) if rounds else None,
            created_at=at, updated_at=at, finished_at=at if status != "active" else None,
        )
        s.add(interview)
        s.flush()
        for i, (rid, pts) in enumerate(rounds.items()):
            s.add(PointEntry(workspace=WS, user_id=user, interview_id=interview.id, round=rid, points=pts,
                             channel=channel, created_at=at + timedelta(seconds=i)))
        return interview.id


def rows(result: list[BoardRow]) -> list[tuple[str, int]]:
    return [(r.user_id, r.points) for r in result]


# ---- periods ---------------------------------------------------------------------------------------


def test_boards_sum_points_per_period(db):
    """Week is the ISO week in UTC, month the calendar month in UTC, all is everything."""
    scored(db, "UA", {"opening": 50}, utc(2026, 2, 20))  # February
    scored(db, "UA", {"opening": 40}, utc(2026, 3, 22, 23, 59))  # Sunday before this week
    scored(db, "UB", {"opening": 30}, utc(2026, 3, 23, 0, 0))  # Monday 00:00, this week
    assert rows(board(db, WS, "week", now=NOW)) == [("UB", 30)]
    assert rows(board(db, WS, "month", now=NOW)) == [("UA", 40), ("UB", 30)]
    assert rows(board(db, WS, "all", now=NOW)) == [("UA", 90), ("UB", 30)]
    assert board(db, WS, "week", now=utc(2026, 3, 30, 0, 0)) == []


def test_unknown_period_is_refused(db):
    """A period other than week, month or all is a ValueError naming the choices."""
    with pytest.raises(ValueError) as err:
        board(db, WS, "year")
    assert str(err.value) == "Unknown period 'year'. Choose one of: week, month, all."


def test_board_can_count_one_channel_and_be_limited(db):
    """A channel board counts only points earned in that channel; limit cuts the list."""
    scored(db, "UA", {"opening": 80}, utc(2026, 3, 24), channel="C1")
    scored(db, "UB", {"opening": 90}, utc(2026, 3, 24), channel="C2")
    scored(db, "UC", {"opening": 70}, utc(2026, 3, 24), channel="C1")
    assert rows(board(db, WS, "week", now=NOW, channel="C1")) == [("UA", 80), ("UC", 70)]
    assert rows(board(db, WS, "week", now=NOW, limit=1)) == [("UB", 90)]


# ---- tie-breaks ------------------------------------------------------------------------------------


def test_ties_go_to_fewer_rounds_then_earliest_then_user_id(db):
    """Equal points rank by fewer rounds, then who got there first, then user id; ranks are distinct."""
    scored(db, "U_MANY", {"opening": 40, "probe": 40}, utc(2026, 3, 23, 9))  # 80 over two rounds
    scored(db, "U_LATE", {"opening": 80}, utc(2026, 3, 24, 9))
    scored(db, "U_EARLY", {"opening": 80}, utc(2026, 3, 23, 9))
    scored(db, "U_B", {"opening": 60}, utc(2026, 3, 23, 10))
    scored(db, "U_A", {"opening": 60}, utc(2026, 3, 23, 10))
    result = board(db, WS, "week", now=NOW)
    assert [(r.rank, r.user_id) for r in result] == [
        (1, "U_EARLY"), (2, "U_LATE"), (3, "U_MANY"), (4, "U_A"), (5, "U_B")
    ]
    assert [r.rounds for r in result] == [1, 1, 2, 1, 1]
    assert rank_of(db, WS, "U_MANY", "week", now=NOW) == 3


# ---- opting out --------------------------------------------------------------------------------------


def test_opted_out_people_are_never_shown(db):
    """After opting out a person disappears from every board and has no rank; opting in brings them back."""
    scored(db, "UA", {"opening": 90}, utc(2026, 3, 24))
    scored(db, "UB", {"opening": 50}, utc(2026, 3, 24))
    set_opt_out(db, WS, "UA", True)
    assert is_opted_out(db, WS, "UA")
    for period in ("week", "month", "all"):
        assert rows(board(db, WS, period, now=NOW)) == [("UB", 50)]
    assert rank_of(db, WS, "UA", now=NOW) is None
    assert rank_of(db, WS, "UB", now=NOW) == 1
    set_opt_out(db, WS, "UA", False)
    assert rows(board(db, WS, "week", now=NOW)) == [("UA", 90), ("UB", 50)]


def test_opted_out_person_still_sees_own_stats(db):
    """Opting out hides a person from boards, not from their own stats; practice still scores."""
    scored(db, "UA", {"opening": 90}, utc(2026, 3, 24))
    set_opt_out(db, WS, "UA", True)
    stats = person_stats(db, WS, "UA", now=NOW)
    assert stats.opted_out and stats.points_all == 90
    assert stats.rank_all is None and stats.rank_week is None


def test_opt_out_creates_the_person_once(db):
    """Opting out twice and in again works for someone the store has never seen."""
    set_opt_out(db, WS, "U_NEW", True)
    set_opt_out(db, WS, "U_NEW", True)
    assert is_opted_out(db, WS, "U_NEW")
    set_opt_out(db, WS, "U_NEW", False)
    assert not is_opted_out(db, WS, "U_NEW")


# ---- rank change -------------------------------------------------------------------------------------


def test_rank_change_shows_what_an_interview_did(db):
    """An interview lifting a person past another reports places gained; a first one reports a debut."""
    scored(db, "UA", {"opening": 50}, utc(2026, 3, 23))
    scored(db, "UB", {"opening": 70}, utc(2026, 3, 23))
    interview_id = scored(db, "UA", {"opening": 60}, utc(2026, 3, 24))
    change = rank_change(db, WS, "UA", interview_id, now=NOW)
    assert (change.before, change.after, change.places) == (2, 1, 1)
    assert change.describe() == "Up 1 place to #1 all time."
    debut = scored(db, "UC", {"opening": 10}, utc(2026, 3, 25))
    change = rank_change(db, WS, "UC", debut, period="week", now=NOW)
    assert change.describe() == "New on the board this week at #3."


# ---- streaks -----------------------------------------------------------------------------------------


def prompt_day(db, day: date, channel: str = "C1") -> str:
    """Post the day's prompt and return its thread ts."""
    return post_daily_prompt(db, BANK, WS, channel, day, lambda ch, p: f"{day:%Y%m%d}.{ch}").message_ts


def answered(db, user: str, ts: str, day: date, *, channel: str = "C1", source: str = "thread") -> None:
    """The person answered the prompt thread `ts` (a thread interview there) on `day`."""
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    scored(db, user, {"opening": 50}, at, channel=channel, source=source, thread_ts=ts)


def test_streak_counts_prompt_days_across_a_weekend(db):
    """Answering Friday, Monday and Tuesday is a three-day streak: the weekend had no prompt."""
    days = [date(2026, 3, 26), date(2026, 3, 27), date(2026, 3, 30), date(2026, 3, 31)]  # Thu Fri Mon Tue
    ts = {d: prompt_day(db, d) for d in days}
    for d in days[1:]:
        answered(db, "UA", ts[d], d)
    assert streak(db, WS, "UA", today=date(2026, 3, 31)) == 3


def test_today_unanswered_does_not_break_the_streak(db):
    """Today's prompt not answered yet leaves the streak intact; a missed earlier prompt day ends it."""
    mon, tue, wed = date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1)
    ts = {d: prompt_day(db, d) for d in (mon, tue, wed)}
    answered(db, "UA", ts[mon], mon)
    answered(db, "UA", ts[tue], tue)
    answered(db, "UB", ts[mon], mon)
    assert streak(db, WS, "UA", today=wed) == 2
    assert streak(db, WS, "UB", today=wed) == 0  # Tuesday was missed
    answered(db, "UA", ts[wed], wed)
    assert streak(db, WS, "UA", today=wed) == 3


def test_only_prompt_thread_answers_count_towards_a_streak(db):
    """Prompt days of every channel count; a DM practice on a prompt day does not keep the streak."""
    mon, tue = date(2026, 3, 30), date(2026, 3, 31)
    ts_mon = prompt_day(db, mon, "C1")
    ts_tue = prompt_day(db, tue, "C2")
    answered(db, "UA", ts_mon, mon, channel="C1")
    answered(db, "UA", ts_tue, tue, channel="C2")
    assert streak(db, WS, "UA", today=tue) == 2
    answered(db, "UB", ts_mon, mon, channel="C1")
    answered(db, "UB", "dm-thread", tue, channel="D1", source="dm")
    assert streak(db, WS, "UB", today=date(2026, 4, 1)) == 0


def test_board_rows_carry_streaks(db):
    """Each board row shows the person's current streak."""
    mon = date(2026, 3, 30)
    answered(db, "UA", prompt_day(db, mon), mon)
    [row] = board(db, WS, "week", now=utc(2026, 3, 30, 18, 0))
    assert row == BoardRow(rank=1, user_id="UA", points=50, rounds=1, streak=1)


# ---- personal stats ----------------------------------------------------------------------------------


def test_person_stats_summarise_practice(db):
    """`/gauntlet me` shows points and ranks per period, interviews, averages, best and weakest dimension."""
    first = scored(db, "UA", {"opening": 80, "probe": 40}, utc(2026, 3, 2))
    scored(db, "UA", {"opening": 90}, utc(2026, 3, 24))
    scored(db, "UA", {"opening": 20}, utc(2026, 3, 25), status="active")
    scored(db, "UB", {"opening": 100, "probe": 100}, utc(2026, 3, 3))
    with session_scope(db) as s:
        answer = Answer(interview_id=first, workspace=WS, user_id="UA", round="opening", text="…",
                        status="graded", created_at=utc(2026, 3, 2))
        s.add(answer)
        s.flush()
        s.add(GradeRecord(
            answer_id=answer.id, interview_id=first, workspace=WS, user_id="UA", round="opening", score=60,
            created_at=utc(2026, 3, 2),
            dimensions=[
                {"key": "timeline", "label": "Timeline", "score": 1, "max": 4},
                {"key": "detection", "label": "Detection", "score": 3, "max": 4},
                {"key": "impact", "label": "Quantified impact", "score": 0, "max": 0},
            ],
        ))
    stats = person_stats(db, WS, "UA", now=NOW)
    assert (stats.points_week, stats.points_month, stats.points_all) == (110, 230, 230)
    assert (stats.rank_week, stats.rank_all) == (1, 1)
    assert stats.interviews == 2 and stats.rounds_graded == 4
    assert stats.average_score == 58 and stats.best_score == 90
    assert (stats.weakest_dimension, stats.weakest_dimension_key) == ("Timeline", "timeline")
    assert not stats.opted_out and stats.streak == 0


def test_person_without_practice_has_empty_stats(db):
    """Someone who never practised gets zeros and no ranks, not an error."""
    stats = person_stats(db, WS, "U_NOBODY", now=NOW)
    assert stats.points_all == 0 and stats.rank_all is None
    assert stats.average_score is None and stats.best_score is None and stats.weakest_dimension is None


def test_recent_scorecards_newest_first(db):
    """Recent scorecards list finished and stopped interviews, newest first, with their round counts."""
    older = scored(db, "UA", {"opening": 50}, utc(2026, 3, 1))
    stopped = scored(db, "UA", {"opening": 70, "probe": 30}, utc(2026, 3, 5), status="stopped")
    scored(db, "UA", {"opening": 90}, utc(2026, 3, 6), status="active")
    cards = recent_scorecards(db, WS, "UA")
    assert [(c.interview_id, c.status, c.score, c.rounds) for c in cards] == [
        (stopped, "stopped", 50, 2), (older, "finished", 50, 1)
    ]
    assert cards[0].finished_at == utc(2026, 3, 5)
    assert len(recent_scorecards(db, WS, "UA", limit=1)) == 1
