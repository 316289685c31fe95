"""Cohort consent: joining takes the member's acceptance, any member can leave, answer sharing is per
cohort and only with its managers, managers see nothing from before joining and no private drills
unless shared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cohort_factories import graded
from sqlalchemy import update
from sqlmodel import Session

from bot.cohorts.cohorts import (
    CohortError,
    accept_invitation,
    create_cohort,
    decline_invitation,
    due_drills,
    invite_members,
    invited,
    leave_cohort,
    members,
    set_share_answers,
)
from bot.cohorts.digest import build_digest
from bot.cohorts.export import export_rows
from bot.store.models import Interview
from bot.store.privacy import can_see_scores, can_see_transcript

WS = "T1"
T0 = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)  # a Monday


def _cohort(db, name="sre"):
    return create_cohort(db, workspace=WS, name=name, created_by="UBOSS", now=T0, weekdays=tuple(range(7)),
                         local_time="09:00")


def _private(db, interview_id: int) -> None:
    """Make a stored interview a drill the person did on their own, in their DM."""
    with Session(db) as s:
        s.exec(update(Interview).where(Interview.id == interview_id).values(source="dm"))  # type: ignore
        s.commit()


def test_an_invited_person_is_not_a_member_until_they_accept(db):
    """Invited people get no drills and show in no export; accepting makes them a member from then on."""
    cohort = _cohort(db)
    assert invite_members(db, cohort, "UBOSS", {"UANA": "UTC"}, now=T0) == ["UANA"]
    assert [m.user_id for m in invited(db, cohort)] == ["UANA"] and members(db, cohort) == []
    assert due_drills(db, T0 + timedelta(hours=1)) == []
    assert not can_see_scores(db, WS, "UBOSS", "UANA")
    graded(db, WS, "UANA", at=T0 + timedelta(hours=2), dims={"timeline": 0.5})  # before accepting
    accept_invitation(db, cohort.id, "UANA", now=T0 + timedelta(hours=3))
    assert [m.user_id for m in members(db, cohort)] == ["UANA"]
    assert can_see_scores(db, WS, "UBOSS", "UANA")
    assert export_rows(db, WS, "sre") == []  # nothing from before joining
    graded(db, WS, "UANA", at=T0 + timedelta(hours=4), dims={"timeline": 0.7})
    assert [r.score for r in export_rows(db, WS, "sre")] == [70]
    assert [d.user_id for d in due_drills(db, T0 + timedelta(days=1, hours=1, minutes=5))] == ["UANA"]


def test_declining_removes_the_invitation_and_a_stranger_cannot_accept_it(db):
    """Decline deletes the invitation; someone who was never invited cannot accept their way in."""
    cohort = _cohort(db)
    invite_members(db, cohort, "UBOSS", {"UANA": "UTC"}, now=T0)
    with pytest.raises(CohortError, match="no longer open"):
        accept_invitation(db, cohort.id, "USTRANGER", now=T0)
    assert decline_invitation(db, cohort.id, "UANA").name == "sre"
    assert invited(db, cohort) == [] and members(db, cohort) == []
    with pytest.raises(CohortError):
        accept_invitation(db, cohort.id, "UANA", now=T0)


def test_any_member_can_leave_and_managers_then_see_nothing(db):
    """A member leaves without a manager's say; their drills stop and managers lose sight of them."""
    cohort = _cohort(db)
    invite_members(db, cohort, "UBOSS", {"UANA": "UTC"}, now=T0)
    accept_invitation(db, cohort.id, "UANA", now=T0)
    graded(db, WS, "UANA", at=T0 + timedelta(hours=1), dims={"timeline": 0.5})
    leave_cohort(db, WS, "sre", "UANA")
    assert members(db, cohort) == [] and export_rows(db, WS, "sre") == []
    assert not can_see_scores(db, WS, "UBOSS", "UANA")
    with pytest.raises(CohortError, match="not in"):
        leave_cohort(db, WS, "sre", "UANA")


def test_sharing_is_per_cohort_and_only_with_that_cohorts_managers(db):
    """Sharing with one cohort shows answer text and private drills to its managers only."""
    alpha, beta = _cohort(db, "alpha"), _cohort(db, "beta")
    for cohort in (alpha, beta):
        invite_members(db, cohort, "UBOSS", {"UANA": "UTC"}, now=T0)
        accept_invitation(db, cohort.id, "UANA", now=T0)
    with Session(db) as s:  # beta gets a manager of its own who does not run alpha
        from bot.store.cohorts import CohortManager

        s.add(CohortManager(cohort_id=beta.id, workspace=WS, user_id="UBETA", tz="UTC", added_at=T0))
        s.commit()
    graded(db, WS, "UANA", at=T0 + timedelta(hours=1), dims={"timeline": 0.5}, text="cohort answer")
    private = graded(db, WS, "UANA", at=T0 + timedelta(hours=2), dims={"timeline": 0.9}, text="my DM drill")
    _private(db, private)
    set_share_answers(db, WS, "alpha", "UANA", True)

    alpha_rows, beta_rows = export_rows(db, WS, "alpha"), export_rows(db, WS, "beta")
    assert [r.answer for r in alpha_rows] == ["cohort answer", "my DM drill"]
    assert [(r.answer, r.score) for r in beta_rows] == [(None, 50)]  # scores only, no private drill
    assert can_see_transcript(db, WS, "UBOSS", "UANA")  # UBOSS runs alpha, which she shares with
    assert not can_see_transcript(db, WS, "UBETA", "UANA")
    assert not can_see_transcript(db, WS, "UPEER", "UANA")
    beta_digest = build_digest(db, WS, "beta", now=T0 + timedelta(days=1))
    alpha_digest = build_digest(db, WS, "alpha", now=T0 + timedelta(days=1))
    assert [m.answers for m in beta_digest.members] == [1]  # the private drill is not beta's to see
    assert [m.answers for m in alpha_digest.members] == [2]
    with pytest.raises(CohortError, match="No cohort called"):
        set_share_answers(db, WS, "gamma", "UANA", True)
