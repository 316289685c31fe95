"""APScheduler wiring for the daily prompt.

The work is done by `run_due_posts`, a plain function: it asks the database which scheduled
occurrences are due (now, or missed within the grace window) and posts each through the
once-a-day claim, so any number of processes may run it at the same moment. `PromptScheduler`
only decides when to call it: one cron job per scheduled channel (on time, DST-correct), plus a
periodic catch-up that picks up posts missed while the process was down, schedules changed by
another process, and sends that failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot.daily.channels import list_schedules, schedule_of
from bot.daily.daily import DailyPostResult, DuePost, HasPrompts, Poster, due_occurrences, post_daily_prompt
from bot.daily.schedule import cron_trigger

log = logging.getLogger(__name__)

JOB_PREFIX = "daily-prompt:"
CATCH_UP_JOB = "daily-prompt-catch-up"
DEFAULT_GRACE = timedelta(minutes=60)
DEFAULT_CATCH_UP_EVERY = timedelta(minutes=1)
# Sends in flight at once when many channels are due together; under the database pool's default size
# (5 + 10 overflow), since each send briefly holds a connection for its claim and its record.
POST_WORKERS = 10


def run_due_posts(
    db: Engine,
    content: HasPrompts,
    poster: Poster,
    *,
    now: datetime,
    grace: timedelta,
    workspace: str | None = None,
    channel: str | None = None,
    workers: int = POST_WORKERS,
) -> list[DailyPostResult]:
    """Post every occurrence due at `now` or missed within `grace`; the database claim decides who posts.

    Posts go out `workers` at a time: a send spends most of its time waiting on Slack, and hundreds of
    channels scheduled for the same minute would otherwise go out one round trip after another. The
    poster honours Slack's rate limits (a 429 waits its Retry-After in that worker). Results keep the
    oldest-first order of the due occurrences."""
    due = due_occurrences(db, now, grace, workspace=workspace, channel=channel)

    def post_one(item: tuple[DuePost, datetime]) -> DailyPostResult:
        occurrence, scheduled_for = item
        result = post_daily_prompt(
            db, content, occurrence.workspace, occurrence.channel, occurrence.day, poster,
            scheduled_for=scheduled_for, now=now,
        )
        if result.status != "already_posted":
            log.info("%s", result.message)
        return result

    if workers <= 1 or len(due) <= 1:
        return [post_one(item) for item in due]
    with ThreadPoolExecutor(max_workers=min(workers, len(due)), thread_name_prefix="daily-post") as pool:
        return list(pool.map(post_one, due))


def _job_id(workspace: str, channel: str) -> str:
    return f"{JOB_PREFIX}{workspace}:{channel}"


class PromptScheduler:
    """Runs the daily prompts of every scheduled channel in a background thread."""

    def __init__(
        self,
        db: Engine,
        content: HasPrompts,
        poster: Poster,
        grace: timedelta = DEFAULT_GRACE,
        *,
        clock: Callable[[], datetime] | None = None,
        catch_up_every: timedelta = DEFAULT_CATCH_UP_EVERY,
    ) -> None:
        self.db = db
        self.content = content
        self.poster = poster
        self.grace = grace
        self.clock = clock or (lambda: datetime.now(UTC))
        self.catch_up_every = catch_up_every
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self._fingerprint: tuple | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.reload()
        self.scheduler.add_job(
            self.catch_up,
            IntervalTrigger(seconds=max(1, int(self.catch_up_every.total_seconds())), timezone=UTC),
            id=CATCH_UP_JOB,
            # Run once right away: whatever was missed while the process was down goes out now.
            next_run_time=datetime.now(UTC),
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
        self.scheduler.start()

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)

    def reload(self) -> int:
        """Re-read the channel schedules: one cron job per scheduled channel. Returns how many."""
        with self._lock:
            configs = [(c, schedule_of(c)) for c in list_schedules(self.db)]
            scheduled = [(c, s) for c, s in configs if s is not None]
            fingerprint = tuple(
                (c.workspace, c.channel, s.at, s.tz, tuple(sorted(s.weekdays))) for c, s in scheduled
            )
            if fingerprint == self._fingerprint:
                return len(scheduled)
            # Replace every prompt job: before start() APScheduler keeps added jobs in a pending list
            # where replace_existing does not apply, so a re-added channel would run twice.
            for job in self.prompt_jobs():
                job.remove()
            for config, schedule in scheduled:
                self.scheduler.add_job(
                    self.fire,
                    cron_trigger(schedule),
                    args=(config.workspace, config.channel),
                    id=_job_id(config.workspace, config.channel),
                    name=f"daily prompt for {config.channel}",
                    misfire_grace_time=max(1, int(self.grace.total_seconds())),
                    coalesce=True,
                    max_instances=1,
                    replace_existing=True,
                )
            self._fingerprint = fingerprint
            return len(scheduled)

    def prompt_jobs(self) -> list[Job]:
        return [j for j in self.scheduler.get_jobs() if j.id.startswith(JOB_PREFIX)]

    def fire(self, workspace: str, channel: str) -> list[DailyPostResult]:
        """The cron job: post this channel's prompt (skip dates and the claim are checked here)."""
        return run_due_posts(
            self.db, self.content, self.poster, now=self.clock(), grace=self.grace,
            workspace=workspace, channel=channel,
        )

    def catch_up(self) -> list[DailyPostResult]:
        """The periodic job: pick up schedule changes, then post anything due or missed within grace."""
        self.reload()
        return run_due_posts(self.db, self.content, self.poster, now=self.clock(), grace=self.grace)
