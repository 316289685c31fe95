"""Peer mock interview tables: a cohort's pairing programme, each period's groups (a pair, or one trio
when the number is odd), each turn of one member interviewing another, and the interviewer's ratings.

Every table that holds a person carries `workspace` and `user_id`, or names them in a JSON list or a
`…_user` column, so `bot.store.privacy.forget_person` finds them without being told about them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.cohorts import now_utc


class PeerProgram(SQLModel, table=True):
    """Peer mocks switched on for one cohort, and how often members are paired."""

    __table_args__ = (UniqueConstraint("cohort_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id")
    workspace: str = Field(index=True, max_length=64)
    cadence: str = Field(default="weekly", max_length=16)  # weekly | biweekly
    enabled: bool = True
    starts_on: date  # the Monday of period 0; periods count from it
    changed_by: str = Field(max_length=64)
    changed_at: datetime = Field(default_factory=now_utc)


class PeerPeriod(SQLModel, table=True):
    """One period's pairing. The unique key is the claim: whichever process inserts it pairs the members."""

    __table_args__ = (UniqueConstraint("cohort_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    period: int
    starts_on: date
    claimed_at: datetime = Field(default_factory=now_utc)


class PeerGroup(SQLModel, table=True):
    """Two members (or three) practising together in one period. `members` is in turn order: the first
    interviews the second, the second the next, and the last interviews the first."""

    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="peerperiod.id", index=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    members: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Members who accepted the pairing (pressed Start, or answered in the session): ratings are
    # stored only between members who both accepted.
    accepted: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel: str | None = Field(default=None, max_length=64)  # the group DM, once someone pressed Start
    notified_at: datetime | None = None
    created_at: datetime = Field(default_factory=now_utc)


class PeerSession(SQLModel, table=True):
    """One turn: `interviewer_user` interviews `user_id` in a thread of the group DM."""

    __table_args__ = (UniqueConstraint("group_id", "turn"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="peergroup.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)  # the interviewee
    interviewer_user: str = Field(max_length=64)
    turn: int
    channel: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, index=True, max_length=32)
    interview_id: int | None = Field(default=None, foreign_key="interview.id")
    started_at: datetime = Field(default_factory=now_utc)


class PeerRating(SQLModel, table=True):
    """The interviewer's rating of one round of a turn, next to the grade the bot gave the same answer."""

    __table_args__ = (UniqueConstraint("session_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="peersession.id", index=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    answer_id: int = Field(foreign_key="answer.id")  # the graded answer the bot's view is taken from
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)  # the interviewee
    rated_by: str = Field(max_length=64)
    round: str = Field(max_length=32)
    verdict: str = Field(max_length=32)
    dimensions: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # key → 1..4
    created_at: datetime = Field(default_factory=now_utc)


def turn_opened(conn, session_id: int, ts: str | None) -> None:
    """A turn's first message reached the group DM: its ts is the thread the turn runs in (replies are
    matched on it), for the session and its interview (on the delivery's connection, in its transaction)."""
    from sqlalchemy import select, update

    from bot.store.models import Interview

    t = PeerSession.__table__
    conn.execute(update(t).where(t.c.id == session_id, t.c.thread_ts.is_(None)).values(thread_ts=ts))
    interview_id = conn.execute(select(t.c.interview_id).where(t.c.id == session_id)).scalar()
    if interview_id is not None:
        i = Interview.__table__
        conn.execute(update(i).where(i.c.id == interview_id).values(thread_ts=ts))


def turn_unopened(conn, session_id: int) -> None:
    """A turn's first message was refused for good: the turn is forgotten (its interview stopped), so
    Start opens it again."""
    from sqlalchemy import delete, select, update

    from bot.store.models import Interview

    t = PeerSession.__table__
    interview_id = conn.execute(select(t.c.interview_id).where(t.c.id == session_id, t.c.thread_ts.is_(None))
                                ).scalar()
    if interview_id is not None:
        i = Interview.__table__
        conn.execute(update(i).where(i.c.id == interview_id, i.c.status == "active").values(status="stopped"))
    conn.execute(delete(t).where(t.c.id == session_id, t.c.thread_ts.is_(None)))
