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
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, delete, or_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.store.channels import DailyPost, as_utc
from bot.store.db import session_scope
from bot.store.models import BoardTotal, GradeRecord, Interview, Person, PointEntry, on_points_written

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


# ---- running totals ------------------------------------------------------------------------------
#
# A board reads `BoardTotal` rows, one per person, period and channel ('' for every channel), rather
# than summing a period's entries on every query. Each ORM write of a `PointEntry` (the hook this
# module registers with bot.store.models.on_points_written) recomputes the writer's rows for the
# periods that entry falls in, on the same connection and under a row lock on the person's all-time
# row, so two replicas awarding the same person at once are serialised and the later one sums what
# the earlier one committed.

ALL_KEY = "all"
TOTAL_KEY = ("workspace", "period_kind", "period_key", "channel", "user_id")
_WATCHED = ("workspace", "user_id", "channel", "points", "created_at")
_REBUILD_BATCH = 5000


def period_key(period: str, at: datetime) -> str:
    """The key of the period holding `at`: 'all', the week's Monday (2026-03-23) or the month (2026-03)."""
    start, _ = period_window(period, as_utc(at))
    if start is None:
        return ALL_KEY
    return start.date().isoformat() if period == "week" else start.strftime("%Y-%m")


def _upsert(conn: Connection, rows: list[dict], *, lock_only: bool = False) -> None:
    table = BoardTotal.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    if lock_only:
        # Touching an existing row takes its lock; a new row is locked by being inserted.
        changes = {"rounds": table.c.rounds}
    else:
        changes = {name: stmt.excluded[name] for name in ("points", "rounds", "reached")}
    # Rows as parameters (executemany), not a VALUES list: one cached statement whatever the count.
    conn.execute(stmt.on_conflict_do_update(index_elements=list(TOTAL_KEY), set_=changes), rows)


def _sums(conn: Connection, workspace: str, user_id: str, start: datetime | None,
          end: datetime | None) -> dict[str | None, tuple[int, int, datetime | None, datetime]]:
    """Per channel: (points, rounds, newest scoring entry, first entry) of the person in [start, end)."""
    pe = PointEntry.__table__
    q = (
        select(pe.c.channel, func.sum(pe.c.points), func.count(),
               func.max(case((pe.c.points > 0, pe.c.created_at))), func.min(pe.c.created_at))
        .where(pe.c.workspace == workspace, pe.c.user_id == user_id)
        .group_by(pe.c.channel)
    )
    if start is not None and end is not None:
        q = q.where(pe.c.created_at >= start, pe.c.created_at < end)
    return {ch: (int(p), int(n), scored, first) for ch, p, n, scored, first in conn.execute(q)}


def _combined(parts) -> tuple[int, int, datetime | None, datetime] | None:
    parts = list(parts)
    if not parts:
        return None
    scored = [p[2] for p in parts if p[2] is not None]
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), max(scored) if scored else None,
            min(p[3] for p in parts))


def _total_row(workspace: str, kind: str, key: str, channel: str, user_id: str, total) -> dict:
    points, rounds, scored, first = total
    return {"workspace": workspace, "period_kind": kind, "period_key": key, "channel": channel,
            "user_id": user_id, "points": points, "rounds": rounds,
            "reached": as_utc(scored if scored is not None else first)}


def refresh_totals(conn: Connection, workspace: str, user_id: str, stamps: set[datetime],
                   channels: set[str | None]) -> None:
    """Recompute the person's totals for all time and the weeks and months of `stamps`, over every
    channel and each of `channels`, from their `PointEntry` rows."""
    now = as_utc(min(stamps))
    _upsert(conn, [_total_row(workspace, "all", ALL_KEY, "", user_id, (0, 0, None, now))], lock_only=True)
    boards = {("all", ALL_KEY, None, None)}
    for period in ("week", "month"):
        boards |= {(period, period_key(period, at), *period_window(period, as_utc(at))) for at in stamps}
    write, gone = [], []
    for kind, key, start, end in sorted(boards, key=lambda b: b[:2]):
        sums = _sums(conn, workspace, user_id, start, end)
        for channel in sorted({""} | {c for c in channels if c}):
            total = _combined(sums.values()) if channel == "" else sums.get(channel)
            if total is None:
                gone.append((kind, key, channel))
            else:
                write.append(_total_row(workspace, kind, key, channel, user_id, total))
    if write:
        _upsert(conn, write)
    table = BoardTotal.__table__
    for kind, key, channel in gone:
        conn.execute(delete(table).where(
            table.c.workspace == workspace, table.c.user_id == user_id, table.c.period_kind == kind,
            table.c.period_key == key, table.c.channel == channel))


