"""The weekly cohort digest as plain data (the Slack side renders it), and its chart as a PNG.

The digest covers the seven days before `now`: participation in the cohort's drills, the average
score and per-dimension averages against the week before, the biggest movers, and who is stuck on
what. Only scores are here; transcripts never enter a digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cohorts.calibration import CalibrationReport
from bot.cohorts.cohorts import get_cohort, managers, members
from bot.cohorts.export import PRIVATE_SOURCES
from bot.cohorts.peers import cohort_agreement
from bot.cohorts.progress import (
    STUCK_ATTEMPTS,
    StuckDimension,
    WeekAverages,
    load_records,
    progress_from_records,
    stuck,
    weekly_dimension_averages,
)
from bot.store.cohorts import CohortDrill
from bot.store.models import Answer, GradeRecord, Interview, Person

MOVERS = 3


@dataclass(frozen=True)
class MemberDigest:
    user_id: str
    display_name: str
    drills_sent: int
    drills_answered: int
    answers: int  # graded answers this week, drills or not
    average: float | None  # mean score this week
    previous_average: float | None  # mean score the week before
    paused_until: str | None = None

    @property
    def change(self) -> float | None:
        if self.average is None or self.previous_average is None:
            return None
        return self.average - self.previous_average


@dataclass(frozen=True)
class DimensionAverage:
    key: str
    label: str
    average: float | None  # percentage this week
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.average is None or self.previous is None:
            return None
        return self.average - self.previous


@dataclass
class DigestData:
    workspace: str
    cohort: str
    period_start: datetime  # aware UTC
    period_end: datetime
    managers: list[str]
    members: list[MemberDigest]
    drills_sent: int
    drills_answered: int
    average: float | None
    previous_average: float | None
    dimensions: list[DimensionAverage]
    movers_up: list[MemberDigest]
    movers_down: list[MemberDigest]
    stuck: list[StuckDimension]
    weeks: list[WeekAverages]  # the chart's data, oldest first
    labels: dict[str, str] = field(default_factory=dict)
    # How well the grader agrees with this cohort's peer-mock interviewers, all ratings so far.
    agreement: CalibrationReport | None = None

    @property
    def participation(self) -> float | None:
        """Share of the week's drills that were answered."""
        return self.drills_answered / self.drills_sent if self.drills_sent else None

    @property
    def active_members(self) -> int:
        return sum(1 for m in self.members if m.answers)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def build_digest(
    db: Engine, workspace: str, cohort_name: str, *, now: datetime, weeks: int = 4,
    stuck_attempts: int = STUCK_ATTEMPTS,
) -> DigestData:
    """Everything a manager's weekly digest says, computed from stored drills and grades."""
    cohort = get_cohort(db, workspace, cohort_name)
    end = now.astimezone(UTC)
    start, before = end - timedelta(days=7), end - timedelta(days=14)
    roster = members(db, cohort)
    ids = [m.user_id for m in roster]
    joined = {m.user_id: m.joined_at for m in roster}
    # A member's grades count for the cohort from the day they joined it.
    sharing = {m.user_id for m in roster if m.share_answers}
    records = [r for r in load_records(db, workspace, ids, until=end) if r.created_at >= joined[r.user_id]]
    with Session(db) as s:
        # Drills a member did privately count only when they share them with this cohort.
        private = set(s.exec(select(Interview.id).where(
            col(Interview.id).in_({r.interview_id for r in records}),
            col(Interview.source).in_(PRIVATE_SOURCES)))) if records else set()
    records = [r for r in records if r.interview_id not in private or r.user_id in sharing]
    with Session(db) as s:
        names = {p.user_id: p.display_name for p in s.exec(
            select(Person).where(Person.workspace == workspace, col(Person.user_id).in_(ids)))}
        drills = s.exec(select(CohortDrill).where(
            CohortDrill.cohort_id == cohort.id, col(CohortDrill.sent_at) != None,  # noqa: E711
            col(CohortDrill.due_at) >= start,
            col(CohortDrill.due_at) < end,
        )).all()
        answered_interviews = set(s.exec(select(Answer.interview_id).where(
            col(Answer.interview_id).in_([d.interview_id for d in drills if d.interview_id is not None])
        ))) if drills else set()

    def in_window(r: GradeRecord, lo: datetime, hi: datetime) -> bool:
        return lo <= r.created_at < hi

    this_week = [r for r in records if in_window(r, start, end)]
    last_week = [r for r in records if in_window(r, before, start)]
    people = []
    for m in roster:
        mine = [d for d in drills if d.user_id == m.user_id]
        people.append(MemberDigest(
            user_id=m.user_id, display_name=names.get(m.user_id) or m.user_id,
            drills_sent=len(mine),
            drills_answered=sum(1 for d in mine if d.interview_id in answered_interviews),
            answers=sum(1 for r in this_week if r.user_id == m.user_id),
            average=_mean([r.score for r in this_week if r.user_id == m.user_id]),
            previous_average=_mean([r.score for r in last_week if r.user_id == m.user_id]),
            paused_until=(m.paused_until.isoformat()
                          if m.paused_until and m.paused_until > end.date() else None),
        ))
    labels: dict[str, str] = {}
    for r in records:
        for d in r.dimensions:
            if d.get("max"):
                labels.setdefault(d["key"], d.get("label") or d["key"])
    current, previous = _dimension_means(this_week), _dimension_means(last_week)
    dimensions = [DimensionAverage(k, labels[k], current.get(k), previous.get(k))
                  for k in sorted(labels, key=lambda k: (current.get(k, 101.0), k))]
    moved = [p for p in people if p.change is not None]
    stuck_all = [d for uid in ids
                 for d in stuck(progress_from_records(workspace, uid, records), stuck_attempts)]
    return DigestData(
        workspace=workspace, cohort=cohort.name, period_start=start, period_end=end,
        managers=[m.user_id for m in managers(db, cohort)], members=people,
        drills_sent=sum(p.drills_sent for p in people),
        drills_answered=sum(p.drills_answered for p in people),
        average=_mean([r.score for r in this_week]), previous_average=_mean([r.score for r in last_week]),
        dimensions=dimensions,
        movers_up=sorted((p for p in moved if (p.change or 0) > 0), key=lambda p: -(p.change or 0))[:MOVERS],
        movers_down=sorted((p for p in moved if (p.change or 0) < 0), key=lambda p: p.change or 0)[:MOVERS],
        stuck=stuck_all, weeks=weekly_dimension_averages(records, end=end, weeks=weeks), labels=labels,
        agreement=cohort_agreement(db, workspace, cohort.name),
    )


def _dimension_means(records: list[GradeRecord]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for r in records:
        for d in r.dimensions:
            if d.get("max"):
                values.setdefault(d["key"], []).append(100.0 * d["score"] / d["max"])
    return {k: sum(v) / len(v) for k, v in values.items()}


def render_chart(data: DigestData, path: str | Path) -> Path:
    """Write a PNG line chart of each dimension's weekly average over the digest's weeks."""
    # The object API with the Agg canvas draws without pyplot's global state or a display, so two
    # digests rendering at once on a scheduler's threads do not share a figure.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    fig = Figure(figsize=(9, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(len(data.weeks)))
    keys = sorted({k for w in data.weeks for k in w.averages})
    for key in keys:
        ys = [w.averages.get(key, float("nan")) for w in data.weeks]
        ax.plot(x, ys, marker="o", linewidth=1.8, label=data.labels.get(key, key))
    ax.set_xticks(x, [f"wk of {w.start:%d %b}" for w in data.weeks])
    ax.set_ylim(0, 100)
    ax.set_ylabel("average score on the dimension (%)")
    ax.set_title(f"Cohort {data.cohort}: rubric dimensions per week")
    ax.grid(True, alpha=0.3)
    if keys:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "No graded answers yet", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out
