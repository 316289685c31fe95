"""Points and leaderboards: periods, deterministic tie-breaks, opt-out, streaks, personal stats."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, insert
from sqlmodel import Session, select

from bot.boards.leaderboard import (
    ALL_KEY,
    PERIODS,
    BoardRow,
    board,
    is_opted_out,
    period_key,
    person_stats,
    rank_change,
    rank_of,
    rebuild_totals,
    recent_scorecards,
    set_opt_out,
    streak,
)
from bot.boards.seasons import past_seasons, season_board, season_by_key
from bot.content import Prompt, default_content
from bot.daily.daily import post_daily_prompt
from bot.interview.engine import InterviewEngine
from bot.store.db import session_scope
from bot.store.models import Answer, BoardTotal, GradeRecord, Interview, PointEntry
from bot.store.privacy import forget_person
from bot.store.schema import upgrade
from bot.terminal.cli import main as cli_main

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
    return post_daily_prompt(db, BANK, WS, channel, day, lambda ws, ch, p: f"{day:%Y%m%d}.{ch}").message_ts


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


# ---- running totals ----------------------------------------------------------------------------------


def score_grader(text, round_id, level="mid", *, content=None, id=None):
    """A grader that gives the score written in the answer as `score=NN`."""
    from bot.rubric.types import Grade

    score = int(re.search(r"score=(\d+)", text).group(1))
    return Grade(round=round_id, level=level, score=score, dimensions=[],
                 flags=re.findall(r"flag=(\w+)", text), flag_details=[], summary="scripted",
                 verdict="Hire", signals=[], id=id)


def recount(db, *, without_interview: int | None = None) -> dict[tuple, tuple[int, int, datetime]]:
    """Every total summed from scratch from the point entries, keyed like BoardTotal."""
    sums: dict[tuple, list] = {}
    with Session(db) as s:
        for e in s.exec(select(PointEntry).where(PointEntry.interview_id != without_interview)).all():
            for period in PERIODS:
                for channel in ("", e.channel) if e.channel else ("",):
                    key = (e.workspace, period, period_key(period, e.created_at), channel, e.user_id)
                    t = sums.setdefault(key, [0, 0, None, e.created_at])
                    t[0] += e.points
                    t[1] += 1
                    if e.points > 0 and (t[2] is None or e.created_at > t[2]):
                        t[2] = e.created_at
                    t[3] = min(t[3], e.created_at)
    return {k: (p, n, scored or first) for k, (p, n, scored, first) in sums.items()}


def stored(db) -> dict[tuple, tuple[int, int, datetime]]:
    with Session(db) as s:
        return {(t.workspace, t.period_kind, t.period_key, t.channel, t.user_id):
                (t.points, t.rounds, t.reached) for t in s.exec(select(BoardTotal)).all()}


def full_ranking(db, workspace: str, period: str, now: datetime, channel: str | None = None, *,
                 without_interview: int | None = None) -> list[str]:
    """The board's order computed by sorting every recounted total (the definition, not the query)."""
    key = period_key(period, now)
    totals = recount(db, without_interview=without_interview)
    hidden = {u for u in {k[4] for k in totals} if is_opted_out(db, workspace, u)}
    mine = [(k[4], v) for k, v in totals.items()
            if k[:4] == (workspace, period, key, channel or "") and k[4] not in hidden]
    mine.sort(key=lambda r: (-r[1][0], r[1][1], r[1][2], r[0]))
    return [user for user, _ in mine]


def test_totals_equal_a_recount_after_awards_retries_and_regrades(db):
    """Awards, a better and a worse retry, and an edit that lowers a grade to zero leave every total equal
    to a recount."""
    engine = InterviewEngine(db, default_content(), score_grader)
    first = engine.start(workspace=WS, user_id="UA", source="thread", channel="C1", thread_ts="1.0")
    engine.handle(first.interview_id, "score=40", message_ts="2.0")
    engine.handle(first.interview_id, "retry")
    engine.handle(first.interview_id, "score=70")  # better: the points rise to 70
    engine.handle(first.interview_id, "retry")
    engine.handle(first.interview_id, "score=20")  # worse: 70 stands
    other = engine.start(workspace=WS, user_id="UB", source="thread", channel="C2", thread_ts="3.0")
    engine.handle(other.interview_id, "flag=hero score=90", message_ts="4.0")
    assert engine.regrade_edit("4.0", "score=0") is not None  # the regrade recomputes: 90 becomes 0
    cli = engine.start(workspace=WS, user_id="UB", source="cli")
    engine.handle(cli.interview_id, "score=55")
    totals = stored(db)
    assert totals == recount(db)
    assert totals[(WS, "all", ALL_KEY, "", "UA")][:2] == (70, 1)  # three attempts at one round
    assert totals[(WS, "all", ALL_KEY, "C2", "UB")][:2] == (0, 1)
    assert rows(board(db, WS, "all")) == [("UA", 70), ("UB", 55)]


