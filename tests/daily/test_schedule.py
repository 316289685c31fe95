"""Daily-prompt schedules: what people type, how it is described back, and when it runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.daily.schedule import (
    Schedule,
    ScheduleError,
    cron_trigger,
    describe,
    next_run,
    occurrences,
    parse_schedule,
    parse_skip_dates,
)

WEEKDAYS = frozenset(range(5))
MWF = frozenset({0, 2, 4})
CHRISTMAS = frozenset({date(2026, 12, 24), date(2026, 12, 25)})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:30 Europe/Berlin mon-fri", Schedule(time(9, 30), "Europe/Berlin", WEEKDAYS)),
        ("9:30am America/New_York mon,wed,fri", Schedule(time(9, 30), "America/New_York", MWF)),
        ("17:00 UTC weekdays", Schedule(time(17, 0), "UTC", WEEKDAYS)),
        ("daily", Schedule(time(9, 0), "UTC", frozenset(range(7)))),
        ("5pm europe/london every day", Schedule(time(17, 0), "Europe/London", frozenset(range(7)))),
        ("12am UTC sat,sun", Schedule(time(0, 0), "UTC", frozenset({5, 6}))),
        ("12:15 pm Asia/Tokyo fri-mon", Schedule(time(12, 15), "Asia/Tokyo", frozenset({4, 5, 6, 0}))),
        (
            "08:00 Europe/Berlin weekdays skip 2026-12-24,2026-12-25",
            Schedule(time(8, 0), "Europe/Berlin", WEEKDAYS, CHRISTMAS),
        ),
    ],
)
def test_parse_accepts_the_forms_people_type(text, expected):
    """Times with or without am/pm, any-case IANA zones, day ranges, lists, groups and skip dates parse."""
    assert parse_schedule(text) == expected


def test_parse_uses_the_given_default_timezone():
    """Without a timezone the caller's default (the person's own zone) is used."""
    assert parse_schedule("10:00 mon-fri", default_tz="America/Chicago").tz == "America/Chicago"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:30 Europe/Berln mon-fri", "Unknown timezone 'Europe/Berln' — did you mean Europe/Berlin?"),
        ("25:00 UTC", "Invalid time '25:00': the hour must be 0–23. Example: 09:30 Europe/Berlin mon-fri"),
        ("9:75 UTC", "Invalid time '9:75': minutes must be 00–59. Example: 09:30 Europe/Berlin mon-fri"),
        ("13pm UTC", "Invalid time '13pm': with am/pm the hour is 1–12. Example: 9:30am"),
        (
            "09:30 UTC mon-fry",
            "Unknown day 'fry' in 'mon-fry'. Use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, "
            "or weekdays, weekends, daily.",
        ),
        (
            "09:30 UTC wekdays",
            "Unknown day 'wekdays' — did you mean weekdays? Use mon-fri, mon,wed,fri, weekdays or daily.",
        ),
        (
            "09:30 Mars/Olympus",
            "Unknown timezone 'Mars/Olympus'. Use an IANA name like Europe/Berlin, America/New_York or UTC, "
            "e.g. `09:30 Europe/Berlin mon-fri`.",
        ),
        ("09:30 10:00 UTC", "Two times given ('09:30' and '10:00'). Example: 09:30 Europe/Berlin mon-fri"),
        ("09:30 UTC mon-fri weekends", "Days given twice (at 'weekends'); write them once, e.g. mon-fri."),
        ("", "Give a time, a timezone and days, e.g. `09:30 Europe/Berlin mon-fri`."),
        (
            "09:30 UTC skip 2026-02-30",
            "Can't read the date '2026-02-30'. Write dates as YYYY-MM-DD, e.g. 2026-12-24,2026-12-25.",
        ),
    ],
)
def test_parse_rejects_bad_input_with_a_precise_message(text, message):
    """Every mistake names the offending part and shows a correct example."""
    with pytest.raises(ScheduleError) as err:
        parse_schedule(text)
    assert str(err.value) == message


def test_schedule_error_is_a_value_error():
    """Callers that catch ValueError also catch schedule mistakes."""
    assert issubclass(ScheduleError, ValueError)


def test_parse_skip_dates_reads_comma_and_space_lists():
    """Skip dates are ISO dates separated by commas or spaces."""
    assert parse_skip_dates("2026-12-24,2026-12-25 2027-01-01") == {
        date(2026, 12, 24), date(2026, 12, 25), date(2027, 1, 1)
    }


# ---- describing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("09:30 Europe/Berlin mon-fri", "09:30 Europe/Berlin, Mon–Fri"),
        ("9:30am America/New_York mon,wed,fri", "09:30 America/New_York, Mon, Wed, Fri"),
        ("17:00 UTC daily", "17:00 UTC, every day"),
        ("08:00 UTC sat-sun", "08:00 UTC, Sat, Sun"),
        ("08:00 UTC mon-wed,fri skip 2026-12-24", "08:00 UTC, Mon–Wed, Fri; skipping 2026-12-24"),
    ],
)
def test_describe_reads_back_the_schedule(text, described):
    """A schedule is described in one short line people can check at a glance."""
    assert describe(parse_schedule(text)) == described


# ---- when it runs ------------------------------------------------------------------------------


def test_berlin_morning_prompt_follows_summer_time():
    """09:30 Europe/Berlin is 08:30 UTC in winter and 07:30 UTC from 2026-03-29 until 2026-10-25."""
    s = parse_schedule("09:30 Europe/Berlin daily")
    assert next_run(s, utc(2026, 3, 28, 0, 0)) == utc(2026, 3, 28, 8, 30)
    assert next_run(s, utc(2026, 3, 28, 8, 30)) == utc(2026, 3, 29, 7, 30)
    assert next_run(s, utc(2026, 10, 24, 0, 0)) == utc(2026, 10, 24, 7, 30)
    assert next_run(s, utc(2026, 10, 24, 7, 30)) == utc(2026, 10, 25, 8, 30)


def test_new_york_prompt_follows_its_own_dst_dates():
    """09:30 America/New_York moves from 14:30 to 13:30 UTC on 2026-03-08 and back on 2026-11-01."""
    s = parse_schedule("09:30 America/New_York mon-fri")
    assert next_run(s, utc(2026, 3, 6, 0, 0)) == utc(2026, 3, 6, 14, 30)  # Friday, EST
    assert next_run(s, utc(2026, 3, 6, 14, 30)) == utc(2026, 3, 9, 13, 30)  # Monday, EDT
    assert next_run(s, utc(2026, 10, 30, 0, 0)) == utc(2026, 10, 30, 13, 30)  # Friday, EDT
    assert next_run(s, utc(2026, 10, 30, 13, 30)) == utc(2026, 11, 2, 14, 30)  # Monday, EST


def test_time_in_the_spring_forward_gap_runs_once_that_day():
    """02:30 Europe/Berlin does not exist on 2026-03-29; the prompt runs once, at 03:30 CEST (01:30 UTC)."""
    s = parse_schedule("02:30 Europe/Berlin daily")
    day = occurrences(s, utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 22, 0))  # the whole local day
    assert day == [(date(2026, 3, 29), utc(2026, 3, 29, 1, 30))]


def test_time_repeated_at_fall_back_runs_once_that_day():
    """01:30 America/New_York happens twice on 2026-11-01; the prompt runs only at the first (05:30 UTC)."""
    s = parse_schedule("01:30 America/New_York daily")
    day = occurrences(s, utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 4, 0))
    assert day == [(date(2026, 11, 1), utc(2026, 11, 1, 5, 30))]


def test_weekdays_and_skip_dates_are_respected():
    """A Mon–Fri schedule skipping 24–25 December jumps from Wednesday 23rd to Monday 28th."""
    s = parse_schedule("09:00 UTC mon-fri skip 2026-12-24,2026-12-25")
    assert next_run(s, utc(2026, 12, 23, 9, 0)) == utc(2026, 12, 28, 9, 0)


def test_next_run_is_strictly_after_and_returns_utc():
    """Asking at the exact run time gives the next day's run, always as an aware UTC datetime."""
    s = parse_schedule("09:30 Europe/Berlin daily")
    after = datetime(2026, 6, 1, 9, 30, tzinfo=s.zone)
    nxt = next_run(s, after)
    assert nxt == utc(2026, 6, 2, 7, 30)
    assert nxt.tzinfo is UTC


