"""Peer mock interviews in the domain: who is grouped with whom each period (no repeat pair while a fresh
grouping exists, one trio when odd, paused members sit out), turn order and role swaps, and ratings
stored beside the bot's grade with the side-by-side view and the agreement figures."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import combinations

import pytest
from cohort_factories import groupings, scripted_grader
from sqlmodel import Session, select

from bot.cohorts.cohorts import (
    CohortCommandError,
    CohortPermissionError,
    add_members,
    create_cohort,
    pause_member,
)
from bot.cohorts.digest import build_digest
from bot.cohorts.export import export_rows, to_csv, to_json
from bot.cohorts.peers import (
    PairsCommand,
    PeerError,
    _key,
    accept,
    attach_session,
    choose_groups,
    cohort_agreement,
    due_pairings,
    groups_of,
    interviewer_script,
    mark_notified,
    order_group,
    parse_pairs_command,
    record_rating,
    set_pairs,
    side_by_side,
    start_turn,
    stored_comparisons,
    turns_of,
)
from bot.content import default_content
from bot.interview.engine import InterviewEngine
from bot.rubric.config import rubric_from
from bot.store.peers import PeerGroup, PeerRating, PeerSession
from bot.store.privacy import forget_person
from bot.terminal import cli

WS = "T1"
MONDAY = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)  # 10:00 in the manager's Europe/London is 09:00 UTC
CONTENT = default_content()


def repeats(grouping, met) -> int:
    return sum(1 for g in grouping for a, b in combinations(g, 2) if met[_key(a, b)])


def test_parser_reads_on_weekly_biweekly_and_off():
    """`pairs [NAME] on weekly|biweekly` and `pairs [NAME] off` parse; anything else explains the usage."""
    assert parse_pairs_command(["sre-prep", "on", "weekly"]) == PairsCommand("sre-prep", "weekly")
    assert parse_pairs_command(["on", "BIWEEKLY"]) == PairsCommand(None, "biweekly")
    assert parse_pairs_command(["sre-prep", "off"]) == PairsCommand("sre-prep", None)
    for bad in (["on"], ["sre-prep", "on", "daily"], [], ["sre-prep"]):
        with pytest.raises(CohortCommandError, match="Usage: /gauntlet cohort pairs"):
            parse_pairs_command(bad)


@pytest.mark.parametrize("n", range(4, 10))
def test_no_pair_repeats_while_a_fresh_grouping_exists(n):
    """Period after period, a repeated pair is chosen only when every possible grouping repeats one, and
    then no grouping repeats fewer; an even cohort meets everyone in n-1 periods."""
    people = [f"U{i}" for i in range(n)]
    met: Counter = Counter()
    for period in range(n):
        chosen = choose_groups(people, met)
        assert sorted(p for g in chosen for p in g) == people
        assert sum(1 for g in chosen if len(g) == 3) == n % 2 and all(len(g) in (2, 3) for g in chosen)
        fewest = min(repeats(g, met) for g in groupings(people))
        assert repeats(chosen, met) == fewest, f"period {period}"
        for g in chosen:
            for a, b in combinations(g, 2):
                met[_key(a, b)] += 1
        if n % 2 == 0 and period == n - 2:
            assert all(met[_key(a, b)] == 1 for a, b in combinations(people, 2))


def test_roles_swap_and_turns_go_round_the_group():
    """Whoever interviewed first last time goes second; in a trio each interviews the next one."""
    assert order_group(("UA", "UB"), [("UA", "UC")]) == ("UB", "UA")
    assert order_group(("UA", "UB"), [("UC", "UA"), ("UD", "UB")]) == ("UA", "UB")
    assert turns_of(("UA", "UB")) == [("UA", "UB"), ("UB", "UA")]
    assert turns_of(("UA", "UB", "UC")) == [("UA", "UB"), ("UB", "UC"), ("UC", "UA")]


def cohort_of(db, people=("UA", "UB", "UC", "UD", "UE")):
    cohort = create_cohort(db, workspace=WS, name="sre", created_by="UBOSS", now=MONDAY - timedelta(days=3),
                           creator_tz="Europe/London")
    add_members(db, cohort, "UBOSS", dict.fromkeys(people, "UTC"), now=MONDAY - timedelta(days=3))
    return cohort


def test_pairs_are_made_once_per_period_at_the_cohorts_time(db):
    """Before Monday's time nothing happens; at it every active member is grouped once, claims do not
    repeat, and a group stays due until its members have been told."""
    cohort = cohort_of(db)
    with pytest.raises(CohortPermissionError):
        set_pairs(db, cohort, "UA", "weekly", now=MONDAY - timedelta(days=1))
    program = set_pairs(db, cohort, "UBOSS", "weekly", now=MONDAY - timedelta(days=4))  # on a Thursday
    assert program.starts_on == MONDAY.date()  # too late in the week: the first pairs are next Monday's
    pause_member(db, cohort, "UBOSS", "UE", date(2026, 10, 19))
    assert due_pairings(db, MONDAY - timedelta(minutes=1)) == []
    due = due_pairings(db, MONDAY)
    assert {d.period for d in due} == {0} and len(due) == 2
    assert sorted(p for d in due for p in d.members) == ["UA", "UB", "UC", "UD"]  # UE is paused
    assert due_pairings(db, MONDAY + timedelta(hours=1)) == due  # not told yet: still due, not re-paired
    assert due_pairings(db, MONDAY + timedelta(days=3, hours=1)) == []  # too late in the week to tell
    for d in due:
        mark_notified(db, d.group_id, now=MONDAY)
    assert due_pairings(db, MONDAY + timedelta(days=2)) == []
    week2 = due_pairings(db, MONDAY + timedelta(days=7))
    assert sorted(p for d in week2 for p in d.members) == ["UA", "UB", "UC", "UD", "UE"]
    assert [len(d.members) for d in week2].count(3) == 1
    assert len(groups_of(db, cohort)) == 2 + 2
    later = create_cohort(db, workspace=WS, name="later", created_by="UBOSS", now=MONDAY)
    assert set_pairs(db, later, "UBOSS", "weekly", now=MONDAY + timedelta(days=2)).starts_on == MONDAY.date()


def test_biweekly_skips_the_week_between_and_off_stops_pairing(db):
    """Biweekly pairs every other Monday; turned off, nobody is paired; there is nothing to turn off twice."""
    cohort = cohort_of(db, ("UA", "UB"))
    set_pairs(db, cohort, "UBOSS", "biweekly", now=MONDAY)
    made = []
    for week in range(4):
        made += [d.period for d in due_pairings(db, MONDAY + timedelta(weeks=week))]
        for d in due_pairings(db, MONDAY + timedelta(weeks=week)):
            mark_notified(db, d.group_id, now=MONDAY)
    assert made == [0, 1]
    set_pairs(db, cohort, "UBOSS", None, now=MONDAY + timedelta(weeks=4))
    assert due_pairings(db, MONDAY + timedelta(weeks=4, hours=1)) == []
    other = create_cohort(db, workspace=WS, name="other", created_by="UBOSS", now=MONDAY)
    with pytest.raises(PeerError, match="not on"):
        set_pairs(db, other, "UBOSS", None, now=MONDAY)


def test_a_rating_is_stored_beside_the_bots_grade_and_compared(db):
    """The interviewer's rating of a round sits next to the bot's grade of the same answer; dimensions two
    steps apart are flagged with the bot's evidence, and the agreement figures count it."""
    cohort = cohort_of(db, ("UA", "UB"))
    set_pairs(db, cohort, "UBOSS", "weekly", now=MONDAY)
    (due,) = due_pairings(db, MONDAY)
    interviewer, interviewee = due.turns[0]
    with pytest.raises(PeerError, match="not in this pairing"):
        start_turn(db, due.group_id, "UX", now=MONDAY)
    turn = start_turn(db, due.group_id, interviewer, now=MONDAY)
    assert (turn.interviewer, turn.interviewee, turn.turn, turn.total, turn.resumed) == (
        interviewer, interviewee, 0, 2, False)
    engine = InterviewEngine(db, grader=scripted_grader)
    q = engine.start(workspace=WS, user_id=interviewee, source="peer", channel="GPAIR", thread_ts="1.1")
    attach_session(db, turn.session_id, channel="GPAIR", thread_ts="1.1", interview_id=q.interview_id)
    assert start_turn(db, due.group_id, interviewee, now=MONDAY).resumed  # the open turn, not a new one
    engine.handle(q.interview_id, "q=0.9 My opening story.")
    weighs = CONTENT.rounds["opening"].weighs
    ratings = dict.fromkeys(weighs, 4) | {"detection": 1}
    with pytest.raises(PeerError, match="Only the interviewer"):
        record_rating(db, turn.session_id, "opening", interviewee, "Hire", ratings, CONTENT, now=MONDAY)
    with pytest.raises(PeerError, match="Rate exactly"):
        record_rating(db, turn.session_id, "opening", interviewer, "Hire", {"detection": 1}, CONTENT,
                      now=MONDAY)
    with pytest.raises(PeerError, match="no graded answer"):
        record_rating(db, turn.session_id, "probe", interviewer, "Hire", dict.fromkeys(
            CONTENT.rounds["probe"].weighs, 2), CONTENT, now=MONDAY)
    rating = record_rating(db, turn.session_id, "opening", interviewer, "Lean Hire", ratings, CONTENT,
                           now=MONDAY)
    with pytest.raises(PeerError, match="already rated"):
        record_rating(db, turn.session_id, "opening", interviewer, "Hire", ratings, CONTENT, now=MONDAY)
    view = side_by_side(db, rating.id, CONTENT, rubric_from(None).labels)
    assert (view.human_verdict, view.bot_verdict) == ("Lean Hire", "Hire")
    assert [d.key for d in view.disagreements] == ["detection"]  # human 1 against the bot's 4
    assert {d.key for d in view.dimensions} == set(weighs)
    (comparison,) = stored_comparisons(db, workspace=WS, cohort="sre")
    assert comparison.human_verdict == "Lean Hire" and comparison.bot_dimensions["detection"] == 4
    report = cohort_agreement(db, WS, "sre")
    assert report.verdict.n == 1 and report.verdict.exact == 0.0 and report.verdict.adjacent == 1.0
    assert report.all_dimensions.n == len(weighs)