def test_totals_follow_entries_that_are_moved_or_deleted(db):
    """An entry moved to another day or channel, or deleted, leaves its old totals; empty totals go."""
    interview_id = scored(db, "UA", {"opening": 30, "probe": 50}, utc(2026, 2, 27), channel="C1")
    scored(db, "UB", {"opening": 60}, utc(2026, 3, 24), channel="C1")
    with session_scope(db) as s:
        probe = s.exec(select(PointEntry).where(PointEntry.interview_id == interview_id,
                                                PointEntry.round == "probe")).one()
        probe.created_at, probe.channel = utc(2026, 3, 25), "C2"
        s.add(probe)
    assert stored(db) == recount(db)
    assert rows(board(db, WS, "month", now=NOW, channel="C2")) == [("UA", 50)]
    with session_scope(db) as s:
        for entry in s.exec(select(PointEntry).where(PointEntry.interview_id == interview_id)).all():
            s.delete(entry)
    assert stored(db) == recount(db)
    assert {k[4] for k in stored(db)} == {"UB"}


def test_a_rolled_back_award_leaves_no_total(db):
    """Totals are written in the entry's own transaction, so a failed unit of work keeps neither."""
    with pytest.raises(RuntimeError), session_scope(db) as s:
        interview = Interview(workspace=WS, user_id="UA", source="cli", round="opening")
        s.add(interview)
        s.flush()
        s.add(PointEntry(workspace=WS, user_id="UA", interview_id=interview.id, round="opening", points=80))
        s.flush()
        raise RuntimeError("the reply could not be stored")
    assert stored(db) == {}


def test_board_and_ranks_follow_the_documented_order_on_many_ties(db):
    """On a board full of ties, board(), rank_of() and rank_change() agree with sorting every total."""
    points = [50, 50, 80, 0, 50, 80, 30, 50]
    for i, p in enumerate(points):
        user = f"U{i % 5}"
        at = utc(2026, 3, 23 + i % 3, 9 + (i * 7) % 5)
        scored(db, user, {"opening": p} if i % 2 else {"opening": p, "probe": 0}, at,
               channel="C1" if i % 3 else "C2")
    set_opt_out(db, WS, "U3", True)
    for period in PERIODS:
        for channel in (None, "C1", "C2"):
            expected = full_ranking(db, WS, period, NOW, channel)
            assert [r.user_id for r in board(db, WS, period, now=NOW, channel=channel, limit=50)] == expected
            for user in (f"U{i}" for i in range(6)):
                rank = expected.index(user) + 1 if user in expected else None
                assert rank_of(db, WS, user, period, now=NOW, channel=channel) == rank
    last = scored(db, "U4", {"opening": 100}, utc(2026, 3, 25, 23))
    change = rank_change(db, WS, "U4", last, period="week", now=NOW)
    before = full_ranking(db, WS, "week", NOW, without_interview=last)
    after = full_ranking(db, WS, "week", NOW)
    assert (change.before, change.after) == (before.index("U4") + 1, after.index("U4") + 1)


def test_forget_me_removes_the_person_s_totals_and_keeps_everyone_else_s(db):
    """Forgetting a person deletes their totals (found by the user_id column) and leaves others exact."""
    scored(db, "UGONE", {"opening": 90, "probe": 40}, utc(2026, 3, 24), channel="C1")
    scored(db, "UKEEP", {"opening": 60}, utc(2026, 3, 24), channel="C1")
    counts = forget_person(db, WS, "UGONE")
    assert counts["boardtotal"] == 6  # all time, this week and this month; every channel and C1
    assert {k[4] for k in stored(db)} == {"UKEEP"}
    assert stored(db) == recount(db)
    assert rows(board(db, WS, "week", now=NOW)) == [("UKEEP", 60)]


def test_opting_out_hides_a_person_without_losing_their_totals(db):
    """Opted-out people keep exact totals (their own stats) and come back at the right rank on rejoining."""
    scored(db, "UA", {"opening": 90}, utc(2026, 3, 24))
    scored(db, "UB", {"opening": 50}, utc(2026, 3, 24))
    set_opt_out(db, WS, "UA", True)
    scored(db, "UA", {"opening": 10}, utc(2026, 3, 25))
    assert stored(db) == recount(db)
    assert rank_of(db, WS, "UB", "week", now=NOW) == 1
    set_opt_out(db, WS, "UA", False)
    assert rows(board(db, WS, "week", now=NOW)) == [("UA", 100), ("UB", 50)]