def test_next_run_refuses_naive_datetimes():
    """A naive datetime is ambiguous, so it is refused rather than guessed."""
    with pytest.raises(ValueError, match="aware"):
        next_run(parse_schedule("daily"), datetime(2026, 1, 1))


def test_occurrence_belongs_to_the_local_day():
    """A prompt at 00:30 Pacific/Auckland is on the Auckland date, though UTC still shows the day before."""
    s = parse_schedule("00:30 Pacific/Auckland mon")
    [(day, at)] = occurrences(s, utc(2026, 6, 1, 0, 0), utc(2026, 6, 8, 0, 0))
    assert day == date(2026, 6, 8) and at == utc(2026, 6, 7, 12, 30)


@pytest.mark.parametrize(
    "text", ["09:30 Europe/Berlin mon-fri", "02:30 America/New_York daily", "17:45 UTC sat"]
)
def test_cron_trigger_agrees_with_next_run_for_a_year(text):
    """APScheduler's CronTrigger fires at exactly the moments next_run computes, DST changes included."""
    s = parse_schedule(text)
    trigger = cron_trigger(s)
    ours = theirs = utc(2026, 1, 1)
    previous = None
    for _ in range(400 if len(s.weekdays) > 1 else 60):
        ours = next_run(s, ours)
        theirs = trigger.get_next_fire_time(previous, theirs + timedelta(seconds=1) if previous else theirs)
        assert theirs is not None and theirs.astimezone(UTC) == ours
        previous = theirs
