"""The durable pipeline's tables: the inbox (what arrived and must be acted on) and the outbox (what is
owed to someone). Recording, leased claims and fencing over them are bot/pipeline/queue.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow

PENDING, DONE, FAILED = "pending", "done", "failed"
SENT = "sent"


class InboxItem(SQLModel, table=True):
    """A Slack delivery the app will act on, written before Slack is told 200."""

    __tablename__ = "inbox"
    # What identifies a delivery: Slack's event id (a retry carries the same one) and the message
    # itself (a second replica, or an edit delivered twice, finds the row instead of adding one).
    __table_args__ = (
        UniqueConstraint("workspace", "channel", "ts", "kind"),
        Index("ix_inbox_claim", "status", "available_at"),
        Index("ix_inbox_conv", "conv", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # answer | edit | drill
    event_id: str | None = Field(default=None, unique=True, max_length=100)
    workspace: str = Field(max_length=64)
    channel: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=80)  # the message's ts (an edit: message ts/edit ts)
    user_id: str = Field(max_length=64)
    conv: str = Field(max_length=200)  # rows of one conversation are handled in order, one at a time
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PENDING, max_length=16)  # pending | done | failed
    attempts: int = 0
    available_at: datetime = Field(default_factory=utcnow)
    locked_by: str | None = Field(default=None, max_length=100)
    locked_until: datetime | None = None
    error: str | None = Field(default=None, max_length=200)  # an error class name, never a body
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


class OutboxItem(SQLModel, table=True):
    """A message the app owes someone, written in the transaction of the work that produced it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_claim", "status", "available_at"),
        Index("ix_outbox_conv", "conv", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # One row per reply owed (`answer:42:turn`, `inbox:7:over`): a retried piece of work cannot owe
    # the same reply twice.
    key: str = Field(unique=True, max_length=200)
    workspace: str = Field(max_length=64)
    conv: str = Field(max_length=200)  # a person's messages in one place go out in order
    mode: str = Field(max_length=16)  # thread | ephemeral | dm | channel | response
    channel: str | None = Field(default=None, max_length=64)
    user_id: str | None = Field(default=None, max_length=64)
    thread_ts: str | None = Field(default=None, max_length=32)
    response_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # mode response
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    blocks: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PENDING, max_length=16)  # pending | sent | failed
    attempts: int = 0
    # The highest attempt known not to have reached Slack (a 429, an error answer): an attempt after
    # one whose outcome is unknown (a 5xx, a lost connection, a killed process) checks Slack first.
    clean_through: int = 0
    available_at: datetime = Field(default_factory=utcnow)
    locked_by: str | None = Field(default=None, max_length=100)
    locked_until: datetime | None = None
    sent_ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
