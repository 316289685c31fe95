"""The weekly digest's data and chart, the terminal report, and season and improvement boards."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta

from cohort_factories import graded, person
from sqlmodel import Session

from bot.boards.seasons import improvement_board, past_seasons, season_board, season_by_key, season_of
from bot.cohorts.cohorts import add_members, create_cohort, due_drills, mark_drill_sent
from bot.cohorts.digest import build_digest, render_chart
from bot.store.models import Person
from bot.terminal.cohort_cli import register

WS = "T1"
T0 = datetime(2026, 10, 5, 0, 0, tzinfo=UTC)  # a Monday
NOW = T0 + timedelta(days=14)


def _two_weeks(db):
    cohort = create_cohort(db, workspace=WS, name="sre", created_by="UBOSS", now=T0, weekdays=(0,),
                           local_time="09:00")
    add_members(db, cohort, "UBOSS", {"UUP": "UTC", "UDOWN": "UTC", "UIDLE": "UTC"}, now=T0)
    person(db, WS, "UUP", name="Up", at=T0)
    week1, week2 = T0 + timedelta(days=2), T0 + timedelta(days=9)
    for at, up, down in ((week1, 0.3, 0.8), (week1 + timedelta(hours=1), 0.3, 0.8),
                         (week2, 0.7, 0.5), (week2 + timedelta(hours=1), 0.8, 0.5)):
        graded(db, WS, "UUP", at=at, dims={"timeline": up, "communication": 0.2})
        graded(db, WS, "UDOWN", at=at, dims={"timeline": down, "communication": 0.6})
    # Week two's Monday drill: sent to all three, answered by UUP only.
    for d in due_drills(db, datetime(2026, 10, 12, 9, 0, tzinfo=UTC)):
        iid = graded(db, WS, "UUP", at=datetime(2026, 10, 12, 10, tzinfo=UTC), dims={"timeline": 0.9,
                     "communication": 0.2}) if d.user_id == "UUP" else None
        mark_drill_sent(db, d.drill_id, interview_id=iid, now=datetime(2026, 10, 12, 9, 0, tzinfo=UTC))


def test_digest_reports_participation_averages_movers_and_who_is_stuck(db):
    """Numbers in the digest come from the week's drills and grades, compared with the week before."""
    _two_weeks(db)
    data = build_digest(db, WS, "sre", now=NOW)
    assert (data.drills_sent, data.drills_answered) == (3, 1)
    assert round(data.participation, 2) == 0.33
    members = {m.user_id: m for m in data.members}
    assert members["UUP"].display_name == "Up" and members["UIDLE"].answers == 0
    assert members["UUP"].change > 0 > members["UDOWN"].change
    assert [m.user_id for m in data.movers_up] == ["UUP"]
    assert [m.user_id for m in data.movers_down] == ["UDOWN"]
    assert data.active_members == 2
    assert ("UUP", "communication") in {(s.user_id, s.key) for s in data.stuck}
    assert ("UDOWN", "timeline") in {(s.user_id, s.key) for s in data.stuck}
    dims = {d.key: d for d in data.dimensions}
    # This week: UUP's three answers at 20% and UDOWN's two at 60%; last week two of each.
    assert (dims["communication"].average, dims["communication"].previous) == (36.0, 40.0)
    assert data.dimensions[0].key == "communication"  # weakest first
    assert data.managers == ["UBOSS"] and len(data.weeks) == 4


