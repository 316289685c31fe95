"""Points, leaderboards, streaks and personal stats.

Points: the engine writes one `PointEntry` per interview and graded round, worth the round's best
attempt (0–100). A board sums them over a period:
- `week`: the ISO week in UTC (Monday 00:00 UTC up to the next Monday 00:00 UTC);
- `month`: the calendar month in UTC;
- `all`: everything.
An entry belongs to the period in which its round was first graded.

Ranking is deterministic and every rank is distinct: more points first; on equal points, fewer
rounds (the better average: the same total from less practice shows stronger answers); then whoever
reached the total first; then the Slack user id.

People who opted out never appear on a board and have no rank; their own stats still work, and
practice is unaffected.

Streak: the number of consecutive prompt days (days on which some channel of the workspace got its
daily prompt) the person answered a prompt in its thread, counting back from today. Days without a
prompt (weekends, skip dates) neither extend nor break it, and today does not break it before the
person has had the chance to answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.store.channels import DailyPost, as_utc
from bot.store.db import session_scope
from bot.store.models import GradeRecord, Interview, Person, PointEntry

PERIODS = ("week", "month", "all")
PERIOD_LABELS = {"week": "this week", "month": "this month", "all": "all time"}
# The weakest dimension is read from the person's most recent graded answers: old weaknesses fade.
WEAKEST_WINDOW = 20


@dataclass(frozen=True)
class BoardRow:
    rank: int
    user_id: str
    points: int
    rounds: int
    streak: int


@dataclass(frozen=True)
class PersonStats:
    user_id: str
    points_week: int
    points_month: int
    points_all: int
    rank_week: int | None
    rank_all: int | None
    interviews: int  # finished interviews
    rounds_graded: int
    average_score: int | None  # mean of the best attempt of every graded round
    best_score: int | None  # best finished interview
    streak: int
    weakest_dimension: str | None  # the dimension's label
    opted_out: bool
    weakest_dimension_key: str | None = None


@dataclass(frozen=True)
class RankChange:
    """Where an interview moved its person on a board."""

    period: str
    before: int | None  # None: not on the board before this interview
    after: int | None  # None: not on the board (opted out)

    @property
    def places(self) -> int:
        """Places gained (negative when others overtook meanwhile)."""
        if self.before is None or self.after is None:
            return 0
        return self.before - self.after

    def describe(self) -> str:
        label = PERIOD_LABELS[self.period]
        if self.after is None:
            return "You are not on the leaderboard (opted out)."
        if self.before is None:
            return f"New on the board {label} at #{self.after}."
        if self.places > 0:
            word = "place" if self.places == 1 else "places"
            return f"Up {self.places} {word} to #{self.after} {label}."
        if self.places < 0:
            return f"#{self.after} {label} (was #{self.before})."
        return f"Still #{self.after} {label}."


@dataclass(frozen=True)
class ScorecardSummary:
    interview_id: int
    status: str  # finished | stopped
    score: int
    level: str
    source: str
    rounds: int  # rounds graded
    started_at: datetime
    finished_at: datetime | None


def period_window(period: str, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """[start, end) of the period as aware UTC datetimes; (None, None) for all time."""
    if period not in PERIODS:
        raise ValueError(f"Unknown period '{period}'. Choose one of: {', '.join(PERIODS)}.")
    now = _utc(now)
    today = now.date()
    if period == "week":
        start = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time(), tzinfo=UTC)
        return start, start + timedelta(days=7)
    if period == "month":
        start = datetime(today.year, today.month, 1, tzinfo=UTC)
        end = datetime(today.year + today.month // 12, today.month % 12 + 1, 1, tzinfo=UTC)
        return start, end
    return None, None


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


# ---- ranking -------------------------------------------------------------------------------------


def _opted_out(s: Session, workspace: str) -> set[str]:
    return set(
        s.exec(select(Person.user_id).where(Person.workspace == workspace, col(Person.opted_out).is_(True)))
    )


def _ranking(
    s: Session,
    workspace: str,
    period: str,
    now: datetime | None,
    *,
    channel: str | None = None,
    exclude_interview: int | None = None,
) -> list[tuple[str, int, int]]:
    """[(user_id, points, rounds)] in rank order, opted-out people left out."""
    start, end = period_window(period, now)
    # Summed in the database: a board over a big history must not load every entry into Python.
    # "Reached the total" is when the last entry that added points was made (the first entry's time
    # when none did).
    last_scoring = func.max(case((col(PointEntry.points) > 0, PointEntry.created_at)))
    q = (
        select(PointEntry.user_id, func.sum(PointEntry.points), func.count(), last_scoring,
               func.min(PointEntry.created_at))
        .where(PointEntry.workspace == workspace)
        .group_by(PointEntry.user_id)
    )
    if start is not None and end is not None:
        q = q.where(PointEntry.created_at >= start, PointEntry.created_at < end)
    if channel is not None:
        q = q.where(PointEntry.channel == channel)
    if exclude_interview is not None:
        q = q.where(PointEntry.interview_id != exclude_interview)
    hidden = _opted_out(s, workspace)
    rows = [
        (user_id, int(total), int(count), as_utc(scored if scored is not None else first))
        for user_id, total, count, scored, first in s.exec(q)
        if user_id not in hidden
    ]
    rows.sort(key=lambda r: (-r[1], r[2], r[3], r[0]))
    return [(user_id, total, rounds) for user_id, total, rounds, _ in rows]


def board(
    db: Engine,
    workspace: str,
    period: str = "week",
    *,
    now: datetime | None = None,
    channel: str | None = None,
    limit: int = 10,
) -> list[BoardRow]:
    """The top `limit` people of the period (optionally only points earned in one channel)."""
    with Session(db) as s:
        ranking = _ranking(s, workspace, period, now, channel=channel)[:limit]
        today = _utc(now).date()
        days = _prompt_days(s, workspace, today)
        answered = _answered_days(s, workspace, [r[0] for r in ranking])
        return [
            BoardRow(rank=i, user_id=u, points=p, rounds=n, streak=_count_streak(days, answered[u], today))
            for i, (u, p, n) in enumerate(ranking, start=1)
        ]


def rank_of(
    db: Engine,
    workspace: str,
    user_id: str,
    period: str = "all",
    *,
    now: datetime | None = None,
    channel: str | None = None,
) -> int | None:
    """The person's rank on the period's board; None when opted out or without points in it."""
    with Session(db) as s:
        return _rank_in(_ranking(s, workspace, period, now, channel=channel), user_id)


def _rank_in(ranking: list[tuple[str, int, int]], user_id: str) -> int | None:
    return next((i for i, row in enumerate(ranking, start=1) if row[0] == user_id), None)


def rank_change(
    db: Engine, workspace: str, user_id: str, interview_id: int, *, period: str = "all",
    now: datetime | None = None,
) -> RankChange:
    """The rank the person had without this interview's points, and the rank they have with them."""
    with Session(db) as s:
        before = _rank_in(_ranking(s, workspace, period, now, exclude_interview=interview_id), user_id)
        after = _rank_in(_ranking(s, workspace, period, now), user_id)
    return RankChange(period=period, before=before, after=after)


