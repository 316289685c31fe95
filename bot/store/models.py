"""SQLModel tables. Every record is keyed by workspace (the Slack team id, or `local` for the terminal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, Column, Index, Text, UniqueConstraint, event, false, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    # SQLModel stores aware datetimes only; everything is kept in UTC.
    return datetime.now(UTC)


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    tz: str | None = Field(default=None, max_length=64)
    opted_out: bool = False
    # No longer read: sharing is per cohort now (CohortMember.share_answers, revision 0004), so a "yes"
    # meant for one manager is not carried to every cohort. Kept to avoid a destructive migration.
    share_transcripts: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Interview(SQLModel, table=True):
    # One active interview per person and place: a prompt's thread, or the person's drill DM. Two
    # replicas (or a retried delivery) starting one at the same moment get a unique violation, not two.
    __table_args__ = (
        Index("uq_interview_active_thread", "workspace", "user_id", "channel", "thread_ts", unique=True,
              sqlite_where=text("status = 'active' AND source = 'thread'"),
              postgresql_where=text("status = 'active' AND source = 'thread'")),
        Index("uq_interview_active_dm", "workspace", "user_id", unique=True,
              sqlite_where=text("status = 'active' AND source = 'dm'"),
              postgresql_where=text("status = 'active' AND source = 'dm'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    source: str = Field(max_length=16)  # cli | thread | dm | cohort
    channel: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, max_length=32)
    prompt_id: str | None = Field(default=None, max_length=100)
    level: str = Field(default="mid", max_length=16)
    only_round: str | None = Field(default=None, max_length=32)  # a one-round drill
    status: str = Field(default="active", index=True, max_length=16)  # active | finished | stopped
    round: str = Field(max_length=32)  # the round being asked now (or last asked)
    probe_id: str | None = Field(default=None, max_length=100)  # set while a follow-up probe is open
    asked_probes: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Rounds asked, in order; and rounds answered or skipped (a retry can go back to one of those).
    path: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    done: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    score: int | None = None  # final score, when finished
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # The person's own incident as told in the opening (service, change, impact; table and column when
    # they named them): later prompts refer to it. None until the opening is graded.
    incident: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # A timed interview shows time per answer and the elapsed time against the budget on its scorecard.
    timed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    asked_at: datetime | None = None  # when the open question was put (an answer's time runs from here)


class Answer(SQLModel, table=True):
    # A Slack message is one answer: an edit finds it by (workspace, channel, ts), never by ts alone.
    __table_args__ = (Index("uq_answer_message", "workspace", "channel", "message_ts", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(max_length=64)
    round: str = Field(max_length=32)
    probe_id: str | None = Field(default=None, max_length=100)
    attempt: int = 1
    text: str = Field(sa_column=Column(Text, nullable=False))
    # A Slack event id graded at most once, even when Slack retries or two replicas receive it.
    event_id: str | None = Field(default=None, unique=True, max_length=64)
    channel: str | None = Field(default=None, max_length=64)
    message_ts: str | None = Field(default=None, index=True, max_length=32)
    status: str = Field(default="received", max_length=16)  # received | graded
    created_at: datetime = Field(default_factory=utcnow, index=True)
    seconds: float | None = None  # from the question being put to this answer arriving


class FollowUp(SQLModel, table=True):
    """One follow-up as it was asked, and the sentence of the person's answer it quoted (if any)."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    answer_id: int = Field(foreign_key="answer.id")  # the answer it follows (and quotes)
    round: str = Field(max_length=32)
    probe_id: str = Field(max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))  # the question as asked
    slot: str | None = Field(default=None, max_length=32)  # None: the plain probe was asked
    sentence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    quote: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class GradeRecord(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", unique=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(max_length=64)
    round: str = Field(max_length=32)
    level: str = Field(default="mid", max_length=16)
    score: int
    verdict: str = Field(default="", max_length=32)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    dimensions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flags: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flag_details: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    signals: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class PointEntry(SQLModel, table=True):
    """Points for one graded round of one interview: the best attempt counts."""

    __table_args__ = (UniqueConstraint("interview_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    interview_id: int = Field(foreign_key="interview.id")
    round: str = Field(max_length=32)
    points: int = 0
    channel: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class HandledEvent(SQLModel, table=True):
    """A Slack event id that carried a command (skip, retry, stop): handled at most once."""

    event_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class BoardTotal(SQLModel, table=True):
    """One person's running total on one board: a period (`all`, a week, a month) and a channel, or
    every channel when `channel` is ''. Kept equal to the sum of their `PointEntry` rows by
    `bot.boards.leaderboard` (a hook registered with `on_points_written`) whenever an entry is written,
    so a board reads one row per person."""

    __table_args__ = (
        UniqueConstraint("workspace", "period_kind", "period_key", "channel", "user_id"),
        # A board is one (workspace, period, channel) prefix read in points order; both databases walk
        # it from the top and order the few ties on the rest.
        Index("ix_boardtotal_rank", "workspace", "period_kind", "period_key", "channel",
              "points", "rounds", "reached", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64)
    period_kind: str = Field(max_length=8)  # all | week | month
    period_key: str = Field(max_length=16)  # 'all', the week's Monday (2026-03-23), the month (2026-03)
    channel: str = Field(default="", max_length=64)
    user_id: str = Field(max_length=64)
    points: int = 0
    rounds: int = 0
    # When the total was reached: the newest entry that added points (the first entry when none did).
    reached: datetime


# Whoever keeps figures derived from points (the boards' running totals, `bot.boards.leaderboard`)
# registers a hook here; the store calls it and knows nothing of what it keeps.
PointsHook = Callable[..., None]
_points_hooks: list[PointsHook] = []


def on_points_written(hook: PointsHook) -> None:
    """Call `hook(connection, entry)` after every ORM insert or update of a `PointEntry`, and
    `hook(connection, entry, deleted=True)` after a delete, on the entry's own connection, so what the
    hook writes commits or rolls back with the entry itself. Registering the same hook again is a no-op."""
    if hook not in _points_hooks:
        _points_hooks.append(hook)


@event.listens_for(PointEntry, "after_insert")
@event.listens_for(PointEntry, "after_update")
def _points_written(_mapper, connection, entry: PointEntry) -> None:
    # Every ORM write of points (the engine's awards and regrades, tools, tests) runs the hooks.
    for hook in _points_hooks:
        hook(connection, entry)


@event.listens_for(PointEntry, "after_delete")
def _points_deleted(_mapper, connection, entry: PointEntry) -> None:
    for hook in _points_hooks:
        hook(connection, entry, deleted=True)