def entry_written(conn: Connection, entry: PointEntry, *, deleted: bool = False) -> None:
    """Bring the totals in line after `entry` was inserted, updated or deleted on `conn`."""
    state = sa_inspect(entry)
    history = {name: state.attrs[name].history for name in _WATCHED}
    if not deleted and not any(h.has_changes() for h in history.values()):
        return
    # Old and new values both: an entry moved to another channel or day leaves the old totals too.
    values = {name: {v for v in h.sum() if v is not None} or {getattr(entry, name)}
              for name, h in history.items()}
    for workspace in values["workspace"]:
        for user_id in values["user_id"]:
            refresh_totals(conn, workspace, user_id, values["created_at"], values["channel"])


def keep_running_totals() -> None:
    """Keep the running totals in step with every ORM write of a `PointEntry` from now on (idempotent).
    Importing this module does it; code that awards points calls it too, to say that it relies on it."""
    on_points_written(entry_written)


keep_running_totals()


def rebuild_totals_on(conn: Connection, workspace: str | None = None) -> int:
    """Recompute every total (of one workspace, or all) from `PointEntry` on `conn`; returns the rows
    written. Entries are read in one ordered pass, a person at a time, and written in batches."""
    table, pe = BoardTotal.__table__, PointEntry.__table__
    clear = delete(table)
    q = select(pe.c.workspace, pe.c.user_id, pe.c.channel, pe.c.points, pe.c.created_at)
    if workspace is not None:
        clear = clear.where(table.c.workspace == workspace)
        q = q.where(pe.c.workspace == workspace)
    conn.execute(clear)
    keys: dict[date, tuple[str, str]] = {}
    person: tuple[str, str] | None = None
    totals: dict[tuple[str, str, str], list] = {}
    batch: list[dict] = []
    written = 0

    def flush_person() -> None:
        if person is not None:
            batch.extend(_total_row(person[0], kind, key, channel, person[1], tuple(t))
                         for (kind, key, channel), t in totals.items())
        totals.clear()

    def flush_batch() -> int:
        if batch:
            _upsert(conn, batch)
        n = len(batch)
        batch.clear()
        return n

    # Options on this statement only: Connection.execution_options would change the whole connection.
    rows = conn.execute(q.order_by(pe.c.workspace, pe.c.user_id),
                        execution_options={"stream_results": True, "yield_per": _REBUILD_BATCH})
    for ws, user_id, channel, points, at in rows:
        if (ws, user_id) != person:
            flush_person()
            person = (ws, user_id)
            if len(batch) >= _REBUILD_BATCH:
                written += flush_batch()
        at = as_utc(at)
        day = at.date()
        if day not in keys:
            keys[day] = (period_key("week", at), period_key("month", at))
        week, month = keys[day]
        for kind, key in (("all", ALL_KEY), ("week", week), ("month", month)):
            for ch in ("", channel) if channel else ("",):
                t = totals.get((kind, key, ch))
                if t is None:
                    totals[(kind, key, ch)] = [points, 1, at if points > 0 else None, at]
                    continue
                t[0] += points
                t[1] += 1
                if points > 0 and (t[2] is None or at > t[2]):
                    t[2] = at
                t[3] = min(t[3], at)
    flush_person()
    return written + flush_batch()


def rebuild_totals(db: Engine, workspace: str | None = None) -> int:
    """Recompute the running totals from `PointEntry` in one transaction; returns the rows written."""
    with db.begin() as conn:
        return rebuild_totals_on(conn, workspace)


# ---- ranking -------------------------------------------------------------------------------------


def _opted_out(s: Session, workspace: str) -> set[str]:
    return set(
        s.exec(select(Person.user_id).where(Person.workspace == workspace, col(Person.opted_out).is_(True)))
    )


