"""Privacy: who sees scores and transcripts, and a forget-me that leaves nothing of the person anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cohort_factories import graded, person
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, select

from bot.cohorts.cohorts import (
    add_manager,
    add_members,
    create_cohort,
    due_drills,
    get_cohort,
    is_manager,
    mark_drill_sent,
    set_share_answers,
)
from bot.store.channels import ChannelConfig
from bot.store.models import GradeRecord, Person
from bot.store.privacy import (
    FORGOTTEN,
    can_see_scores,
    can_see_transcript,
    forget_person,
    remaining_mentions,
)

WS = "T1"
T0 = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)


class ForgetProbeNote(SQLModel, table=True):
    """A table nobody told privacy.py about: forget-me must still find it from the metadata."""

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    reviewed_by: str | None = Field(default=None, max_length=64)
    watchers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=200)


def test_members_see_their_own_transcripts_and_managers_only_shared_ones(db):
    """A manager sees a member's scores always and their transcript only once the member agrees."""
    cohort = create_cohort(db, workspace=WS, name="sre", created_by="UBOSS", now=T0)
    add_members(db, cohort, "UBOSS", {"UMEM": "UTC"}, now=T0)
    assert can_see_transcript(db, WS, "UMEM", "UMEM")
    assert can_see_scores(db, WS, "UBOSS", "UMEM")
    assert not can_see_transcript(db, WS, "UBOSS", "UMEM")
    set_share_answers(db, WS, "sre", "UMEM", True)
    assert can_see_transcript(db, WS, "UBOSS", "UMEM")
    assert not can_see_scores(db, WS, "UPEER", "UMEM")
    assert not can_see_transcript(db, WS, "UPEER", "UMEM")  # sharing is with managers, not everyone
    assert not can_see_scores(db, WS, "UMEM", "UBOSS")  # managing is one way


def test_forget_me_removes_the_person_from_every_table_and_keeps_everyone_else(db):
    """After forget-me no column of any table mentions the person, and other people's data is intact."""
    victim, other = "UFORGETME1", "UKEEPME1"
    cohort = create_cohort(db, workspace=WS, name="sre", created_by=victim, now=T0)
    add_manager(db, cohort, victim, other, now=T0)
    add_members(db, cohort, victim, {victim: "Europe/Berlin", other: "UTC"}, now=T0)
    person(db, WS, victim, name="Vic", share=True, at=T0)
    person(db, WS, other, name="Otto", at=T0)
    for i in range(3):
        graded(db, WS, victim, at=T0 + timedelta(hours=i), dims={"timeline": 0.5}, channel="C1")
    graded(db, WS, other, at=T0, dims={"timeline": 0.7}, channel="C1")
    graded(db, "T2", victim, at=T0, dims={"timeline": 0.7})  # another workspace: not this forget-me
    for d in due_drills(db, datetime(2026, 10, 12, 9, 0, tzinfo=UTC)):
        mark_drill_sent(db, d.drill_id, interview_id=None, now=T0)
    with Session(db) as s:
        s.add(ChannelConfig(workspace=WS, channel="C1", managers=[victim, other], created_by=victim,
                            schedule_set_by=victim, created_at=T0, updated_at=T0))
        s.add(ForgetProbeNote(workspace=WS, user_id=victim, note="theirs"))
        s.add(ForgetProbeNote(workspace=WS, user_id=other, reviewed_by=victim, watchers=[victim, other]))
        s.commit()

    counts = forget_person(db, WS, victim)

    assert counts["answer"] == 3 and counts["graderecord"] == 3 and counts["pointentry"] == 3
    # Their own membership is deleted; the other member's `invited_by` (the victim) is cleared.
    assert counts["interview"] == 3 and counts["person"] == 1 and counts["cohortmember"] == 2
    assert counts["forgetprobenote"] == 3  # their own note deleted, the reference and the watcher cleared
    left = remaining_mentions(db, victim)
    # Only workspace T2 still holds them:
    assert set(left) <= {"interview", "answer", "graderecord", "pointentry", "boardtotal"}
    with Session(db) as s:
        theirs = s.exec(select(GradeRecord).where(GradeRecord.user_id == victim)).all()
        assert {r.workspace for r in theirs} == {"T2"}
        config = s.exec(select(ChannelConfig)).one()
        assert config.managers == [other] and config.created_by is None
        note = s.exec(select(ForgetProbeNote)).one()
        assert (note.user_id, note.reviewed_by, note.watchers) == (other, None, [other])
        assert s.exec(select(Person).where(Person.user_id == other)).one().display_name == "Otto"
        assert len(s.exec(select(GradeRecord).where(GradeRecord.user_id == other)).all()) == 1
    forget_person(db, "T2", victim)
    assert remaining_mentions(db, victim) == {}
    kept = get_cohort(db, WS, "sre")  # the cohort outlives its creator; the other manager still runs it
    assert kept.created_by == FORGOTTEN and is_manager(db, kept, other)
    assert forget_person(db, WS, victim) == {}  # idempotent: nothing left to delete