def rated_session(db):
    """A pair whose interviewer rated the opening of the first turn (detection 1 against the bot's 4)."""
    cohort = cohort_of(db, ("UA", "UB"))
    set_pairs(db, cohort, "UBOSS", "weekly", now=MONDAY)
    (due,) = due_pairings(db, MONDAY)
    interviewer, interviewee = due.turns[0]
    turn = start_turn(db, due.group_id, interviewer, now=MONDAY)
    engine = InterviewEngine(db, grader=scripted_grader)
    q = engine.start(workspace=WS, user_id=interviewee, source="peer", channel="GPAIR", thread_ts="1.1")
    attach_session(db, turn.session_id, channel="GPAIR", thread_ts="1.1", interview_id=q.interview_id)
    engine.handle(q.interview_id, "q=0.9 My opening story.")
    ratings = dict.fromkeys(CONTENT.rounds["opening"].weighs, 4) | {"detection": 1}
    with pytest.raises(PeerError, match="not accepted"):  # nothing is stored before both accepted
        record_rating(db, turn.session_id, "opening", interviewer, "Lean Hire", ratings, CONTENT, now=MONDAY)
    accept(db, due.group_id, interviewee)  # answering in the session does this in Slack
    record_rating(db, turn.session_id, "opening", interviewer, "Lean Hire", ratings, CONTENT, now=MONDAY)
    return interviewer, interviewee


