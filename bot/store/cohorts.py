"""Cohort tables: a named group of members, the managers who run it, and the drills sent to members.

Every table that holds a person carries `workspace` and `user_id`, so `bot.store.privacy.forget_person`
finds it without being told about it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def now_utc() -> datetime:
    """Aware UTC: the installed SQLModel stores datetimes as UTC and refuses naive ones."""
    return datetime.now(UTC)


class Cohort(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    name: str = Field(max_length=40)
    created_by: str = Field(max_length=64)
    weekdays: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # 0 = Monday
    local_time: str = Field(default="10:00", max_length=5)  # HH:MM in each member's own timezone
    remind_after_minutes: int = 240
    created_at: datetime = Field(default_factory=now_utc)


class CohortMember(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    tz: str = Field(default="UTC", max_length=64)  # IANA name, refreshed from Slack's users.info
    paused_until: date | None = None  # no drills on local dates before this one
    # When the member accepted the invitation (None: invited, not yet a member). Until then nothing of
    # theirs is sent or shown; `joined_at` is reset to the acceptance, so managers see nothing older.
    accepted_at: datetime | None = None
    invited_by: str | None = Field(default=None, max_length=64)
    # The member's choice, for this cohort only: its managers may read their answers and see the drills
    # they did privately (DM drills); otherwise managers see scores of cohort and channel answers only.
    share_answers: bool = False
    # Set when Slack refused for good to reach the member (account deactivated, DM impossible).
    drills_off_reason: str | None = Field(default=None, max_length=300)
    joined_at: datetime = Field(default_factory=now_utc)


class CohortManager(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    tz: str = Field(default="UTC", max_length=64)  # the weekly digest arrives in the manager's morning
    # Set when Slack refused for good to deliver this manager's digest.
    digest_off_reason: str | None = Field(default=None, max_length=300)
    added_at: datetime = Field(default_factory=now_utc)


class CohortDrill(SQLModel, table=True):
    """One drill for one member on one local date. The unique key is the claim: whichever process
    inserts the row sends the drill, so two schedulers never double-send."""

    __table_args__ = (UniqueConstraint("cohort_id", "user_id", "local_date"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(index=True, max_length=64)
    local_date: date
    due_at: datetime  # UTC
    target_dimension: str | None = Field(default=None, max_length=40)
    target_round: str = Field(max_length=32)
    claimed_at: datetime = Field(default_factory=now_utc)
    interview_id: int | None = Field(default=None, foreign_key="interview.id")
    sent_at: datetime | None = None
    reminded_at: datetime | None = None


class CohortDigest(SQLModel, table=True):
    """One weekly digest to one manager; the unique key claims it like a drill."""

    __table_args__ = (UniqueConstraint("cohort_id", "user_id", "week_start"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workspace: str = Field(index=True, max_length=64)
    user_id: str = Field(max_length=64)  # the manager receiving it
    week_start: date
    claimed_at: datetime = Field(default_factory=now_utc)
    sent_at: datetime | None = None
