"""Per-channel settings: the daily-prompt schedule, where feedback goes, and who manages the channel.

`db` is a SQLAlchemy Engine. Who may change a channel (workspace admins and the channel's managers)
is decided with `can_manage`; whether someone is a workspace admin is Slack's to say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.daily.schedule import Schedule, parse_time
from bot.store.channels import ChannelConfig
from bot.store.db import session_scope
from bot.store.models import utcnow

FEEDBACK_MODES = ("thread", "ephemeral", "dm")
DEFAULT_FEEDBACK_MODE = "thread"


def schedule_of(config: ChannelConfig) -> Schedule | None:
    """The stored schedule as a Schedule, or None when the channel has none."""
    if config.schedule_at is None or config.schedule_tz is None or not config.schedule_days:
        return None
    return Schedule(
        at=parse_time(config.schedule_at),
        tz=config.schedule_tz,
        weekdays=frozenset(int(d) for d in config.schedule_days),
        skip_dates=frozenset(date.fromisoformat(d) for d in config.skip_dates),
    )


def get_config(db: Engine, workspace: str, channel: str) -> ChannelConfig | None:
    with Session(db) as s:
        return _find(s, workspace, channel)


def _find(s: Session, workspace: str, channel: str) -> ChannelConfig | None:
    return s.exec(
        select(ChannelConfig).where(ChannelConfig.workspace == workspace, ChannelConfig.channel == channel)
    ).first()


def _update(
    db: Engine,
    workspace: str,
    channel: str,
    change: Callable[[ChannelConfig], None],
    *,
    created_by: str | None = None,
) -> ChannelConfig:
    """Apply `change(config)` to the channel's row, creating the row first if needed.

    Two processes creating the same channel's row at once: the unique key lets one win, and the
    loser applies its change to the winner's row."""
    for attempt in range(2):
        try:
            with session_scope(db) as s:
                config = _find(s, workspace, channel)
                if config is None:
                    config = ChannelConfig(workspace=workspace, channel=channel, created_by=created_by)
                change(config)
                config.updated_at = utcnow()
                s.add(config)
                s.flush()
                return config
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def set_schedule(
    db: Engine, workspace: str, channel: str, schedule: Schedule, *, set_by: str, now: datetime | None = None
) -> ChannelConfig:
    """Give the channel a daily prompt. Skip dates in `schedule` replace the channel's; when it has
    none, the channel keeps the skip dates it already had (changing the time keeps the holidays).

    `now` (default: the clock) is when the schedule takes effect: earlier occurrences are not owed."""

    def change(c: ChannelConfig) -> None:
        c.schedule_at = f"{schedule.at:%H:%M}"
        c.schedule_tz = schedule.tz
        c.schedule_days = sorted(schedule.weekdays)
        if schedule.skip_dates:
            c.skip_dates = sorted(d.isoformat() for d in schedule.skip_dates)
        c.schedule_set_by = set_by
        c.schedule_set_at = now or utcnow()
        c.schedule_off_reason = None

    return _update(db, workspace, channel, change, created_by=set_by)


def remove_schedule(db: Engine, workspace: str, channel: str) -> bool:
    """Stop the channel's daily prompt. False when it had no schedule."""
    with session_scope(db) as s:
        config = _find(s, workspace, channel)
        if config is None or config.schedule_at is None:
            return False
        config.schedule_at = config.schedule_tz = None
        config.schedule_days = []
        config.schedule_set_at = None
        config.updated_at = utcnow()
        s.add(config)
        return True


def turn_off_schedule(db: Engine, workspace: str, channel: str, reason: str) -> str | None:
    """Turn a channel's schedule off because posting there can never work (archived, deleted, the app
    removed). Returns who set the schedule ("" when unknown) when this call turned it off, None when it
    was already off, so the person who set it is told once however many processes hit the error."""
    with session_scope(db) as s:
        config = _find(s, workspace, channel)
        if config is None or config.schedule_at is None:
            return None
        result = s.connection().execute(
            update(ChannelConfig)
            .where(col(ChannelConfig.id) == config.id, col(ChannelConfig.schedule_at).is_not(None))
            .values(schedule_at=None, schedule_tz=None, schedule_days=[], schedule_set_at=None,
                    schedule_off_reason=reason[:300], updated_at=utcnow())
        )
        if result.rowcount != 1:
            return None
        return config.schedule_set_by or ""


def turn_off_workspace_schedules(db: Engine, workspace: str, reason: str) -> int:
    """Every schedule of a workspace the app was removed from is turned off. Returns how many."""
    return sum(turn_off_schedule(db, workspace, c.channel, reason) is not None
               for c in list_schedules(db, workspace))


def list_schedules(db: Engine, workspace: str | None = None) -> list[ChannelConfig]:
    """Channels with a schedule, in one workspace (or all workspaces when None), by channel id."""
    with Session(db) as s:
        q = select(ChannelConfig).where(col(ChannelConfig.schedule_at).is_not(None))
        if workspace is not None:
            q = q.where(ChannelConfig.workspace == workspace)
        return list(s.exec(q.order_by(ChannelConfig.workspace, ChannelConfig.channel)))


def set_skip_dates(db: Engine, workspace: str, channel: str, dates: Iterable[date]) -> None:
    """Replace the channel's skip dates (days the daily prompt is not posted)."""
    iso = sorted({d.isoformat() for d in dates})

    def change(c: ChannelConfig) -> None:
        c.skip_dates = iso

    _update(db, workspace, channel, change)


def set_feedback_mode(db: Engine, workspace: str, channel: str, mode: str) -> None:
    """Where the bot answers people in this channel: in the thread, ephemerally, or by DM."""
    mode = mode.strip().lower()
    if mode not in FEEDBACK_MODES:
        raise ValueError(f"Unknown feedback mode '{mode}'. Choose one of: {', '.join(FEEDBACK_MODES)}.")

    def change(c: ChannelConfig) -> None:
        c.feedback_mode = mode

    _update(db, workspace, channel, change)


def feedback_mode(db: Engine, workspace: str, channel: str) -> str:
    config = get_config(db, workspace, channel)
    return config.feedback_mode if config is not None else DEFAULT_FEEDBACK_MODE


def add_manager(db: Engine, workspace: str, channel: str, user_id: str) -> None:
    def change(c: ChannelConfig) -> None:
        if user_id not in c.managers:
            c.managers = [*c.managers, user_id]

    _update(db, workspace, channel, change)


def remove_manager(db: Engine, workspace: str, channel: str, user_id: str) -> bool:
    """False when the person was not a manager of the channel."""
    removed = False

    def change(c: ChannelConfig) -> None:
        nonlocal removed
        removed = user_id in c.managers
        c.managers = [m for m in c.managers if m != user_id]

    _update(db, workspace, channel, change)
    return removed


def managers(db: Engine, workspace: str, channel: str) -> list[str]:
    config = get_config(db, workspace, channel)
    return list(config.managers) if config is not None else []


def is_manager(db: Engine, workspace: str, channel: str, user_id: str) -> bool:
    return user_id in managers(db, workspace, channel)


def can_manage(db: Engine, workspace: str, channel: str, user_id: str, *, is_workspace_admin: bool) -> bool:
    """Workspace admins and the channel's managers may change its schedule and settings."""
    return is_workspace_admin or is_manager(db, workspace, channel, user_id)
