"""The scheduler: due and missed posts go out once, across restarts and concurrent processes."""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine, select

from bot.content import Prompt
from bot.daily.channels import remove_schedule, set_schedule, set_skip_dates
from bot.daily.schedule import parse_schedule
from bot.daily.scheduler import CATCH_UP_JOB, PromptScheduler, run_due_posts
from bot.store.channels import DailyPost
from bot.store.db import make_engine

WS, CH = "T1", "C1"
BANK = SimpleNamespace(prompts=tuple(Prompt(f"p{i}", "outage", f"Question {i}?") for i in range(5)))
GRACE = timedelta(hours=1)
MONDAY = date(2026, 3, 30)  # summer time in Berlin: 09:30 local is 07:30 UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Poster:
    """Stands in for Slack: records every post."""

    def __init__(self, delay: float = 0.0):
        self.calls: list[tuple[str, str]] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, workspace: str, channel: str, prompt) -> str:
        clock.sleep(self.delay)
        with self._lock:
            self.calls.append((channel, prompt.id))
            return f"1700000000.{len(self.calls):06d}"


def twin(db: Engine) -> Engine:
    """A second, independent engine on the same database, as a second process would have."""
    if db.dialect.name == "sqlite":
        return make_engine(db.url.render_as_string(hide_password=False))
    with db.connect() as conn:
        search_path = conn.execute(text("SHOW search_path")).scalar()
    return create_engine(db.url, connect_args={"options": f"-csearch_path={search_path}"})


def berlin(db: Engine, spec: str = "09:30 Europe/Berlin mon-fri", channel: str = CH) -> None:
    set_schedule(db, WS, channel, parse_schedule(spec), set_by="U1", now=utc(2026, 3, 1))


def daily_posts(db: Engine) -> list[DailyPost]:
    with Session(db) as s:
        return list(s.exec(select(DailyPost).order_by(DailyPost.id)))


# ---- the job function ------------------------------------------------------------------------------


def test_due_post_goes_out_on_time(db):
    """At the scheduled minute the day's prompt is posted, not marked late."""
    berlin(db)
    poster = Poster()
    [result] = run_due_posts(db, BANK, poster, now=utc(2026, 3, 30, 7, 30, 1), grace=GRACE)
    assert result.status == "posted" and result.day == MONDAY and not result.late
    assert len(poster.calls) == 1


def test_missed_post_inside_grace_is_posted_late(db):
    """A process that was down at 09:30 and back at 09:50 posts the prompt late."""
    berlin(db)
    [result] = run_due_posts(db, BANK, Poster(), now=utc(2026, 3, 30, 7, 50), grace=GRACE)
    assert result.status == "posted" and result.late
    assert "late" in result.message
    assert daily_posts(db)[0].late


def test_missed_post_outside_grace_is_skipped(db):
    """Back after the grace window, the day's prompt is skipped rather than posted hours late."""
    berlin(db)
    poster = Poster()
    assert run_due_posts(db, BANK, poster, now=utc(2026, 3, 30, 8, 31), grace=GRACE) == []
    assert poster.calls == [] and daily_posts(db) == []


def test_restart_does_not_post_a_second_time(db):
    """After a restart (a new engine and scheduler on the same database) the day is not posted again."""
    berlin(db)
    poster = Poster()
    run_due_posts(db, BANK, poster, now=utc(2026, 3, 30, 7, 30, 2), grace=GRACE)
    restarted = twin(db)
    scheduler = PromptScheduler(restarted, BANK, poster, GRACE, clock=lambda: utc(2026, 3, 30, 7, 35))
    assert scheduler.catch_up() == []
    assert scheduler.fire(WS, CH) == []
    restarted.dispose()
    assert len(poster.calls) == 1


