"""Seasons and boards that motivate.

A season is a calendar month (UTC): boards reset on the 1st and past seasons stay readable, because
points are never deleted, only windowed. Boards can be narrowed to a cohort or a channel. The
improvement board ranks people against their own baseline (the mean of their first graded rounds), so
a newcomer who is getting better shows up next to people who have been practising for months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.boards.leaderboard import keep_running_totals
from bot.cohorts.cohorts import get_cohort, members
from bot.store.models import BoardTotal, GradeRecord, Interview, Person, PointEntry

BASELINE_ROUNDS = 3

# Season boards read the running totals: have them follow every PointEntry written from now on.
keep_running_totals()


@dataclass(frozen=True)
class Season:
    key: str  # "2026-10"
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive

    @property
    def title(self) -> str:
        return self.start.strftime("%B %Y")


@dataclass(frozen=True)
class BoardRow:
    rank: int
    user_id: str
    value: float  # points, or points gained against baseline
    rounds: int
    baseline: float | None = None
    current: float | None = None


def season_of(at: datetime | date) -> Season:
    day = at.astimezone(UTC).date() if isinstance(at, datetime) and at.tzinfo else (
        at.date() if isinstance(at, datetime) else at)
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)
    return Season(key=f"{day.year:04d}-{day.month:02d}", start=start, end=end)


def season_by_key(key: str) -> Season:
    try:
        year, month = (int(x) for x in key.split("-"))
        return season_of(date(year, month, 1))
    except ValueError:
        raise ValueError(f"'{key}' is not a season; use YYYY-MM, e.g. 2026-10") from None


def past_seasons(db: Engine, workspace: str, now: datetime) -> list[Season]:
    """Seasons before the current one that have any points, newest first."""
    current = season_of(now)
    with Session(db) as s:
        # The oldest month with a running total: the month keys are the season keys (YYYY-MM).
        first = s.exec(select(func.min(BoardTotal.period_key)).where(
            BoardTotal.workspace == workspace, BoardTotal.period_kind == "month", BoardTotal.channel == "",
        )).one()
    if first is None or first >= current.key:
        return []
    out = []
    season = season_by_key(first)
    while season.start < current.start:
        out.append(season)
        season = season_of(season.end)
    return out[::-1]


def _who(db: Engine, workspace: str, cohort: str | None) -> dict[str, datetime] | None:
    """Cohort members and when they joined (None: everyone)."""
    if cohort is None:
        return None
    return {m.user_id: m.joined_at for m in members(db, get_cohort(db, workspace, cohort))}


def _opted_out(s: Session, workspace: str) -> set[str]:
    return set(s.exec(select(Person.user_id).where(Person.workspace == workspace, Person.opted_out == True)))  # noqa: E712


def _rank(rows: list[tuple[float, int, str, float | None, float | None]], limit: int) -> list[BoardRow]:
    """Highest value first; equal values share a rank and are listed by user id."""
    rows.sort(key=lambda r: (-r[0], r[2]))
    out: list[BoardRow] = []
    for i, (value, rounds, user_id, baseline, current) in enumerate(rows[:limit]):
        rank = out[-1].rank if out and out[-1].value == value else i + 1
        out.append(BoardRow(rank, user_id, value, rounds, baseline, current))
    return out


def season_board(
    db: Engine, workspace: str, season: Season, *, cohort: str | None = None, channel: str | None = None,
    limit: int = 10,
) -> list[BoardRow]:
    """Points earned in the season (best attempt per round), optionally within a cohort or channel."""
    who = _who(db, workspace, cohort)
    with Session(db) as s:
        hidden = _opted_out(s, workspace)
        if who is None:
            # Everyone: the month's running totals, one row per person.
            totals = s.exec(select(BoardTotal.user_id, BoardTotal.points, BoardTotal.rounds).where(
                BoardTotal.workspace == workspace, BoardTotal.period_kind == "month",
                BoardTotal.period_key == season.key, BoardTotal.channel == (channel or ""))).all()
            return _rank([(float(p), n, uid, None, None) for uid, p, n in totals if uid not in hidden], limit)
        # A cohort counts only what members earned after joining, so its entries are read one by one.
        q = select(PointEntry).where(
            PointEntry.workspace == workspace, col(PointEntry.created_at) >= season.start,
            col(PointEntry.created_at) < season.end, col(PointEntry.user_id).in_(list(who)),
        )
        if channel is not None:
            q = q.where(PointEntry.channel == channel)
        entries = s.exec(q).all() if who else []
    per_person: dict[str, list[int]] = {}
    for e in entries:
        if e.user_id in hidden or e.created_at < who[e.user_id]:
            continue
        t = per_person.setdefault(e.user_id, [0, 0])
        t[0] += e.points
        t[1] += 1
    return _rank([(float(p), n, uid, None, None) for uid, (p, n) in per_person.items()], limit)


def improvement_board(
    db: Engine, workspace: str, season: Season, *, cohort: str | None = None, channel: str | None = None,
    baseline_rounds: int = BASELINE_ROUNDS, limit: int = 10,
) -> list[BoardRow]:
    """Points gained in the season's graded rounds against each person's own baseline (their first rounds)."""
    who = _who(db, workspace, cohort)
    with Session(db) as s:
        q = select(GradeRecord, Interview.channel).join(
            Interview, col(Interview.id) == col(GradeRecord.interview_id)
        ).where(GradeRecord.workspace == workspace, col(GradeRecord.created_at) < season.end)
        rows = s.exec(q.order_by(col(GradeRecord.created_at), col(GradeRecord.id))).all()
        hidden = _opted_out(s, workspace)
    history: dict[str, list[tuple[GradeRecord, str | None]]] = {}
    for record, where in rows:
        history.setdefault(record.user_id, []).append((record, where))
    out = []
    for user_id, records in history.items():
        if user_id in hidden or (who is not None and user_id not in who):
            continue
        base = [r.score for r, _ in records[:baseline_rounds]]
        later = [r for r, where in records[baseline_rounds:]
                 if r.created_at >= season.start and (channel is None or where == channel)]
        if len(base) < baseline_rounds or not later:
            continue
        baseline = sum(base) / len(base)
        current = sum(r.score for r in later) / len(later)
        out.append((round(current - baseline, 1), len(later), user_id, baseline, current))
    return _rank(out, limit)