def _board_of(workspace: str, period: str, now: datetime | None, channel: str | None):
    """The WHERE clause selecting one board's rows, opted-out people left out."""
    t = BoardTotal.__table__
    hidden = (
        select(Person.id)
        .where(Person.workspace == workspace, Person.user_id == t.c.user_id, col(Person.opted_out).is_(True))
        .exists()
    )
    return and_(t.c.workspace == workspace, t.c.period_kind == period,
                t.c.period_key == period_key(period, _utc(now)), t.c.channel == (channel or ""), ~hidden)


def _ahead_of(points: int, rounds: int, reached: datetime, user_id: str):
    """Rows ranked above (points, rounds, reached, user_id): more points, fewer rounds, earlier, lower id."""
    t = BoardTotal.__table__
    return or_(
        t.c.points > points,
        and_(t.c.points == points, or_(
            t.c.rounds < rounds,
            and_(t.c.rounds == rounds, or_(
                t.c.reached < reached,
                and_(t.c.reached == reached, t.c.user_id < user_id),
            )),
        )),
    )


def _top(s: Session, workspace: str, period: str, now: datetime | None, channel: str | None,
         limit: int) -> list[tuple[str, int, int]]:
    t = BoardTotal.__table__
    q = (
        select(t.c.user_id, t.c.points, t.c.rounds)
        .where(_board_of(workspace, period, now, channel))
        .order_by(t.c.points.desc(), t.c.rounds, t.c.reached, t.c.user_id)
        .limit(limit)
    )
    return [(u, int(p), int(n)) for u, p, n in s.connection().execute(q)]


def _rank(s: Session, workspace: str, user_id: str, period: str, now: datetime | None,
          channel: str | None = None, *, without_interview: int | None = None) -> int | None:
    """The person's rank on a board, optionally as it was without one interview's points."""
    if user_id in _opted_out(s, workspace):
        return None
    t = BoardTotal.__table__
    conn = s.connection()
    if without_interview is None:
        own = conn.execute(
            select(t.c.points, t.c.rounds, t.c.reached)
            .where(_board_of(workspace, period, now, channel), t.c.user_id == user_id)
        ).first()
    else:
        own = _own_without(conn, workspace, user_id, period, now, channel, without_interview)
    if own is None:
        return None
    points, rounds, reached = own
    ahead = conn.execute(
        select(func.count())
        .select_from(t)
        .where(_board_of(workspace, period, now, channel), t.c.user_id != user_id,
               _ahead_of(points, rounds, as_utc(reached), user_id))
    ).scalar_one()
    return int(ahead) + 1


def _own_without(conn: Connection, workspace: str, user_id: str, period: str, now: datetime | None,
                 channel: str | None, interview_id: int):
    """(points, rounds, reached) of the person in the period without one interview; None if nothing left."""
    pe = PointEntry.__table__
    start, end = period_window(period, now)
    q = (
        select(func.sum(pe.c.points), func.count(), func.max(case((pe.c.points > 0, pe.c.created_at))),
               func.min(pe.c.created_at))
        .where(pe.c.workspace == workspace, pe.c.user_id == user_id, pe.c.interview_id != interview_id)
    )
    if start is not None and end is not None:
        q = q.where(pe.c.created_at >= start, pe.c.created_at < end)
    if channel is not None:
        q = q.where(pe.c.channel == channel)
    points, rounds, scored, first = conn.execute(q).one()
    if not rounds:
        return None
    return int(points), int(rounds), scored if scored is not None else first


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
        ranking = _top(s, workspace, period, now, channel, limit)
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
        return _rank(s, workspace, user_id, period, now, channel)


def rank_change(
    db: Engine, workspace: str, user_id: str, interview_id: int, *, period: str = "all",
    now: datetime | None = None, session: Session | None = None,
) -> RankChange:
    """The rank the person had without this interview's points, and the rank they have with them.

    Pass `session` to read inside a transaction that has just awarded the points."""
    with nullcontext(session) if session is not None else Session(db) as s:
        before = _rank(s, workspace, user_id, period, now, without_interview=interview_id)
        after = _rank(s, workspace, user_id, period, now)
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
            return None if opted_out else _rank(s, workspace, user_id, period, now)

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
