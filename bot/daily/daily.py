"""The daily prompt: one per channel per day, rotated through the question bank, caught up when missed.

Who posts a day's prompt is decided by the database: a `DailyPost` row under the unique key
(workspace, channel, day, slot 0) is claimed before anything is sent to Slack, so two processes, a
restart or a retried job can never post twice. A claim whose send failed is marked failed and can be
claimed again inside the grace window. A claim left behind by a process that died mid-send is never
taken over: the message may have gone out, and a missed day is the lesser harm than a double post.
With a poster that owes the prompt through an outbox (the Slack app's), the claim and the owed message
are one transaction, so no crash can leave a claim without the message that delivers it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.daily.channels import get_config, list_schedules, schedule_of
from bot.daily.schedule import occurrences
from bot.store.channels import DailyPost, PromptUse, as_utc
from bot.store.db import session_scope
from bot.store.models import utcnow

log = logging.getLogger(__name__)

# A post sent this long after its scheduled time is reported as late.
LATE_AFTER = timedelta(minutes=2)
EXTRA_SLOT_ATTEMPTS = 5


class PostRefused(Exception):
    """Raised by a poster when the channel refused the post for good; its message says why in one line
    (logged without a traceback, shown by `gauntlet post-prompt`)."""


class PromptLike(Protocol):
    id: str
    variant: str
    text: str


class HasPrompts(Protocol):
    @property
    def prompts(self) -> Sequence[PromptLike]: ...


Poster = Callable[[str, str, PromptLike], str]  # (workspace, channel, prompt) -> the posted message's ts


class DuePost(NamedTuple):
    workspace: str
    channel: str
    day: date


@dataclass(frozen=True)
class DailyPostResult:
    workspace: str
    channel: str
    day: date
    status: str  # posted | queued (owed, delivered later) | already_posted | failed
    prompt: PromptLike | None = None
    message_ts: str | None = None
    late: bool = False
    extra: bool = False  # an extra post that is not the day's prompt
    error: str = ""

    @property
    def posted(self) -> bool:
        return self.status == "posted"

    @property
    def message(self) -> str:
        """One line for a person (the CLI, a slash-command reply)."""
        where = f"<#{self.channel}>"
        if self.status == "posted":
            what = "an extra prompt" if self.extra else f"the prompt for {self.day.isoformat()}"
            late = " (late: the scheduled time was missed)" if self.late else ""
            pid = f" ({self.prompt.id})" if self.prompt is not None else ""
            return f"Posted {what}{pid} to {where}{late}."
        if self.status == "queued":
            what = "an extra prompt" if self.extra else f"the prompt for {self.day.isoformat()}"
            return f"Sending {what} to {where}{' (late)' if self.late else ''}."
        if self.status == "already_posted":
            return (
                f"The prompt for {self.day.isoformat()} was already posted to {where}; "
                "a channel gets one a day. Use --force to post an extra one."
            )
        return f"Could not post the prompt for {self.day.isoformat()} to {where}: {self.error}"


# ---- claims ------------------------------------------------------------------------------------


def claim_daily_post(
    db: Engine, workspace: str, channel: str, day: date, *, slot: int = 0
) -> DailyPost | None:
    """Take the right to post (workspace, channel, day): insert-or-nothing under the unique key.

    Returns the claimed row, or None when someone else holds it (posting, or already posted).
    A row whose send failed is taken over, so a retry can post it."""
    with session_scope(db) as s:
        return _claim(s, workspace, channel, day, slot)


def _claim(s: Session, workspace: str, channel: str, day: date, slot: int) -> DailyPost | None:
    """`claim_daily_post` in the caller's transaction: the claim commits with whatever the caller writes
    beside it, or not at all. `INSERT … ON CONFLICT DO NOTHING` keeps the transaction usable when the
    row is there (a unique violation would abort it on PostgreSQL); a concurrent claimer waits for this
    transaction and then finds the row."""
    t = DailyPost.__table__
    insert_ = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    new_id = s.execute(
        insert_(t).values(workspace=workspace, channel=channel, day=day, slot=slot, status="claimed",
                          attempts=1, error="", late=False, claimed_at=utcnow())
        .on_conflict_do_nothing().returning(t.c.id)
    ).scalar()
    if new_id is None:
        # A conditional update: of two processes retrying the same failed post, exactly one matches.
        taken = s.connection().execute(
            update(DailyPost)
            .where(
                col(DailyPost.workspace) == workspace,
                col(DailyPost.channel) == channel,
                col(DailyPost.day) == day,
                col(DailyPost.slot) == slot,
                col(DailyPost.status) == "failed",
            )
            .values(status="claimed", attempts=DailyPost.attempts + 1, claimed_at=utcnow(), error="")
        )
        if taken.rowcount != 1:
            return None
    return _post(s, workspace, channel, day, slot)


def _post(s: Session, workspace: str, channel: str, day: date, slot: int = 0) -> DailyPost | None:
    return s.exec(
        select(DailyPost).where(
            DailyPost.workspace == workspace,
            DailyPost.channel == channel,
            DailyPost.day == day,
            DailyPost.slot == slot,
        )
    ).first()


def _claim_extra(db: Engine, workspace: str, channel: str, day: date) -> DailyPost:
    """A slot after the day's prompt for a post asked for by hand."""
    for _ in range(EXTRA_SLOT_ATTEMPTS):
        with session_scope(db) as s:
            post = _claim(s, workspace, channel, day, _next_slot(s, workspace, channel, day))
        if post is not None:
            return post
    raise RuntimeError(f"Could not reserve an extra post for {channel} on {day}: too many at once.")


