"""Progress per person and per rubric dimension over time, read from stored grades.

Spaced repetition: the next drill targets the dimension a person is weakest at recently, through the
round that weighs that dimension most. "Stuck" means a dimension that has not improved over the
person's last few attempts at it while still short of mastery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.content import Content
from bot.store.models import GradeRecord

STUCK_ATTEMPTS = 3
STUCK_MIN_GAIN = 0.05  # five percentage points: less than that is noise, not improvement
MASTERY = 0.8  # a dimension whose latest attempt is at 80% or above is not "stuck", however flat
RECENT = 5  # attempts that count towards "weakest now"


@dataclass(frozen=True)
class DimensionPoint:
    at: datetime  # aware UTC
    fraction: float  # 0..1
    round: str
    grade_id: int


@dataclass
class MemberProgress:
    workspace: str
    user_id: str
    series: dict[str, list[DimensionPoint]] = field(default_factory=dict)  # oldest first
    labels: dict[str, str] = field(default_factory=dict)
    scores: list[tuple[datetime, int]] = field(default_factory=list)  # one per graded answer

    @property
    def attempts(self) -> int:
        return len(self.scores)

    def recent_average(self, key: str, last: int = RECENT) -> float | None:
        points = self.series.get(key, [])[-last:]
        return sum(p.fraction for p in points) / len(points) if points else None


@dataclass(frozen=True)
class StuckDimension:
    user_id: str
    key: str
    label: str
    attempts: int  # how many recent attempts showed no improvement
    first: float  # fraction at the start of the window
    best_since: float  # best fraction after it
    latest: float


@dataclass(frozen=True)
class WeekAverages:
    start: date  # first day of the 7-day window (UTC)
    averages: dict[str, float]  # dimension key → mean percentage 0..100
    answers: int


def load_records(
    db: Engine, workspace: str, user_ids: Iterable[str] | None = None, *,
    since: datetime | None = None, until: datetime | None = None,
) -> list[GradeRecord]:
    """Graded answers, oldest first; `since`/`until` are aware datetimes."""
    q = select(GradeRecord).where(GradeRecord.workspace == workspace)
    if user_ids is not None:
        q = q.where(col(GradeRecord.user_id).in_(list(user_ids)))
    if since is not None:
        q = q.where(col(GradeRecord.created_at) >= since)
    if until is not None:
        q = q.where(col(GradeRecord.created_at) < until)
    with Session(db) as s:
        return list(s.exec(q.order_by(col(GradeRecord.created_at), col(GradeRecord.id))))


def progress_from_records(workspace: str, user_id: str, records: Iterable[GradeRecord]) -> MemberProgress:
    progress = MemberProgress(workspace=workspace, user_id=user_id)
    for r in records:
        if r.user_id != user_id:
            continue
        progress.scores.append((r.created_at, r.score))
        for d in r.dimensions:
            if not d.get("max"):
                continue  # a dimension the round does not score says nothing about the person
            progress.labels.setdefault(d["key"], d.get("label") or d["key"])
            progress.series.setdefault(d["key"], []).append(
                DimensionPoint(at=r.created_at, fraction=d["score"] / d["max"], round=r.round,
                               grade_id=r.id or 0)
            )
    return progress


def member_progress(
    db: Engine, workspace: str, user_id: str, *, since: datetime | None = None, until: datetime | None = None,
) -> MemberProgress:
    return progress_from_records(workspace, user_id, load_records(db, workspace, [user_id], since=since,
                                                                   until=until))


def is_stuck(fractions: Sequence[float], n: int = STUCK_ATTEMPTS, *, min_gain: float = STUCK_MIN_GAIN,
             mastery: float = MASTERY) -> bool:
    """True when none of the last n-1 attempts beat the first of the last n by `min_gain` and the latest
    is below mastery (sliding back from a good score counts as stuck too)."""
    if n < 2:
        raise ValueError("stuck needs at least 2 attempts to compare")
    window = list(fractions)[-n:]
    if len(window) < n:
        return False
    return max(window[1:]) < window[0] + min_gain and window[-1] < mastery


def stuck(progress: MemberProgress, n: int = STUCK_ATTEMPTS, *, min_gain: float = STUCK_MIN_GAIN,
          mastery: float = MASTERY) -> list[StuckDimension]:
    """The dimensions this person has not improved over their last n attempts, weakest first."""
    out = []
    for key, points in progress.series.items():
        fractions = [p.fraction for p in points]
        if is_stuck(fractions, n, min_gain=min_gain, mastery=mastery):
            window = fractions[-n:]
            out.append(StuckDimension(
                user_id=progress.user_id, key=key, label=progress.labels.get(key, key), attempts=n,
                first=window[0], best_since=max(window[1:]), latest=window[-1],
            ))
    return sorted(out, key=lambda d: (sum(p.fraction for p in progress.series[d.key][-n:]), d.key))


def weakest(progress: MemberProgress, recent: int = RECENT) -> str | None:
    """The dimension with the lowest recent average; ties go to the one practised least."""
    scored = [(avg, len(progress.series[k]), k) for k in progress.series
              if (avg := progress.recent_average(k, recent)) is not None]
    return min(scored)[2] if scored else None


def weakest_dimension(db: Engine, workspace: str, user_id: str, *, recent: int = RECENT) -> str | None:
    """The dimension the person's next drill should target, or None before their first graded answer."""
    return weakest(member_progress(db, workspace, user_id), recent)


def next_drill_round(content: Content, dimension: str | None) -> str:
    """The round whose `weighs` gives `dimension` the most weight (the first main round when None)."""
    if dimension is None:
        return content.order[0]
    ranked = [
        (r.weighs.get(dimension, 0), r.weighs.get(dimension, 0) / (sum(r.weighs.values()) or 1),
         -_position(content, r.id), r.id)
        for r in content.rounds.values()
    ]
    best = max(ranked)
    if best[0] <= 0:
        raise ValueError(f"no round weighs the dimension {dimension!r}")
    return best[3]


def _position(content: Content, round_id: str) -> int:
    return content.order.index(round_id) if round_id in content.order else len(content.order)


def weekly_dimension_averages(
    records: Iterable[GradeRecord], *, end: datetime, weeks: int
) -> list[WeekAverages]:
    """Mean percentage per dimension in each of the `weeks` 7-day windows ending at `end`, oldest first."""
    end_utc = end.astimezone(UTC)
    starts = [end_utc - timedelta(days=7 * (weeks - i)) for i in range(weeks)]
    sums: list[dict[str, list[float]]] = [{} for _ in starts]
    counts = [0] * weeks
    for r in records:
        i = (r.created_at - starts[0]) // timedelta(days=7)
        if not 0 <= i < weeks:
            continue
        counts[i] += 1
        for d in r.dimensions:
            if d.get("max"):
                sums[i].setdefault(d["key"], []).append(100.0 * d["score"] / d["max"])
    return [
        WeekAverages(start=starts[i].date(), answers=counts[i],
                     averages={k: sum(v) / len(v) for k, v in sorted(sums[i].items())})
        for i in range(weeks)
    ]
