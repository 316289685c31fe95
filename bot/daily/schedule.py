"""Daily-prompt schedules: parse what people type, describe it back, and compute when it next runs.

A schedule is a local wall-clock time in an IANA timezone on chosen weekdays, minus skip dates.
Times are resolved with zoneinfo, so 09:30 Europe/Berlin is 08:30 UTC in winter and 07:30 UTC in
summer. A time that does not exist on a spring-forward day (02:30 when clocks jump from 02:00 to
03:00) runs once that day, at the moment the clock would have shown it (03:30 local), which is what
APScheduler's CronTrigger does too. A time that occurs twice on a fall-back day runs at the first one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger

EXAMPLE = "09:30 Europe/Berlin mon-fri"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}
_DAY_GROUPS = {
    "weekdays": frozenset(range(5)), "weekday": frozenset(range(5)), "workdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}), "weekend": frozenset({5, 6}),
    "daily": frozenset(range(7)), "everyday": frozenset(range(7)), "all": frozenset(range(7)),
}
_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# How far ahead next_run looks before concluding the schedule never runs (all days skipped).
_HORIZON_DAYS = 8 * 366


class ScheduleError(ValueError):
    """What is wrong with a schedule, in words, with a correct example."""


@dataclass(frozen=True)
class Schedule:
    at: time
    tz: str
    weekdays: frozenset[int]  # 0 = Monday
    skip_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.weekdays or not all(0 <= d <= 6 for d in self.weekdays):
            raise ScheduleError(f"A schedule needs at least one weekday (0=Mon … 6=Sun). Example: {EXAMPLE}")
        _zone(self.tz)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)


def parse_schedule(text: str, *, default_tz: str = "UTC") -> Schedule:
    """Read "09:30 Europe/Berlin mon-fri", "9:30am America/New_York mon,wed,fri", "17:00 UTC weekdays".

    Parts may come in any order; a missing time means 09:00, a missing timezone `default_tz`
    (the Slack side passes the person's own), missing days Monday to Friday ("daily" means all seven).
    Dates (2026-12-24, optionally after the word "skip") become skip dates."""
    tokens = [t for t in re.split(r"\s+", text.strip()) if t]
    if not tokens:
        raise ScheduleError(f"Give a time, a timezone and days, e.g. `{EXAMPLE}`.")
    # Join the two-word forms people type ("9:30 am", "every day") into one token.
    joined: list[str] = []
    for token in tokens:
        prev = joined[-1].lower() if joined else ""
        low = token.lower()
        if (low in ("am", "pm") and _TIME.match(prev)) or (prev == "every" and low == "day"):
            joined[-1] += token
        else:
            joined.append(token)
    at: time | None = None
    tz: str | None = None
    days: frozenset[int] | None = None
    skips: set[date] = set()
    for token in joined:
        low = token.lower()
        if low == "skip":
            continue
        if _DATE.match(low.split(",")[0]):
            skips |= parse_skip_dates(token)
        elif low[0].isdigit():
            if at is not None:
                raise ScheduleError(f"Two times given ('{at:%H:%M}' and '{token}'). Example: {EXAMPLE}")
            at = parse_time(token)
        elif _looks_like_days(low):
            if days is not None:
                raise ScheduleError(f"Days given twice (at '{token}'); write them once, e.g. mon-fri.")
            days = parse_days(low)
        elif tz is not None:
            _reject_day_typo(token)
            raise ScheduleError(
                f"I don't understand '{token}' (the timezone is already {tz}). Example: {EXAMPLE}"
            )
        else:
            tz = parse_timezone(token)
    return Schedule(
        at=at if at is not None else time(9, 0),
        tz=tz or parse_timezone(default_tz),
        weekdays=days if days is not None else frozenset(range(5)),
        skip_dates=frozenset(skips),
    )


def parse_time(text: str) -> time:
    """"09:30", "9:30", "9:30am", "9am", "17.00" → a time of day."""
    m = _TIME.match(text.strip())
    if not m:
        raise ScheduleError(f"Can't read the time '{text}'. Write it like 09:30 or 9:30am, e.g. `{EXAMPLE}`.")
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise ScheduleError(f"Invalid time '{text}': with am/pm the hour is 1–12. Example: 9:30am")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif hour > 23:
        raise ScheduleError(f"Invalid time '{text}': the hour must be 0–23. Example: {EXAMPLE}")
    if minute > 59:
        raise ScheduleError(f"Invalid time '{text}': minutes must be 00–59. Example: {EXAMPLE}")
    return time(hour, minute)


@cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(_unknown_tz(name)) from None


def parse_timezone(text: str) -> str:
    """An IANA timezone name, matched case-insensitively; a near miss gets a suggestion."""
    name = _timezones().get(text.strip().lower())
    if name is None:
        _reject_day_typo(text)
        raise ScheduleError(_unknown_tz(text))
    return name


def _reject_day_typo(text: str) -> None:
    """A misspelt day ("mnday") is reported as a day, not as an unknown timezone."""
    day = difflib.get_close_matches(text.lower(), [*_DAY_ALIASES, *_DAY_GROUPS], n=1, cutoff=0.75)
    if day and "/" not in text:
        raise ScheduleError(
            f"Unknown day '{text}' — did you mean {day[0]}? Use mon-fri, mon,wed,fri, weekdays or daily."
        )


def _unknown_tz(text: str) -> str:
    names = _timezones()
    close = difflib.get_close_matches(text.lower(), names.keys(), n=1, cutoff=0.75)
    if close:
        return f"Unknown timezone '{text}' — did you mean {names[close[0]]}?"
    return (
        f"Unknown timezone '{text}'. Use an IANA name like Europe/Berlin, America/New_York or UTC, "
        f"e.g. `{EXAMPLE}`."
    )


def _looks_like_days(low: str) -> bool:
    if low in _DAY_GROUPS:
        return True
    first = re.split(r"[,\-–]", low)[0]
    return first in _DAY_ALIASES or (len(first) >= 2 and any(a.startswith(first) for a in _DAY_ALIASES))


def parse_days(text: str) -> frozenset[int]:
    """"mon-fri", "mon,wed,fri", "fri-mon" (wraps), "weekdays", "weekends", "daily"."""
    low = text.strip().lower()
    if low in _DAY_GROUPS:
        return _DAY_GROUPS[low]
    days: set[int] = set()
    for part in low.split(","):
        if not part:
            continue
        ends = re.split(r"[\-–]", part)
        if len(ends) > 2:
            raise ScheduleError(
                f"Can't read the days '{text}'. Use ranges like mon-fri or lists like mon,wed,fri."
            )
        first, last = (_day(e, text) for e in (ends[0], ends[-1]))
        d = first
        days.add(d)
        while d != last:
            d = (d + 1) % 7
            days.add(d)
    if not days:
        raise ScheduleError(f"No days in '{text}'. Example: {EXAMPLE}")
    return frozenset(days)


def _day(name: str, whole: str) -> int:
    if name in _DAY_ALIASES:
        return _DAY_ALIASES[name]
    raise ScheduleError(
        f"Unknown day '{name}' in '{whole}'. Use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, "
        "or weekdays, weekends, daily."
    )


def parse_skip_dates(text: str) -> frozenset[date]:
    """"2026-12-24,2026-12-25" (commas or spaces) → dates the prompt is not posted."""
    out: set[date] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        try:
            out.add(date.fromisoformat(part))
        except ValueError:
            raise ScheduleError(
                f"Can't read the date '{part}'. Write dates as YYYY-MM-DD, e.g. 2026-12-24,2026-12-25."
            ) from None
    return frozenset(out)


def describe_days(weekdays: frozenset[int]) -> str:
    if weekdays == frozenset(range(7)):
        return "every day"
    names = [d.title() for d in DAY_NAMES]
    runs: list[list[int]] = []
    for d in sorted(weekdays):
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(names[d] for d in run)
    return ", ".join(parts)


def describe(s: Schedule) -> str:
    """"09:30 Europe/Berlin, Mon–Fri" (plus skip dates when there are any)."""
    text = f"{s.at:%H:%M} {s.tz}, {describe_days(s.weekdays)}"
    if s.skip_dates:
        dates = sorted(s.skip_dates)
        shown = ", ".join(d.isoformat() for d in dates[:5])
        more = f" and {len(dates) - 5} more" if len(dates) > 5 else ""
        text += f"; skipping {shown}{more}"
    return text


def occurrence_on(s: Schedule, day: date) -> datetime:
    """The UTC moment the schedule's wall-clock time falls on `day` (ignoring weekdays and skips).

    fold=0 puts a time inside a spring-forward gap after the gap and picks the first of two
    fall-back times, so every day has exactly one occurrence."""
    local = datetime.combine(day, s.at, tzinfo=s.zone).replace(fold=0)
    return local.astimezone(UTC)


def runs_on(s: Schedule, day: date) -> bool:
    return day.weekday() in s.weekdays and day not in s.skip_dates


def _occurrences_after(s: Schedule, after: datetime) -> Iterator[tuple[date, datetime]]:
    """(local day, UTC moment) of every occurrence strictly after `after`, in order."""
    if after.tzinfo is None:
        raise ValueError("Schedules need an aware datetime (a naive time is ambiguous).")
    # Start a day early: a UTC instant can be on the previous local day.
    day = after.astimezone(s.zone).date() - timedelta(days=1)
    for _ in range(_HORIZON_DAYS):
        if runs_on(s, day):
            at = occurrence_on(s, day)
            if at > after:
                yield day, at
        day += timedelta(days=1)


def next_run(s: Schedule, after: datetime) -> datetime:
    """The first occurrence strictly after `after` (an aware datetime), as an aware UTC datetime."""
    for _day, at in _occurrences_after(s, after):
        return at
    raise ScheduleError(
        f"This schedule never runs: every day in the next {_HORIZON_DAYS // 366} years is skipped."
    )


def occurrences(s: Schedule, start: datetime, end: datetime) -> list[tuple[date, datetime]]:
    """(local day, UTC moment) of each occurrence with start < moment <= end."""
    out = []
    for day, at in _occurrences_after(s, start):
        if at > end:
            break
        out.append((day, at))
    return out


def cron_trigger(s: Schedule) -> CronTrigger:
    """The APScheduler trigger for the schedule's time and weekdays (skip dates are checked when it fires)."""
    return CronTrigger(
        day_of_week=",".join(DAY_NAMES[d] for d in sorted(s.weekdays)),
        hour=s.at.hour,
        minute=s.at.minute,
        timezone=s.zone,
    )