def _next_slot(s: Session, workspace: str, channel: str, day: date) -> int:
    top = s.exec(
        select(func.max(DailyPost.slot)).where(
            DailyPost.workspace == workspace, DailyPost.channel == channel, DailyPost.day == day
        )
    ).one()
    return (top or 0) + 1


# ---- rotation ----------------------------------------------------------------------------------


def _cycle_order(ids: list[str], workspace: str, channel: str, cycle: int) -> list[str]:
    """The bank in an order shuffled per channel and cycle, the same in every process."""
    order = sorted(ids)
    random.Random(f"{workspace}:{channel}:{cycle}").shuffle(order)
    return order


def _choose(s: Session, content: HasPrompts, workspace: str, channel: str) -> tuple[PromptLike, int]:
    bank = {p.id: p for p in content.prompts}
    if not bank:
        raise ValueError("The question bank has no prompts; add some to content/prompts.yml.")
    uses = s.exec(
        select(PromptUse)
        .where(PromptUse.workspace == workspace, PromptUse.channel == channel)
        .order_by(col(PromptUse.id))
    ).all()
    cycle = uses[-1].cycle if uses else 0
    used = {u.prompt_id for u in uses if u.cycle == cycle}
    remaining = [pid for pid in _cycle_order(list(bank), workspace, channel, cycle) if pid not in used]
    if not remaining:
        cycle += 1
        remaining = _cycle_order(list(bank), workspace, channel, cycle)
        if len(remaining) > 1 and remaining[0] == uses[-1].prompt_id:
            # A new cycle never opens with the prompt that closed the previous one.
            remaining.append(remaining.pop(0))
    return bank[remaining[0]], cycle


def choose_prompt(db: Engine, content: HasPrompts, workspace: str, channel: str) -> PromptLike:
    """The channel's next prompt: none repeats until the whole bank has been shown, then a new cycle."""
    with Session(db) as s:
        return _choose(s, content, workspace, channel)[0]


# ---- posting -----------------------------------------------------------------------------------


def post_daily_prompt(
    db: Engine,
    content: HasPrompts,
    workspace: str,
    channel: str,
    day: date,
    poster: Poster,
    *,
    scheduled_for: datetime | None = None,
    now: datetime | None = None,
) -> DailyPostResult:
    """Claim the day, choose the prompt, post it, record the message ts. Never posts twice for a day.

    With a poster that owes (`owe(session, post, prompt)`), the claim, the prompt chosen and the owed
    message are one transaction: a process that dies before it commits leaves nothing claimed, so the
    next run owes the prompt; one that dies after leaves it owed, and a worker delivers it."""
    now = now or datetime.now(UTC)
    late = scheduled_for is not None and now - scheduled_for > LATE_AFTER
    if getattr(poster, "owe", None) is not None:
        result = _claim_and_owe(db, content, workspace, channel, day, poster, slot=0, late=late)
        return result if result is not None else _already(db, content, workspace, channel, day)
    post = claim_daily_post(db, workspace, channel, day)
    if post is None:
        return _already(db, content, workspace, channel, day)
    return _send(db, content, post, poster, late=late)


