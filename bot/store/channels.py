"""Tables behind the channel features: per-channel settings, the daily posts and the prompt rotation."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


def as_utc(value: datetime) -> datetime:
    """A stored datetime as aware UTC, whichever way the driver returned it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ChannelConfig(SQLModel, table=True):
    """One channel's settings. A channel has a daily schedule when `schedule_at` is set."""

    __table_args__ = (UniqueConstraint("workspace", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    channel: str = Field(max_length=64)
    schedule_at: str | None = Field(default=None, max_length=5)  # "HH:MM" local time
    schedule_tz: str | None = Field(default=None, max_length=64)  # IANA name
    schedule_days: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # 0=Mon
    skip_dates: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ISO dates
    schedule_set_by: str | None = Field(default=None, max_length=64)
    # Occurrences before this moment are never "missed": setting a 09:30 schedule at 09:35 does
    # not post today's prompt late.
    schedule_set_at: datetime | None = None
    # Why the schedule was turned off by itself (the channel was archived or deleted, the app removed):
    # shown by `/gauntlet schedule`; cleared when someone sets a schedule again.
    schedule_off_reason: str | None = Field(default=None, max_length=300)
    feedback_mode: str = Field(default="thread", max_length=16)  # thread | ephemeral | dm
    managers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DailyPost(SQLModel, table=True):
    """A prompt posted (or being posted) to a channel.

    Slot 0 is the day's prompt; the unique key makes the database, not the process, decide who posts
    it. Extra posts asked for by hand take slots 1, 2, … and never count as the day's prompt."""

    __table_args__ = (UniqueConstraint("workspace", "channel", "day", "slot"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    channel: str = Field(max_length=64)
    day: date = Field(index=True)  # the channel's local date the prompt belongs to
    slot: int = 0
    status: str = Field(default="claimed", max_length=16)  # claimed | posted | failed
    prompt_id: str | None = Field(default=None, max_length=100)
    message_ts: str | None = Field(default=None, index=True, max_length=32)
    attempts: int = 1
    error: str = Field(default="", sa_column=Column(Text, nullable=False))
    late: bool = False  # posted after its scheduled time by the catch-up
    claimed_at: datetime = Field(default_factory=utcnow)
    posted_at: datetime | None = None


class PromptUse(SQLModel, table=True):
    """One prompt shown in one channel, within a rotation cycle through the question bank."""

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True, max_length=64)
    channel: str = Field(max_length=64)
    prompt_id: str = Field(max_length=100)
    cycle: int = 0
    daily_post_id: int | None = Field(default=None, foreign_key="dailypost.id")
    used_at: datetime = Field(default_factory=utcnow)


def prompt_delivered(conn, post_id: int, ts: str | None) -> None:
    """A prompt owed through the outbox reached Slack: the post is `posted`, with the ts its thread's
    replies are matched on (on the delivery's connection, in its transaction)."""
    from sqlalchemy import update

    t = DailyPost.__table__
    conn.execute(update(t).where(t.c.id == post_id, t.c.status == "claimed")
                 .values(status="posted", message_ts=ts, posted_at=utcnow()))


def prompt_undeliverable(conn, post_id: int, error: str) -> None:
    """A prompt owed through the outbox was refused for good."""
    from sqlalchemy import update

    t = DailyPost.__table__
    conn.execute(update(t).where(t.c.id == post_id, t.c.status == "claimed")
                 .values(status="failed", error=error[:2000]))
