"""The daily prompt: one per channel per day, rotation without repeats, catch-up inside a grace window,
and the channel settings it depends on."""

from __future__ import annotations

import threading
import time as clock
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine, select

from bot.content import Prompt, default_content
from bot.daily.channels import (
    add_manager,
    can_manage,
    feedback_mode,
    get_config,
    is_manager,
    list_schedules,
    remove_manager,
    remove_schedule,
    schedule_of,
    set_feedback_mode,
    set_schedule,
    set_skip_dates,
)
from bot.daily.daily import (
    choose_prompt,
    claim_daily_post,
    missed_posts,
    post_daily_prompt,
    post_now,
    prompt_post_for_thread,
)
from bot.daily.schedule import parse_schedule
from bot.store.channels import DailyPost
from bot.store.db import make_engine

WS, CH = "T1", "C1"
BANK = SimpleNamespace(prompts=tuple(Prompt(f"p{i}", "outage", f"Question {i}?") for i in range(5)))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Poster:
    """Stands in for Slack: records every post, can fail, can be slow."""

    def __init__(self, *, fail: int = 0, delay: float = 0.0):
        self.calls: list[tuple[str, str]] = []
        self.fail = fail
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, workspace: str, channel: str, prompt) -> str:
        with self._lock:
            self.calls.append((channel, prompt.id))
            n = len(self.calls)
            failing = self.fail > 0
            self.fail -= 1
        clock.sleep(self.delay)
        if failing:
            raise RuntimeError("Slack said: ratelimited")
        return f"1700000000.{n:06d}"


def twin(db: Engine) -> Engine:
    """A second, independent engine on the same database, as a second process would have."""
    if db.dialect.name == "sqlite":
        return make_engine(db.url.render_as_string(hide_password=False))
    with db.connect() as conn:
        search_path = conn.execute(text("SHOW search_path")).scalar()
    return create_engine(db.url, connect_args={"options": f"-csearch_path={search_path}"})


def posts(db: Engine) -> list[DailyPost]:
    with Session(db) as s:
        return list(s.exec(select(DailyPost).order_by(DailyPost.id)))


# ---- once a day ----------------------------------------------------------------------------------


def test_claim_is_insert_or_nothing(db):
    """The first claim for a channel and day gets the row; every later claim gets None."""
    day = date(2026, 3, 30)
    assert claim_daily_post(db, WS, CH, day) is not None
    assert claim_daily_post(db, WS, CH, day) is None
    assert claim_daily_post(db, WS, "C2", day) is not None
    assert claim_daily_post(db, WS, CH, day + timedelta(days=1)) is not None


def test_posting_twice_for_one_day_posts_once(db):
    """The second post for the same day reports the first one and never calls Slack."""
    poster = Poster()
    day = date(2026, 3, 30)
    first = post_daily_prompt(db, BANK, WS, CH, day, poster)
    second = post_daily_prompt(db, BANK, WS, CH, day, poster)
    assert first.status == "posted" and first.message_ts == "1700000000.000001"
    assert second.status == "already_posted"
    assert second.message_ts == first.message_ts and second.prompt == first.prompt
    assert len(poster.calls) == 1
    assert "already posted" in second.message


def test_prompt_thread_is_recognised_by_its_message_ts(db):
    """The posted message's ts identifies a prompt thread; any other thread is not one."""
    result = post_daily_prompt(db, BANK, WS, CH, date(2026, 3, 30), Poster())
    found = prompt_post_for_thread(db, WS, CH, result.message_ts)
    assert found is not None and found.day == date(2026, 3, 30) and found.prompt_id == result.prompt.id
    assert prompt_post_for_thread(db, WS, CH, "1699999999.000001") is None
    assert prompt_post_for_thread(db, WS, "C2", result.message_ts) is None