def _send(db: Engine, content: HasPrompts, post: DailyPost, poster: Poster, *, late: bool) -> DailyPostResult:
    base = {"workspace": post.workspace, "channel": post.channel, "day": post.day, "extra": post.slot > 0}
    prompt = None
    try:
        with Session(db) as s:
            prompt, cycle = _choose(s, content, post.workspace, post.channel)
        ts = poster(post.workspace, post.channel, prompt)
    except PostRefused as exc:
        log.warning("posting the prompt to %s for %s failed: %s", post.channel, post.day, exc)
        error = str(exc)
        _mark_failed(db, post.id, error)
        return DailyPostResult(**base, status="failed", prompt=prompt, error=error)
    except Exception as exc:
        log.exception("posting the prompt to %s for %s failed", post.channel, post.day)
        error = f"{type(exc).__name__}: {exc}"
        _mark_failed(db, post.id, error)
        return DailyPostResult(**base, status="failed", prompt=prompt, error=error)
    with session_scope(db) as s:
        row = s.get(DailyPost, post.id)
        assert row is not None
        row.status, row.prompt_id, row.message_ts = "posted", prompt.id, ts
        row.posted_at, row.late = utcnow(), late
        s.add(row)
        s.add(PromptUse(workspace=post.workspace, channel=post.channel, prompt_id=prompt.id, cycle=cycle,
                        daily_post_id=post.id))
    return DailyPostResult(**base, status="posted", prompt=prompt, message_ts=ts, late=late)


def _claim_and_owe(db: Engine, content: HasPrompts, workspace: str, channel: str, day: date, poster, *,
                   slot: int | None, late: bool) -> DailyPostResult | None:
    """Claim the post (slot None: the next extra slot), choose its prompt and owe it, in one transaction.
    None when the slot is someone else's. Whoever delivers it later marks the row posted with its ts
    (it stays `claimed` until then, so a reply racing the delivery waits for it). A failure before the
    commit (an empty bank) leaves nothing claimed."""
    base = {"workspace": workspace, "channel": channel, "day": day, "extra": slot != 0}
    try:
        with session_scope(db) as s:
            post = _claim(s, workspace, channel, day, _next_slot(s, workspace, channel, day)
                          if slot is None else slot)
            if post is None:
                return None
            prompt, cycle = _choose(s, content, workspace, channel)
            post.prompt_id, post.late = prompt.id, late
            s.add(post)
            s.add(PromptUse(workspace=workspace, channel=channel, prompt_id=prompt.id, cycle=cycle,
                            daily_post_id=post.id))
            poster.owe(s, post, prompt)
    except PostRefused as exc:
        log.warning("owing the prompt to %s for %s failed: %s", channel, day, exc)
        return DailyPostResult(**base, status="failed", error=str(exc))
    except Exception as exc:
        log.exception("owing the prompt to %s for %s failed", channel, day)
        return DailyPostResult(**base, status="failed", error=f"{type(exc).__name__}: {exc}")
    return DailyPostResult(**base, status="queued", prompt=prompt, late=late)


def _mark_failed(db: Engine, post_id: int | None, error: str) -> None:
    with session_scope(db) as s:
        row = s.get(DailyPost, post_id)
        if row is not None:
            row.status, row.error = "failed", error[:2000]
            s.add(row)


def _already(db: Engine, content: HasPrompts, workspace: str, channel: str, day: date) -> DailyPostResult:
    with Session(db) as s:
        existing = _post(s, workspace, channel, day)
    prompt = None
    if existing is not None and existing.prompt_id is not None:
        prompt = next((p for p in content.prompts if p.id == existing.prompt_id), None)
    return DailyPostResult(
        workspace=workspace, channel=channel, day=day, status="already_posted", prompt=prompt,
        message_ts=existing.message_ts if existing is not None else None,
    )