def test_rebuild_recomputes_totals_after_writes_that_bypass_the_app(db):
    """Points inserted in bulk outside the ORM are counted after rebuild_totals, one workspace or all."""
    interview_id = scored(db, "UA", {"opening": 40}, utc(2026, 3, 24))
    with db.begin() as conn:
        conn.execute(insert(PointEntry.__table__), [
            {"workspace": WS, "user_id": "UA", "interview_id": interview_id, "round": "probe", "points": 30,
             "channel": "C1", "created_at": utc(2026, 3, 25)},
            {"workspace": "T2", "user_id": "UZ", "interview_id": interview_id, "round": "synthesis",
             "points": 5, "channel": None, "created_at": utc(2026, 1, 5)},
        ])
    assert stored(db) != recount(db)
    assert rebuild_totals(db, WS) == 6  # all time, the week and the month; every channel and C1
    assert {k: v for k, v in stored(db).items() if k[0] == WS} == {
        k: v for k, v in recount(db).items() if k[0] == WS}
    assert rebuild_totals(db) == len(recount(db))
    assert stored(db) == recount(db)
    assert rows(board(db, WS, "week", now=NOW)) == [("UA", 70)]


def test_the_rebuild_board_command_recomputes_totals(sqlite_db, capsys):
    """`gauntlet db rebuild-board` rebuilds lost totals, and refuses a database without the schema."""
    scored(sqlite_db, "UA", {"opening": 40}, utc(2026, 3, 24), channel="C1")
    with sqlite_db.begin() as conn:
        conn.execute(delete(BoardTotal.__table__))
    url = sqlite_db.url.render_as_string(hide_password=False)
    assert cli_main(["db", "rebuild-board", "--database-url", url, "--workspace", WS]) == 0
    said = capsys.readouterr().out
    assert f"leaderboard totals of workspace {WS} recomputed from the points (6 rows)" in said
    assert stored(sqlite_db) == recount(sqlite_db)
    empty = url.replace("test.db", "empty.db")
    assert cli_main(["db", "rebuild-board", "--database-url", empty]) == 1
    assert "Run: gauntlet db upgrade" in capsys.readouterr().err


@pytest.fixture
def database_at_0001(empty_db):
    """A database migrated to revision 0001 only (before running totals), on each backend."""
    upgrade(empty_db, "0001")
    return empty_db


def test_upgrading_a_live_database_backfills_the_totals(database_at_0001):
    """Points awarded before the running totals existed are summed by the migration: boards are unchanged."""
    db = database_at_0001
    entries = []
    with db.begin() as conn:
        for i in range(40):
            user, at = f"U{i % 7}", utc(2026, 2, 20) + timedelta(days=i, hours=i % 5)
            [interview_id] = conn.execute(insert(Interview.__table__).returning(Interview.__table__.c.id), [
                {"workspace": WS, "user_id": user, "source": "thread", "channel": f"C{i % 2}", "level": "mid",
                 "status": "finished", "round": "opening", "asked_probes": [], "path": [], "done": [],
                 "created_at": at, "updated_at": at}]).scalars().all()
            entries += [{"workspace": WS, "user_id": user, "interview_id": interview_id, "round": r,
                         "points": (i * 37 + k * 11) % 101 if i % 9 else 0, "channel": f"C{i % 2}",
                         "created_at": at + timedelta(minutes=k)} for k, r in enumerate(("opening", "probe"))]
        conn.execute(insert(PointEntry.__table__), entries)
    assert upgrade(db).state == "ok"
    assert stored(db) == recount(db)
    for period in PERIODS:
        shown = [r.user_id for r in board(db, WS, period, now=NOW, limit=20)]
        assert shown == full_ranking(db, WS, period, NOW)


def test_seasons_read_the_monthly_totals(db):
    """A season board is the month's totals (per channel too), and past seasons start at the first points."""
    scored(db, "UA", {"opening": 40, "probe": 30}, utc(2026, 1, 10), channel="C1")
    scored(db, "UB", {"opening": 90}, utc(2026, 3, 2), channel="C2")
    scored(db, "UA", {"opening": 60}, utc(2026, 3, 3), channel="C1")
    march = season_by_key("2026-03")
    assert [(r.user_id, r.value, r.rounds) for r in season_board(db, WS, march)] == [
        ("UB", 90.0, 1), ("UA", 60.0, 1)]
    assert [r.user_id for r in season_board(db, WS, march, channel="C1")] == ["UA"]
    assert [s.key for s in past_seasons(db, WS, NOW)] == ["2026-02", "2026-01"]
    set_opt_out(db, WS, "UB", True)
    assert [r.user_id for r in season_board(db, WS, march)] == ["UA"]