def test_failed_send_is_released_for_a_retry(db):
    """When Slack fails, the day is marked failed and a retry posts it (once)."""
    poster = Poster(fail=1)
    day = date(2026, 3, 30)
    failed = post_daily_prompt(db, BANK, WS, CH, day, poster)
    assert failed.status == "failed" and "ratelimited" in failed.error
    assert posts(db)[0].status == "failed"
    retried = post_daily_prompt(db, BANK, WS, CH, day, poster)
    assert retried.status == "posted"
    assert post_daily_prompt(db, BANK, WS, CH, day, poster).status == "already_posted"
    [row] = posts(db)
    assert row.status == "posted" and row.attempts == 2 and row.error == ""
    assert len(poster.calls) == 2


def test_two_processes_racing_post_exactly_once(db):
    """Two workers with separate engines posting the same days at the same moment post each day once."""
    other = twin(db)
    poster = Poster(delay=0.05)
    days = [date(2026, 3, 30) + timedelta(days=i) for i in range(4)]
    results: list = []
    barrier = threading.Barrier(2)

    def worker(engine: Engine) -> None:
        for day in days:
            barrier.wait()
            results.append(post_daily_prompt(engine, BANK, WS, CH, day, poster))

    threads = [threading.Thread(target=worker, args=(e,)) for e in (db, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    assert len(results) == 2 * len(days)
    assert len(poster.calls) == len(days)
    for day in days:
        statuses = sorted(r.status for r in results if r.day == day)
        assert statuses == ["already_posted", "posted"]
    assert len(posts(db)) == len(days)


# ---- rotation ------------------------------------------------------------------------------------


def test_rotation_covers_the_bank_before_repeating(db):
    """Five prompts over ten days: each shown once in days 1–5, once in days 6–10, never twice in a row."""
    poster = Poster()
    shown = [
        post_daily_prompt(db, BANK, WS, CH, date(2026, 3, 1) + timedelta(days=i), poster).prompt.id
        for i in range(10)
    ]
    assert sorted(shown[:5]) == sorted(p.id for p in BANK.prompts)
    assert sorted(shown[5:]) == sorted(p.id for p in BANK.prompts)
    assert shown[4] != shown[5]


def test_rotation_covers_the_real_question_bank(db):
    """Across as many days as the built-in bank has prompts, every prompt is posted exactly once."""
    content = default_content()
    poster = Poster()
    for i in range(len(content.prompts)):
        post_daily_prompt(db, content, WS, CH, date(2026, 1, 1) + timedelta(days=i), poster)
    assert sorted(pid for _, pid in poster.calls) == sorted(p.id for p in content.prompts)


def test_rotation_order_differs_per_channel_and_is_stable(db):
    """Each channel has its own shuffled order, and asking again without posting gives the same prompt."""
    content = default_content()
    first = choose_prompt(db, content, WS, CH)
    assert choose_prompt(db, content, WS, CH) == first
    orders = {}
    for channel in ("C1", "C2"):
        poster = Poster()
        for i in range(5):
            post_daily_prompt(db, content, WS, channel, date(2026, 1, 1) + timedelta(days=i), poster)
        orders[channel] = [pid for _, pid in poster.calls]
    assert orders["C1"] != orders["C2"]


def test_prompt_added_mid_cycle_is_shown_in_that_cycle(db):
    """A prompt added to the bank part-way through a cycle is shown before any prompt repeats."""
    poster = Poster()
    for i in range(3):
        post_daily_prompt(db, BANK, WS, CH, date(2026, 3, 1) + timedelta(days=i), poster)
    bigger = SimpleNamespace(prompts=(*BANK.prompts, Prompt("p-new", "outage", "A new one?")))
    for i in range(3, 6):
        post_daily_prompt(db, bigger, WS, CH, date(2026, 3, 1) + timedelta(days=i), poster)
    assert sorted(pid for _, pid in poster.calls) == sorted(p.id for p in bigger.prompts)


def test_empty_bank_fails_without_posting(db):
    """With no prompts the post fails with a clear error and nothing is sent."""
    poster = Poster()
    result = post_daily_prompt(db, SimpleNamespace(prompts=()), WS, CH, date(2026, 3, 30), poster)
    assert result.status == "failed" and "no prompts" in result.error
    assert poster.calls == []


# ---- missed posts ----------------------------------------------------------------------------------


def berlin_weekdays(db: Engine, *, set_at: datetime | None = None) -> None:
    schedule = parse_schedule("09:30 Europe/Berlin mon-fri")
    set_schedule(db, WS, CH, schedule, set_by="U1", now=set_at or utc(2026, 3, 1))


def test_missed_post_inside_grace_is_due(db):
    """Ten minutes after Monday's 09:30 Berlin run (07:30 UTC in summer) with no post, it is due."""
    berlin_weekdays(db)
    assert missed_posts(db, utc(2026, 3, 30, 7, 40), timedelta(hours=1)) == [(WS, CH, date(2026, 3, 30))]


def test_missed_post_outside_grace_is_skipped(db):
    """Sixty-one minutes late with a one-hour grace, the day is not posted."""
    berlin_weekdays(db)
    assert missed_posts(db, utc(2026, 3, 30, 8, 31), timedelta(hours=1)) == []


def test_posted_day_is_not_missed(db):
    """Once the day's prompt is out, nothing is due for that day."""
    berlin_weekdays(db)
    post_daily_prompt(db, BANK, WS, CH, date(2026, 3, 30), Poster())
    assert missed_posts(db, utc(2026, 3, 30, 7, 40), timedelta(hours=1)) == []


def test_failed_day_is_due_again(db):
    """A day whose send failed is due again inside the grace window."""
    berlin_weekdays(db)
    post_daily_prompt(db, BANK, WS, CH, date(2026, 3, 30), Poster(fail=1))
    assert missed_posts(db, utc(2026, 3, 30, 7, 45), timedelta(hours=1)) == [(WS, CH, date(2026, 3, 30))]


def test_weekends_and_skip_dates_are_never_due(db):
    """No post is owed on a Saturday or on a skip date."""
    berlin_weekdays(db)
    set_skip_dates(db, WS, CH, [date(2026, 3, 31)])
    assert missed_posts(db, utc(2026, 3, 28, 8, 40), timedelta(hours=1)) == []  # Saturday, winter time
    assert missed_posts(db, utc(2026, 3, 31, 7, 40), timedelta(hours=1)) == []


def test_schedule_set_after_todays_time_starts_tomorrow(db):
    """Setting a 09:30 schedule at 09:35 does not post today's prompt late."""
    berlin_weekdays(db, set_at=utc(2026, 3, 30, 7, 35))
    assert missed_posts(db, utc(2026, 3, 30, 7, 40), timedelta(hours=1)) == []
    assert missed_posts(db, utc(2026, 3, 31, 7, 31), timedelta(hours=1)) == [(WS, CH, date(2026, 3, 31))]


def test_removed_schedule_is_never_due(db):
    """A channel whose schedule was turned off owes nothing."""
    berlin_weekdays(db)
    assert remove_schedule(db, WS, CH) is True
    assert remove_schedule(db, WS, CH) is False
    assert missed_posts(db, utc(2026, 3, 30, 7, 40), timedelta(hours=1)) == []


# ---- posting by hand ---------------------------------------------------------------------------------


def test_post_now_posts_today_once_then_reports_it(db):
    """`gauntlet post-prompt` posts today's prompt, then says it was already posted."""
    poster = Poster()
    now = utc(2026, 3, 30, 12, 0)
    first = post_now(db, BANK, WS, CH, poster, now=now)
    again = post_now(db, BANK, WS, CH, poster, now=now)
    assert first.status == "posted" and first.day == date(2026, 3, 30)
    assert again.status == "already_posted"
    assert again.message == (
        "The prompt for 2026-03-30 was already posted to <#C1>; a channel gets one a day. "
        "Use --force to post an extra one."
    )
    assert len(poster.calls) == 1


def test_post_now_uses_the_channels_local_date(db):
    """At 23:30 UTC a Tokyo channel is already on the next day."""
    set_schedule(db, WS, CH, parse_schedule("09:00 Asia/Tokyo daily"), set_by="U1")
    result = post_now(db, BANK, WS, CH, Poster(), now=utc(2026, 3, 30, 23, 30))
    assert result.day == date(2026, 3, 31)


def test_forced_extra_post_does_not_count_as_the_day(db):
    """With force, an extra prompt goes out, is a prompt thread, and the day still has one daily prompt."""
    poster = Poster()
    now = utc(2026, 3, 30, 12, 0)
    daily = post_now(db, BANK, WS, CH, poster, now=now, force=True)
    extra = post_now(db, BANK, WS, CH, poster, now=now, force=True)
    assert daily.status == "posted" and not daily.extra
    assert extra.status == "posted" and extra.extra
    assert extra.prompt != daily.prompt
    assert [(p.slot, p.status) for p in posts(db)] == [(0, "posted"), (1, "posted")]
    assert prompt_post_for_thread(db, WS, CH, extra.message_ts) is not None
    assert post_daily_prompt(db, BANK, WS, CH, date(2026, 3, 30), poster).status == "already_posted"


# ---- channel settings --------------------------------------------------------------------------------


def test_feedback_mode_defaults_to_thread_and_validates(db):
    """Feedback goes to the thread unless a channel chooses ephemeral or DM; anything else is refused."""
    assert feedback_mode(db, WS, CH) == "thread"
    set_feedback_mode(db, WS, CH, "DM")
    assert feedback_mode(db, WS, CH) == "dm"
    with pytest.raises(ValueError) as err:
        set_feedback_mode(db, WS, CH, "email")
    assert str(err.value) == "Unknown feedback mode 'email'. Choose one of: thread, ephemeral, dm."
    assert feedback_mode(db, WS, CH) == "dm"


def test_managers_and_admins_may_manage_a_channel(db):
    """A channel's managers and workspace admins may change it; others may not."""
    add_manager(db, WS, CH, "U1")
    add_manager(db, WS, CH, "U1")
    assert is_manager(db, WS, CH, "U1") and not is_manager(db, WS, "C2", "U1")
    assert get_config(db, WS, CH).managers == ["U1"]
    assert can_manage(db, WS, CH, "U2", is_workspace_admin=True)
    assert not can_manage(db, WS, CH, "U2", is_workspace_admin=False)
    assert remove_manager(db, WS, CH, "U1") and not remove_manager(db, WS, CH, "U1")
    assert not can_manage(db, WS, CH, "U1", is_workspace_admin=False)


def test_schedule_round_trips_and_lists_per_workspace(db):
    """A stored schedule reads back identically, and listing shows only that workspace's channels."""
    schedule = parse_schedule("9:30am America/New_York mon,wed,fri skip 2026-12-25")
    config = set_schedule(db, WS, CH, schedule, set_by="U1")
    assert schedule_of(config) == schedule and config.schedule_set_by == "U1"
    set_schedule(db, "T2", CH, parse_schedule("daily"), set_by="U9")
    assert [(c.workspace, c.channel) for c in list_schedules(db, WS)] == [(WS, CH)]
    assert len(list_schedules(db)) == 2


def test_changing_the_time_keeps_skip_dates(db):
    """Re-setting a channel's time keeps its holidays; skip dates given with the schedule replace them."""
    set_schedule(db, WS, CH, parse_schedule("09:00 UTC mon-fri skip 2026-12-25"), set_by="U1")
    set_schedule(db, WS, CH, parse_schedule("10:00 UTC mon-fri"), set_by="U1")
    assert schedule_of(get_config(db, WS, CH)).skip_dates == {date(2026, 12, 25)}
    set_schedule(db, WS, CH, parse_schedule("10:00 UTC mon-fri skip 2027-01-01"), set_by="U1")
    assert schedule_of(get_config(db, WS, CH)).skip_dates == {date(2027, 1, 1)}