# ---- streaks -------------------------------------------------------------------------------------


def _prompt_days(s: Session, workspace: str, today: date) -> list[date]:
    """Days some channel got its daily prompt, newest first."""
    return list(
        s.exec(
            select(DailyPost.day)
            .where(
                DailyPost.workspace == workspace,
                DailyPost.slot == 0,
                DailyPost.status == "posted",
                DailyPost.day <= today,
            )
            .distinct()
            .order_by(col(DailyPost.day).desc())
        )
    )


def _answered_days(s: Session, workspace: str, user_ids: list[str]) -> dict[str, set[date]]:
    """For each person, the days whose prompt thread they answered in (a thread interview there)."""
    out: dict[str, set[date]] = defaultdict(set)
    if not user_ids:
        return out
    rows = s.exec(
        select(Interview.user_id, DailyPost.day)
        .join(
            DailyPost,
            (DailyPost.workspace == Interview.workspace)
            & (DailyPost.channel == Interview.channel)
            & (DailyPost.message_ts == Interview.thread_ts),
        )
        .where(
            Interview.workspace == workspace,
            col(Interview.user_id).in_(user_ids),
            Interview.source == "thread",
            DailyPost.status == "posted",
        )
    )
    for user_id, day in rows:
        out[user_id].add(day)
    return out


def _count_streak(prompt_days: list[date], answered: set[date], today: date) -> int:
    count = 0
    for day in prompt_days:
        if day in answered:
            count += 1
        elif day != today:
            break
    return count


def streak(db: Engine, workspace: str, user_id: str, *, today: date) -> int:
    """Consecutive prompt days answered in a prompt thread, counting back from today."""
    with Session(db) as s:
        answered = _answered_days(s, workspace, [user_id])[user_id]
        return _count_streak(_prompt_days(s, workspace, today), answered, today)


# ---- people --------------------------------------------------------------------------------------