def test_gauntlet_calibration_reads_the_ratings_stored_by_peer_mocks(sqlite_db, capsys):
    """Without --ratings the command reports on the database's peer-mock ratings, by cohort if asked."""
    url = str(sqlite_db.url)
    assert cli.main(["calibration", "--database-url", url]) == 1
    assert "no human ratings stored yet" in capsys.readouterr().err
    rated_session(sqlite_db)
    assert cli.main(["calibration", "--database-url", url, "--workspace", WS, "--cohort", "sre",
                     "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    n = len(CONTENT.rounds["opening"].weighs)
    # One answer: whatever the two said, chance would have said the same, so kappa is 0.
    assert report["verdict"] == {"n": 1, "exact": 0.0, "adjacent": 1.0, "kappa": 0.0}
    assert report["all_dimensions"]["n"] == n and report["all_dimensions"]["exact"] == (n - 1) / n
    assert report["dimensions"]["detection"] == {"n": 1, "exact": 0.0, "adjacent": 0.0, "kappa": 0.0}
    assert cli.main(["calibration", "--database-url", url, "--cohort", "sre"]) == 2
    assert "--workspace" in capsys.readouterr().err
    assert cli.main(["calibration", "--database-url", url, "--workspace", WS, "--cohort", "nope"]) == 2
    assert "No cohort called 'nope'" in capsys.readouterr().err


def test_digest_and_export_carry_the_ratings(sqlite_db):
    """The digest has the cohort's agreement figures and the export puts the rating beside the grade."""
    _, interviewee = rated_session(sqlite_db)
    digest = build_digest(sqlite_db, WS, "sre", now=MONDAY + timedelta(days=1))
    assert digest.agreement is not None and digest.agreement.verdict.n == 1
    (row,) = export_rows(sqlite_db, WS, "sre")
    assert (row.person, row.peer_verdict, row.peer_ratings["detection"]) == (interviewee, "Lean Hire", 1)
    header = to_csv([row]).splitlines()[0].split(",")
    assert header[-5:] == ["peer_verdict", "peer_ratings", "flags", "transcript_shared", "answer"]
    payload = json.loads(to_json([row], cohort="sre", now=MONDAY))
    assert payload["rows"][0]["peer_verdict"] == "Lean Hire"


def test_forget_me_takes_the_persons_turns_and_ratings_and_names_them_nowhere(sqlite_db):
    """Forgetting the interviewee deletes their turn and its ratings; forgetting the interviewer removes
    them from the pairing and the rating's author, leaving the other member's rated answers."""
    interviewer, interviewee = rated_session(sqlite_db)
    forget_person(sqlite_db, WS, interviewer)
    with Session(sqlite_db) as s:
        (group,) = s.exec(select(PeerGroup)).all()
        (rating,) = s.exec(select(PeerRating)).all()
        assert group.members == [interviewee] and interviewer not in group.accepted
        assert rating.rated_by != interviewer and rating.user_id == interviewee
    forget_person(sqlite_db, WS, interviewee)
    with Session(sqlite_db) as s:
        assert s.exec(select(PeerSession)).all() == [] and s.exec(select(PeerRating)).all() == []


def test_the_interviewers_script_has_each_rounds_question_probes_and_a_strong_answer():
    """Every main round appears with its question, the probes that may follow it, and the rubric's words."""
    script = interviewer_script(CONTENT, rubric_from(None))
    assert [r.round for r in script] == list(CONTENT.order)
    opening = script[0]
    assert opening.question.startswith("Tell me about a production incident")
    assert any("Leave the person out of it" in p for p in opening.probes)
    assert any(line.startswith("Detection (15%)") for line in opening.strong)