def channel_today(db: Engine, workspace: str, channel: str, now: datetime) -> date:
    """Today in the channel's schedule timezone (UTC when the channel has no schedule)."""
    config = get_config(db, workspace, channel)
    schedule = schedule_of(config) if config is not None else None
    return now.astimezone(schedule.zone).date() if schedule is not None else now.astimezone(UTC).date()


def post_now(
    db: Engine,
    content: HasPrompts,
    workspace: str,
    channel: str,
    poster: Poster,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> DailyPostResult:
    """`gauntlet post-prompt`: today's prompt if it is not out yet, else "already posted today".

    With force, a channel that already has today's prompt gets an extra one (next in the rotation)
    that does not count as the day's prompt."""
    now = now or datetime.now(UTC)
    today = channel_today(db, workspace, channel, now)
    result = post_daily_prompt(db, content, workspace, channel, today, poster, now=now)
    if result.status != "already_posted" or not force:
        return result
    if getattr(poster, "owe", None) is not None:
        for _ in range(EXTRA_SLOT_ATTEMPTS):
            extra = _claim_and_owe(db, content, workspace, channel, today, poster, slot=None, late=False)
            if extra is not None:
                return extra
        raise RuntimeError(f"Could not reserve an extra post for {channel} on {today}: too many at once.")
    return _send(db, content, _claim_extra(db, workspace, channel, today), poster, late=False)


def prompt_post_for_thread(db: Engine, workspace: str, channel: str, thread_ts: str) -> DailyPost | None:
    """The prompt post this thread hangs off, or None when the thread is not a prompt thread."""
    with Session(db) as s:
        return s.exec(
            select(DailyPost).where(
                DailyPost.workspace == workspace,
                DailyPost.channel == channel,
                DailyPost.message_ts == thread_ts,
                DailyPost.status == "posted",
            )
        ).first()


def prompt_being_posted(db: Engine, workspace: str, channel: str) -> bool:
    """Whether a prompt for this channel is claimed and on its way: Slack can deliver the first reply to
    it before the post's ts is written down."""
    with Session(db) as s:
        return s.exec(
            select(DailyPost.id).where(
                DailyPost.workspace == workspace, DailyPost.channel == channel, DailyPost.status == "claimed",
            )
        ).first() is not None


# ---- what is due -------------------------------------------------------------------------------


def due_occurrences(
    db: Engine,
    now: datetime,
    grace: timedelta,
    *,
    workspace: str | None = None,
    channel: str | None = None,
) -> list[tuple[DuePost, datetime]]:
    """Scheduled occurrences in (now - grace, now] with no posted or in-flight prompt, oldest first.

    Occurrences before the schedule was set are not due: a schedule set after today's time starts
    tomorrow. Only a channel's newest occurrence in the window counts: with a grace longer than a
    day, yesterday's prompt is not posted once today's is due."""
    due: list[tuple[DuePost, datetime]] = []
    for config in list_schedules(db, workspace):
        if channel is not None and config.channel != channel:
            continue
        schedule = schedule_of(config)
        if schedule is None:
            continue
        start = now - grace
        if config.schedule_set_at is not None:
            start = max(start, as_utc(config.schedule_set_at))
        found = occurrences(schedule, start, now)[-1:]
        if not found:
            continue
        with Session(db) as s:
            taken = set(
                s.exec(
                    select(DailyPost.day).where(
                        DailyPost.workspace == config.workspace,
                        DailyPost.channel == config.channel,
                        DailyPost.slot == 0,
                        DailyPost.status != "failed",
                        col(DailyPost.day).in_([day for day, _ in found]),
                    )
                ).all()
            )
        due.extend(
            (DuePost(config.workspace, config.channel, day), at) for day, at in found if day not in taken
        )
    due.sort(key=lambda item: item[1])
    return due


def missed_posts(
    db: Engine,
    now: datetime,
    grace: timedelta,
    *,
    workspace: str | None = None,
    channel: str | None = None,
) -> list[DuePost]:
    """(workspace, channel, day) of occurrences inside the grace window that have no prompt yet."""
    return [d for d, _ in due_occurrences(db, now, grace, workspace=workspace, channel=channel)]