def set_opt_out(db: Engine, workspace: str, user_id: str, opted_out: bool) -> None:
    """Leave (True) or rejoin (False) the leaderboards; creates the person's record if needed."""
    for attempt in range(2):
        try:
            with session_scope(db) as s:
                person = s.exec(
                    select(Person).where(Person.workspace == workspace, Person.user_id == user_id)
                ).first()
                if person is None:
                    person = Person(workspace=workspace, user_id=user_id)
                person.opted_out = opted_out
                s.add(person)
                return
        except IntegrityError:
            # Created by a concurrent request between our read and write: update that row instead.
            if attempt:
                raise


def is_opted_out(db: Engine, workspace: str, user_id: str) -> bool:
    with Session(db) as s:
        return user_id in _opted_out(s, workspace)


def person_stats(db: Engine, workspace: str, user_id: str, *, now: datetime | None = None) -> PersonStats:
    """Everything `/gauntlet me` shows."""
    with Session(db) as s:
        opted_out = user_id in _opted_out(s, workspace)
        entries = s.exec(
            select(PointEntry).where(PointEntry.workspace == workspace, PointEntry.user_id == user_id)
        ).all()

        def points_in(period: str) -> int:
            start, end = period_window(period, now)
            return sum(
                e.points for e in entries
                if start is None or end is None or start <= as_utc(e.created_at) < end
            )

        def rank(period: str) -> int | None:
            return None if opted_out else _rank_in(_ranking(s, workspace, period, now), user_id)

        finished = s.exec(
            select(Interview.score).where(
                Interview.workspace == workspace,
                Interview.user_id == user_id,
                Interview.status == "finished",
            )
        ).all()
        scores = [sc for sc in finished if sc is not None]
        today = _utc(now).date()
        weakest = _weakest_dimension(s, workspace, user_id)
        return PersonStats(
            user_id=user_id,
            points_week=points_in("week"),
            points_month=points_in("month"),
            points_all=points_in("all"),
            rank_week=rank("week"),
            rank_all=rank("all"),
            interviews=len(finished),
            rounds_graded=len(entries),
            average_score=round(sum(e.points for e in entries) / len(entries)) if entries else None,
            best_score=max(scores) if scores else None,
            streak=_count_streak(
                _prompt_days(s, workspace, today), _answered_days(s, workspace, [user_id])[user_id], today
            ),
            weakest_dimension=weakest[1] if weakest else None,
            weakest_dimension_key=weakest[0] if weakest else None,
            opted_out=opted_out,
        )


def _weakest_dimension(s: Session, workspace: str, user_id: str) -> tuple[str, str] | None:
    """(key, label) of the dimension with the lowest share of its points over recent answers."""
    records = s.exec(
        select(GradeRecord)
        .where(GradeRecord.workspace == workspace, GradeRecord.user_id == user_id)
        .order_by(col(GradeRecord.id).desc())
        .limit(WEAKEST_WINDOW)
    ).all()
    totals: dict[str, list] = {}
    for record in records:
        for d in record.dimensions:
            if not d.get("max"):
                continue
            t = totals.setdefault(d["key"], [d.get("label", d["key"]), 0, 0])
            t[1] += d.get("score", 0)
            t[2] += d["max"]
    if not totals:
        return None
    key = min(totals, key=lambda k: (totals[k][1] / totals[k][2], -totals[k][2], k))
    return key, totals[key][0]


def recent_scorecards(db: Engine, workspace: str, user_id: str, limit: int = 5) -> list[ScorecardSummary]:
    """The person's latest finished (or stopped) interviews, newest first."""
    with Session(db) as s:
        interviews = s.exec(
            select(Interview)
            .where(
                Interview.workspace == workspace,
                Interview.user_id == user_id,
                col(Interview.status).in_(("finished", "stopped")),
                col(Interview.score).is_not(None),
            )
            .order_by(col(Interview.finished_at).desc(), col(Interview.id).desc())
            .limit(limit)
        ).all()
        ids = [i.id for i in interviews]
        counts = dict(
            s.exec(
                select(PointEntry.interview_id, func.count())
                .where(col(PointEntry.interview_id).in_(ids))
                .group_by(PointEntry.interview_id)
            ).all()
        ) if ids else {}
        return [
            ScorecardSummary(
                interview_id=i.id or 0, status=i.status, score=i.score or 0, level=i.level, source=i.source,
                rounds=counts.get(i.id, 0), started_at=as_utc(i.created_at),
                finished_at=as_utc(i.finished_at) if i.finished_at else None,
            )
            for i in interviews
        ]