def test_two_processes_running_the_job_at_once_post_once(db):
    """Two processes whose jobs fire at the same moment for several channels post each channel once."""
    for channel in ("C1", "C2", "C3"):
        berlin(db, channel=channel)
    other = twin(db)
    poster = Poster(delay=0.05)
    barrier = threading.Barrier(2)
    results: list = []

    def process(engine: Engine) -> None:
        barrier.wait()
        results.extend(run_due_posts(engine, BANK, poster, now=utc(2026, 3, 30, 7, 30, 1), grace=GRACE))

    threads = [threading.Thread(target=process, args=(e,)) for e in (db, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    assert sorted(c for c, _ in poster.calls) == ["C1", "C2", "C3"]
    assert sorted(r.status for r in results if r.status == "posted") == ["posted"] * 3
    assert len(daily_posts(db)) == 3


def test_fire_honours_skip_dates(db):
    """The cron job fires on a skip date but posts nothing."""
    berlin(db)
    set_skip_dates(db, WS, CH, [MONDAY])
    poster = Poster()
    scheduler = PromptScheduler(db, BANK, poster, GRACE, clock=lambda: utc(2026, 3, 30, 7, 30))
    assert scheduler.fire(WS, CH) == []
    assert poster.calls == []


def test_fire_on_the_spring_forward_day_posts_that_day(db):
    """02:30 Berlin on 2026-03-29 fires at 01:30 UTC and posts the prompt for the 29th."""
    berlin(db, "02:30 Europe/Berlin daily")
    scheduler = PromptScheduler(db, BANK, Poster(), GRACE, clock=lambda: utc(2026, 3, 29, 1, 30))
    [result] = scheduler.fire(WS, CH)
    assert result.status == "posted" and result.day == date(2026, 3, 29)


# ---- the APScheduler wiring --------------------------------------------------------------------------


def test_reload_keeps_one_cron_job_per_scheduled_channel(db):
    """One job per scheduled channel, with grace window and coalescing; a removed schedule loses its job."""
    berlin(db, channel="C1")
    berlin(db, "17:00 America/New_York mon,wed,fri", channel="C2")
    scheduler = PromptScheduler(db, BANK, Poster(), timedelta(minutes=45))
    assert scheduler.reload() == 2
    jobs = {j.id: j for j in scheduler.prompt_jobs()}
    assert sorted(jobs) == ["daily-prompt:T1:C1", "daily-prompt:T1:C2"]
    job = jobs["daily-prompt:T1:C2"]
    assert job.misfire_grace_time == 45 * 60 and job.coalesce and job.args == (WS, "C2")
    assert str(job.trigger.timezone) == "America/New_York"
    assert str(job.trigger) == "cron[day_of_week='mon,wed,fri', hour='17', minute='0']"
    remove_schedule(db, WS, "C1")
    berlin(db, "08:15 Europe/Berlin daily", channel="C2")
    assert scheduler.reload() == 1
    [job] = scheduler.prompt_jobs()
    assert job.id == "daily-prompt:T1:C2" and "hour='8', minute='15'" in str(job.trigger)


def test_started_scheduler_catches_up_at_once(db):
    """Starting runs the catch-up at once (a post missed while down goes out); reload swaps running jobs."""
    berlin(db)
    poster = Poster()
    scheduler = PromptScheduler(db, BANK, poster, GRACE, clock=lambda: utc(2026, 3, 30, 7, 50))
    scheduler.start()
    try:
        assert scheduler.scheduler.get_job(CATCH_UP_JOB) is not None
        assert len(scheduler.prompt_jobs()) == 1
        deadline = clock.monotonic() + 10
        while not poster.calls and clock.monotonic() < deadline:
            clock.sleep(0.05)
        berlin(db, "10:45 Europe/Berlin mon-fri")
        assert scheduler.reload() == 1
        [job] = scheduler.prompt_jobs()
        assert "hour='10', minute='45'" in str(job.trigger) and job.next_run_time is not None
    finally:
        scheduler.shutdown()
    assert len(poster.calls) == 1
    assert [(p.day, p.status, p.late) for p in daily_posts(db)] == [(MONDAY, "posted", True)]