def test_chart_is_a_real_png(db, tmp_path):
    """render_chart writes a PNG with a line per dimension, and a readable one when there is no data."""
    _two_weeks(db)
    out = render_chart(build_digest(db, WS, "sre", now=NOW), tmp_path / "nested" / "chart.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    create_cohort(db, workspace=WS, name="empty", created_by="UBOSS", now=T0)
    empty = render_chart(build_digest(db, WS, "empty", now=NOW), tmp_path / "empty.png").read_bytes()
    assert empty[:8] == b"\x89PNG\r\n\x1a\n"


def test_gauntlet_report_writes_the_chart_from_the_terminal(sqlite_db, tmp_path, capsys):
    """`gauntlet report --cohort sre --out chart.png` prints a summary and writes the PNG."""
    _two_weeks(sqlite_db)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out = tmp_path / "chart.png"
    args = parser.parse_args(["report", "--cohort", "sre", "--out", str(out), "--workspace", WS,
                              "--database-url", str(sqlite_db.url)])
    assert args.func(args) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "Cohort sre: 3 members" in capsys.readouterr().out


def test_seasons_are_calendar_months_and_past_ones_stay_readable(db):
    """October's board counts October's points only; November starts from zero; October is still there."""
    graded(db, WS, "UA", at=datetime(2026, 10, 30, tzinfo=UTC), dims={"timeline": 0.8})
    graded(db, WS, "UB", at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC), dims={"timeline": 0.5})
    graded(db, WS, "UB", at=datetime(2026, 11, 1, tzinfo=UTC), dims={"timeline": 0.6})
    october = season_by_key("2026-10")
    assert october == season_of(date(2026, 10, 15)) and october.title == "October 2026"
    board = [(r.rank, r.user_id, r.value) for r in season_board(db, WS, october)]
    assert board == [(1, "UA", 80), (2, "UB", 50)]
    november = season_of(datetime(2026, 11, 20, tzinfo=UTC))
    assert [(r.user_id, r.value) for r in season_board(db, WS, november)] == [("UB", 60)]
    assert [s.key for s in past_seasons(db, WS, datetime(2026, 11, 20, tzinfo=UTC))] == ["2026-10"]
    assert season_of(datetime(2026, 12, 31, 23, tzinfo=UTC)).end == datetime(2027, 1, 1, tzinfo=UTC)


def test_boards_narrow_to_a_channel_or_cohort_and_hide_people_who_opted_out(db):
    """Channel boards count that channel, cohort boards their members; opted-out people never show."""
    at = datetime(2026, 10, 10, tzinfo=UTC)
    cohort = create_cohort(db, workspace=WS, name="sre", created_by="UBOSS", now=at - timedelta(days=1))
    add_members(db, cohort, "UBOSS", {"UA": "UTC"}, now=at - timedelta(days=1))
    graded(db, WS, "UA", at=at, dims={"timeline": 0.5}, channel="C1")
    graded(db, WS, "UB", at=at, dims={"timeline": 0.9}, channel="C2")
    graded(db, WS, "UHIDE", at=at, dims={"timeline": 1.0}, channel="C1")
    with Session(db) as s:
        s.add(Person(workspace=WS, user_id="UHIDE", opted_out=True, created_at=at))
        s.commit()
    season = season_of(at)
    assert [r.user_id for r in season_board(db, WS, season, channel="C1")] == ["UA"]
    assert [r.user_id for r in season_board(db, WS, season, cohort="sre")] == ["UA"]
    assert [r.user_id for r in season_board(db, WS, season)] == ["UB", "UA"]


def test_improvement_board_ranks_gains_against_each_persons_own_baseline(db):
    """A newcomer rising from 30 to 60 ranks above a veteran steady at 90."""
    start = datetime(2026, 9, 1, tzinfo=UTC)
    for i in range(3):
        graded(db, WS, "UVET", at=start + timedelta(days=i), dims={"timeline": 0.9})
    for i in range(3):
        graded(db, WS, "UVET", at=datetime(2026, 10, 2 + i, tzinfo=UTC), dims={"timeline": 0.9})
        graded(db, WS, "UNEW", at=datetime(2026, 10, 1, i, tzinfo=UTC), dims={"timeline": 0.3})
    graded(db, WS, "UNEW", at=datetime(2026, 10, 20, tzinfo=UTC), dims={"timeline": 0.6})
    graded(db, WS, "UONE", at=datetime(2026, 10, 20, tzinfo=UTC), dims={"timeline": 1.0})  # no baseline yet
    board = improvement_board(db, WS, season_of(date(2026, 10, 1)))
    assert [(r.user_id, r.value, r.baseline, r.current) for r in board] == [
        ("UNEW", 30.0, 30.0, 60.0), ("UVET", 0.0, 90.0, 90.0)]
