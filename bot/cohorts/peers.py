"""Peer mock interviews: a cohort's members practise in pairs (a trio when the number is odd), one
interviewing the other, and the interviewer's ratings are kept beside the bot's grade.

Pure domain (no Slack): the Slack side asks `due_pairings` whom to tell, `start_turn` which turn to open,
`record_rating` to store a rating and `side_by_side` what to show. The clock is always an argument.

Rules:
- A manager turns peer mocks on (weekly or biweekly) or off for a cohort. Periods start on Mondays at
  the cohort's local time in its first manager's timezone; turned on by Wednesday, the first period is
  the current week (its pairs are made at once), later in the week it is the next one.
- Each period the active members (not paused) are grouped so that no pair meets twice while a grouping
  without a repeat exists: the grouping with the fewest repeated pairs is chosen, then the one whose
  most-met pair has met least. An odd member out makes one trio.
- In a group everyone interviews once and is interviewed once: the first interviews the second, the
  second the next, the last the first. Whoever interviewed first last time is not first this time.
- Ratings are stored between members who accepted the pairing (pressing Start, or answering in the
  session); the interviewer rates each round 1–4 on every dimension the round weighs, plus a verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.cohorts.calibration import LEVELS, CalibrationReport, Comparison, bot_levels, calibrate, level_of
from bot.cohorts.cohorts import (
    USAGE,
    CohortCommandError,
    CohortError,
    _valid_name,
    get_cohort,
    local_due_at,
    managers,
    require_manager,
)
from bot.content import Content
from bot.rubric.types import VERDICTS
from bot.store.channels import as_utc as _as_utc
from bot.store.cohorts import Cohort, CohortMember
from bot.store.db import session_scope
from bot.store.models import GradeRecord, Interview
from bot.store.peers import PeerGroup, PeerPeriod, PeerProgram, PeerRating, PeerSession

CADENCES = {"weekly": 1, "biweekly": 2}  # weeks per period
DISAGREEMENT = 2  # steps apart on the 1–4 scale that count as a real disagreement
LAST_START_WEEKDAY = 2  # turned on by Wednesday, the first pairs are this week's
SEARCH_BUDGET = 50_000
# A group whose members could not be told (Slack was failing) is retried for this long; after that the
# week is mostly gone and a late "you're paired" would only confuse.
# A turn whose Start never got as far as attaching it (the process died) is taken over after this.
OPENING_WITHIN = timedelta(minutes=2)
TELL_WITHIN = timedelta(days=3)  # groupings tried before settling for a greedy one (large cohorts)
PAIRS_USAGE = USAGE["pairs"]


class PeerError(CohortError):
    """A peer-mock request that cannot be carried out, in words the person can act on."""


# ---- `/gauntlet cohort pairs …` -------------------------------------------------------------------------

@dataclass(frozen=True)
class PairsCommand:
    name: str | None
    cadence: str | None  # None turns peer mocks off


def parse_pairs_command(words: Sequence[str]) -> PairsCommand:
    """The words after `/gauntlet cohort pairs`: `[NAME] on weekly|biweekly` or `[NAME] off`."""
    tokens = [w.lower() for w in words]
    name = None
    if tokens and tokens[0] not in ("on", "off"):
        name = _valid_name("pairs", tokens[0]) if len(tokens) > 1 else None
        if name is None:
            raise CohortCommandError(f"Say on weekly, on biweekly or off.\nUsage: {PAIRS_USAGE}")
        tokens = tokens[1:]
    if tokens == ["off"]:
        return PairsCommand(name, None)
    if len(tokens) == 2 and tokens[0] == "on" and tokens[1] in CADENCES:
        return PairsCommand(name, tokens[1])
    if len(tokens) == 1 and tokens[0] == "on":
        raise CohortCommandError(f"How often: weekly or biweekly?\nUsage: {PAIRS_USAGE}")
    raise CohortCommandError(f"Say on weekly, on biweekly or off.\nUsage: {PAIRS_USAGE}")


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("pass an aware datetime for now (UTC)")
    return now.astimezone(UTC)


def _cohort_tz(db: Engine, cohort: Cohort) -> str:
    run = managers(db, cohort)
    return run[0].tz if run else "UTC"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def first_monday(today: date) -> date:
    """Where a newly started programme's first period begins: this week when it is turned on by
    Wednesday (enough of the week is left to meet), otherwise next week."""
    monday = _monday(today)
    return monday if today.weekday() <= LAST_START_WEEKDAY else monday + timedelta(weeks=1)


def set_pairs(db: Engine, cohort: Cohort, actor: str, cadence: str | None, *, now: datetime) -> PeerProgram:
    """Turn peer mocks on with a cadence (periods counted from this week's Monday) or off."""
    require_manager(db, cohort, actor)
    if cadence is not None and cadence not in CADENCES:
        raise PeerError(f"'{cadence}' is not a cadence; use weekly or biweekly.")
    stamp = _utc(now)
    today = stamp.astimezone(ZoneInfo(_cohort_tz(db, cohort))).date()
    with session_scope(db) as s:
        program = s.exec(select(PeerProgram).where(PeerProgram.cohort_id == cohort.id)).first()
        if program is None:
            if cadence is None:
                raise PeerError(f"Peer mocks are not on for '{cohort.name}'; nothing to turn off.")
            program = PeerProgram(cohort_id=cohort.id or 0, workspace=cohort.workspace, cadence=cadence,
                                  starts_on=first_monday(today), changed_by=actor, changed_at=stamp)
        elif cadence is not None and (not program.enabled or program.cadence != cadence):
            # A fresh start with this week as its first period. Period numbers keep growing across
            # restarts (the first new one is numbered after the last claimed), so an old claim never
            # blocks a new period.
            following = _last_period(s, cohort.id or 0) + 1
            program.starts_on = first_monday(today) - timedelta(weeks=CADENCES[cadence] * following)
            program.cadence, program.enabled = cadence, True
        elif cadence is None:
            program.enabled = False
        program.changed_by, program.changed_at = actor, stamp
        s.add(program)
        return program


def _last_period(s: Session, cohort_id: int) -> int:
    periods = s.exec(select(PeerPeriod.period).where(PeerPeriod.cohort_id == cohort_id)).all()
    return max(periods, default=-1)


def program_of(db: Engine, cohort: Cohort) -> PeerProgram | None:
    with Session(db) as s:
        return s.exec(select(PeerProgram).where(PeerProgram.cohort_id == cohort.id)).first()


# ---- grouping ---------------------------------------------------------------------------------------------

def _key(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


def choose_groups(people: Sequence[str], met: Mapping[frozenset[str], int]) -> list[tuple[str, ...]]:
    """Pairs (and one trio when the number is odd) for this period.

    Among all groupings, the one with the fewest pairs that have met before wins; ties go to the one
    whose most-met pair has met least, then to the fewest meetings in total, then to the first found in
    name order. A pair inside a trio counts as having met."""
    people = sorted(set(people))
    if len(people) < 2:
        return []
    if len(people) == 3:
        return [tuple(people)]

    def count(a: str, b: str) -> int:
        return met.get(_key(a, b), 0)

    Cost = tuple[int, int, int]  # (pairs met before, most meetings of one pair, meetings in total)
    best: list[tuple[Cost, list[tuple[str, ...]]]] = []
    steps = [0]

    def cost(group: tuple[str, ...]) -> Cost:
        counts = [count(a, b) for a, b in combinations(group, 2)]
        return sum(1 for c in counts if c), max(counts), sum(counts)

    def search(remaining: list[str], chosen: list[tuple[str, ...]], so_far: Cost) -> None:
        # Every part of the cost only grows as groups are added, so a partial grouping already no
        # better than the best complete one cannot become better.
        steps[0] += 1
        if best and so_far >= best[0][0]:
            return
        if not remaining:
            best[:] = [(so_far, list(chosen))]
            return
        if steps[0] > SEARCH_BUDGET and best:
            return
        first, rest = remaining[0], remaining[1:]
        options: list[tuple[str, ...]] = []
        if len(remaining) % 2 == 1:  # the odd one out is absorbed by exactly one trio
            options += [(first, b, c) for b, c in combinations(rest, 2)]
        if len(remaining) != 3:
            options += [(first, b) for b in rest]
        options.sort(key=cost)
        for group in options:
            r, m, t = cost(group)
            chosen.append(group)
            search([p for p in rest if p not in group], chosen,
                   (so_far[0] + r, max(so_far[1], m), so_far[2] + t))
            chosen.pop()

    search(people, [], (0, 0, 0))
    return best[0][1]


def order_group(group: Sequence[str], history: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """Turn order: members who did not interview first in their last group go first (roles swap),
    then whoever has interviewed first least often; names break ties so the order is stable."""
    last_first: dict[str, bool] = {}
    firsts: Counter[str] = Counter()
    for members in history:  # oldest first
        for m in members:
            last_first[m] = members[0] == m
        firsts[members[0]] += 1
    return tuple(sorted(group, key=lambda m: (last_first.get(m, False), firsts[m], m)))


def turns_of(members: Sequence[str]) -> list[tuple[str, str]]:
    """(interviewer, interviewee) for each turn: everyone interviews once and is interviewed once."""
    n = len(members)
    return [(members[i], members[(i + 1) % n]) for i in range(n)]


@dataclass(frozen=True)
class DuePairing:
    """A group whose members have not been told yet."""

    workspace: str
    cohort: str
    group_id: int
    period: int
    starts_on: date
    members: tuple[str, ...]  # turn order: members[0] interviews first

    @property
    def turns(self) -> list[tuple[str, str]]:
        return turns_of(self.members)


def _period_now(program: PeerProgram, today: date) -> tuple[int, date] | None:
    days = (today - program.starts_on).days
    if days < 0:
        return None
    length = 7 * CADENCES[program.cadence]
    period = days // length
    return period, program.starts_on + timedelta(days=period * length)


def due_pairings(db: Engine, now: datetime) -> list[DuePairing]:
    """Claim each cohort's current period once it has started, group its active members, and return
    every group whose members have not been told yet (new ones, and ones whose messages failed)."""
    stamp = _utc(now)
    with Session(db) as s:
        programs = s.exec(
            select(PeerProgram, Cohort).join(Cohort, col(Cohort.id) == col(PeerProgram.cohort_id))
            .where(PeerProgram.enabled == True)  # noqa: E712
        ).all()
    for program, cohort in programs:
        tz = _cohort_tz(db, cohort)
        today = stamp.astimezone(ZoneInfo(tz)).date()
        current = _period_now(program, today)
        if current is None:
            continue
        period, starts_on = current
        if stamp < local_due_at(starts_on, cohort.local_time, tz):
            continue  # this period's pairing time (Monday at the cohort's time) has not come yet
        _claim_period(db, cohort, period, starts_on, today, stamp)
    return _unnotified(db, stamp - TELL_WITHIN)


def _claim_period(db: Engine, cohort: Cohort, period: int, starts_on: date, today: date,
                  stamp: datetime) -> None:
    try:
        with session_scope(db) as s:
            row = PeerPeriod(cohort_id=cohort.id or 0, workspace=cohort.workspace, period=period,
                             starts_on=starts_on, claimed_at=stamp)
            s.add(row)
            s.flush()
            # Members who accepted: an open invitation sends nothing and pairs nobody (consent).
            roster = s.exec(select(CohortMember).where(CohortMember.cohort_id == cohort.id,
                                                       col(CohortMember.accepted_at).is_not(None))).all()
            active = [m.user_id for m in roster if m.paused_until is None or m.paused_until <= today]
            history = [list(g.members) for g in s.exec(
                select(PeerGroup).where(PeerGroup.cohort_id == cohort.id).order_by(col(PeerGroup.id)))]
            met: Counter[frozenset[str]] = Counter()
            for members in history:
                for a, b in combinations(members, 2):
                    met[_key(a, b)] += 1
            for group in choose_groups(active, met):
                s.add(PeerGroup(period_id=row.id or 0, cohort_id=cohort.id or 0, workspace=cohort.workspace,
                                members=list(order_group(group, history)), created_at=stamp))
    except IntegrityError:
        return  # another process claimed this period first


def _unnotified(db: Engine, since: datetime) -> list[DuePairing]:
    with Session(db) as s:
        rows = s.exec(
            select(PeerGroup, PeerPeriod, Cohort)
            .join(PeerPeriod, col(PeerPeriod.id) == col(PeerGroup.period_id))
            .join(Cohort, col(Cohort.id) == col(PeerGroup.cohort_id))
            .where(PeerGroup.notified_at == None, col(PeerGroup.created_at) >= since)  # noqa: E711
            .order_by(col(PeerGroup.id))
        ).all()
    return [DuePairing(c.workspace, c.name, g.id or 0, p.period, p.starts_on, tuple(g.members))
            for g, p, c in rows]


def mark_notified(db: Engine, group_id: int, *, now: datetime,
                  then: Callable[[Session], None] | None = None) -> bool:
    """Mark the group told; `then(session)` runs in the same transaction (the Slack side owes the DMs
    there, so the mark and the messages commit together or not at all). False when it was told already."""
    with session_scope(db) as s:
        group = s.get(PeerGroup, group_id)
        if group is None:
            raise PeerError(f"No peer group #{group_id}.")
        if group.notified_at is not None:
            return False
        group.notified_at = _utc(now)
        s.add(group)
        if then is not None:
            then(s)
        return True


def group_cohort(db: Engine, group_id: int) -> tuple[str, list[str]] | None:
    """The name of the cohort a group belongs to and who runs it (to be told about the group), or None."""
    with Session(db) as s:
        group = s.get(PeerGroup, group_id)
        cohort = s.get(Cohort, group.cohort_id) if group is not None else None
    if cohort is None:
        return None
    return cohort.name, [m.user_id for m in managers(db, cohort)] or [cohort.created_by]


def groups_of(db: Engine, cohort: Cohort) -> list[tuple[int, tuple[str, ...]]]:
    """(period, members in turn order) for every group the cohort has had, oldest first."""
    with Session(db) as s:
        rows = s.exec(
            select(PeerGroup, PeerPeriod).join(PeerPeriod, col(PeerPeriod.id) == col(PeerGroup.period_id))
            .where(PeerGroup.cohort_id == cohort.id).order_by(col(PeerGroup.id))
        ).all()
    return [(p.period, tuple(g.members)) for g, p in rows]


# ---- sessions ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TurnStart:
    session_id: int
    group_id: int
    workspace: str
    cohort: str
    members: tuple[str, ...]
    interviewer: str
    interviewee: str
    turn: int  # 0-based
    total: int
    channel: str | None
    thread_ts: str | None
    interview_id: int | None
    resumed: bool  # the turn was already open: nothing new was started


def _group(s: Session, group_id: int) -> PeerGroup:
    group = s.get(PeerGroup, group_id)
    if group is None:
        raise PeerError("That pairing no longer exists (the cohort may have been changed).")
    return group


def accept(db: Engine, group_id: int, user_id: str) -> None:
    """Record that a member accepted the pairing (their ratings and answers may now be compared)."""
    with session_scope(db) as s:
        group = _group(s, group_id)
        if user_id not in group.members:
            raise PeerError("You are not in this pairing.")
        if user_id not in group.accepted:
            group.accepted = [*group.accepted, user_id]
            s.add(group)


def start_turn(db: Engine, group_id: int, actor: str, *, now: datetime) -> TurnStart:
    """Open the group's next turn (or hand back the one still open). Pressing Start accepts the pairing."""
    accept(db, group_id, actor)
    with session_scope(db) as s:
        group = _group(s, group_id)
        cohort = s.get(Cohort, group.cohort_id)
        assert cohort is not None
        sessions = s.exec(select(PeerSession).where(PeerSession.group_id == group_id)
                          .order_by(col(PeerSession.turn))).all()
        turns = turns_of(group.members)
        if sessions:
            last = sessions[-1]
            interview = s.get(Interview, last.interview_id) if last.interview_id else None
            if last.interview_id is None and _utc(now) - _as_utc(last.started_at) > OPENING_WITHIN:
                # Whoever pressed Start died before the turn was attached (and its messages owed): the
                # turn is taken over, once (a compare-and-set on when it was started).
                t = PeerSession.__table__
                taken = s.connection().execute(
                    update(t).where(t.c.id == last.id, t.c.interview_id.is_(None),
                                    t.c.started_at == last.started_at).values(started_at=_utc(now)))
                if taken.rowcount == 1:
                    return _turn_start(last, group, cohort, len(turns), resumed=False)
            if interview is None or interview.status == "active":
                return _turn_start(last, group, cohort, len(turns), resumed=True)
            if len(sessions) >= len(turns):
                raise PeerError("Every turn of this pairing is done. Thank you both!")
        interviewer, interviewee = turns[len(sessions)]
        row = PeerSession(group_id=group_id, workspace=group.workspace, user_id=interviewee,
                          interviewer_user=interviewer, turn=len(sessions), channel=group.channel,
                          started_at=_utc(now))
        s.add(row)
        try:
            s.flush()
        except IntegrityError:
            raise PeerError("That turn was just started by your partner; look in your group DM.") from None
        return _turn_start(row, group, cohort, len(turns), resumed=False)


def _turn_start(
    row: PeerSession, group: PeerGroup, cohort: Cohort, total: int, *, resumed: bool
) -> TurnStart:
    return TurnStart(row.id or 0, group.id or 0, group.workspace, cohort.name, tuple(group.members),
                     row.interviewer_user, row.user_id, row.turn, total, row.channel, row.thread_ts,
                     row.interview_id, resumed)


def attach_session(db: Engine, session_id: int, *, channel: str, thread_ts: str | None, interview_id: int,
                   then: Callable[[Session], None] | None = None) -> None:
    """Where the turn happens (the group DM, and its thread once the turn's first message is out) and the
    interview the bot grades quietly. `then(session)` runs in the same transaction (the Slack side owes
    the turn's first message and the interviewer's script there)."""
    with session_scope(db) as s:
        row = s.get(PeerSession, session_id)
        if row is None:
            raise PeerError(f"No peer session #{session_id}.")
        t = PeerSession.__table__
        attached = s.connection().execute(
            update(t).where(t.c.id == session_id, t.c.interview_id.is_(None))
            .values(channel=channel, thread_ts=thread_ts, interview_id=interview_id))
        if attached.rowcount != 1:  # taken over meanwhile (`start_turn`): that one opens the turn
            raise PeerError("That turn was just started by your partner; look in your group DM.")
        s.refresh(row)
        group = _group(s, row.group_id)
        group.channel = channel
        s.add(group)
        if then is not None:
            then(s)


def abandon_turn(db: Engine, session_id: int) -> bool:
    """Forget a turn that never got its thread (Slack refused the group DM), so Start can try again."""
    with session_scope(db) as s:
        row = s.get(PeerSession, session_id)
        if row is None or row.thread_ts is not None:
            return False
        s.delete(row)
        return True


def open_session_for(db: Engine, workspace: str, channel: str, user_id: str) -> PeerSession | None:
    """The newest turn in this group DM where this person is the one answering."""
    with Session(db) as s:
        return s.exec(select(PeerSession).where(
            PeerSession.workspace == workspace, PeerSession.channel == channel,
            PeerSession.user_id == user_id).order_by(col(PeerSession.id).desc())).first()


def turns_in_group(db: Engine, group_id: int) -> int:
    with Session(db) as s:
        return len(_group(s, group_id).members)


def session_in_thread(db: Engine, workspace: str, channel: str, thread_ts: str) -> PeerSession | None:
    with Session(db) as s:
        return s.exec(select(PeerSession).where(
            PeerSession.workspace == workspace, PeerSession.channel == channel,
            PeerSession.thread_ts == thread_ts)).first()


def get_session(db: Engine, session_id: int) -> PeerSession:
    with Session(db) as s:
        row = s.get(PeerSession, session_id)
    if row is None:
        raise PeerError("That peer session no longer exists.")
    return row


def rated_rounds(db: Engine, session_id: int) -> set[str]:
    with Session(db) as s:
        return set(s.exec(select(PeerRating.round).where(PeerRating.session_id == session_id)))


# ---- the interviewer's script ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ScriptRound:
    round: str
    title: str
    question: str
    probes: list[str]  # follow-ups to choose from
    strong: list[str]  # what a strong answer contains, one line per dimension the round weighs
    tests: str


def interviewer_script(content: Content, rubric) -> list[ScriptRound]:
    """Each main round's question, its probes and what a strong answer contains, from the content and
    the rubric's own words (its first hint for each dimension says what the answer should have)."""
    out = []
    for rid in content.order:
        rnd = content.rounds[rid]
        probes = [" ".join(p.ask.split()) for p in content.probes if rid in p.after]
        strong = []
        for key, weight in sorted(rnd.weighs.items(), key=lambda kv: (-kv[1], kv[0])):
            hints = rubric.hints.get(key) or {}
            first = next(iter(hints.values()), "")
            strong.append(f"{rubric.labels.get(key, key)} ({weight}%): {first}".rstrip(": "))
        out.append(ScriptRound(rid, rnd.title, " ".join(rnd.prompt.split()), probes, strong,
                               " ".join(rnd.tests.split())))
    return out


# ---- ratings ----------------------------------------------------------------------------------------------

def _best_grade(s: Session, interview_id: int, round_id: str) -> GradeRecord | None:
    rows = s.exec(select(GradeRecord).where(GradeRecord.interview_id == interview_id,
                                            GradeRecord.round == round_id)
                  .order_by(col(GradeRecord.id))).all()
    best = None
    for r in rows:  # the best attempt counts, as on the scorecard; a later equal attempt wins the tie
        if best is None or r.score >= best.score:
            best = r
    return best


def record_rating(
    db: Engine, session_id: int, round_id: str, rater: str, verdict: str, dimensions: Mapping[str, int],
    content: Content, *, now: datetime, then: Callable[[Session, PeerRating], None] | None = None,
) -> PeerRating:
    """Store the interviewer's rating of one round of their turn, beside the bot's grade of it.
    `then(session, rating)` runs in the same transaction (the Slack side owes the side-by-side view)."""
    if verdict not in VERDICTS:
        raise PeerError(f"Choose a verdict: {', '.join(VERDICTS)}.")
    if round_id not in content.rounds:
        raise PeerError(f"There is no round '{round_id}'.")
    weighs = content.rounds[round_id].weighs
    missing = [k for k in weighs if k not in dimensions]
    extra = [k for k in dimensions if k not in weighs]
    if missing or extra:
        raise PeerError(f"Rate exactly the dimensions {content.rounds[round_id].title} weighs: "
                        f"{', '.join(weighs)}.")
    for key, value in dimensions.items():
        if value not in LEVELS:
            raise PeerError(f"Ratings are 1 (missing) to 4 (strong), not {value!r} for {key}.")
    with session_scope(db) as s:
        row = s.get(PeerSession, session_id)
        if row is None:
            raise PeerError("That peer session no longer exists.")
        if rater != row.interviewer_user:
            raise PeerError("Only the interviewer of this turn rates it.")
        group = _group(s, row.group_id)
        if rater not in group.accepted:
            group.accepted = [*group.accepted, rater]  # rating is accepting the pairing
            s.add(group)
        if row.user_id not in group.accepted:
            raise PeerError("Your partner has not accepted the pairing yet, so their answers are not rated.")
        grade = _best_grade(s, row.interview_id or 0, round_id)
        if grade is None:
            raise PeerError(f"There is no graded answer for {content.rounds[round_id].title} yet.")
        rating = PeerRating(session_id=session_id, cohort_id=group.cohort_id, answer_id=grade.answer_id,
                            workspace=row.workspace, user_id=row.user_id, rated_by=rater, round=round_id,
                            verdict=verdict, dimensions={k: int(v) for k, v in dimensions.items()},
                            created_at=_utc(now))
        s.add(rating)
        try:
            s.flush()
        except IntegrityError:
            raise PeerError(f"You already rated {content.rounds[round_id].title} in this turn.") from None
        if then is not None:
            then(s, rating)
        return rating


@dataclass(frozen=True)
class DimensionView:
    key: str
    label: str
    human: int
    bot: int
    evidence: list[str]  # the bot's quotes from the answer

    @property
    def disagrees(self) -> bool:
        return abs(self.human - self.bot) >= DISAGREEMENT


@dataclass(frozen=True)
class SideBySide:
    round: str
    title: str
    interviewer: str
    interviewee: str
    human_verdict: str
    bot_verdict: str
    bot_score: int
    dimensions: list[DimensionView]

    @property
    def disagreements(self) -> list[DimensionView]:
        return [d for d in self.dimensions if d.disagrees]


def side_by_side(db: Engine, rating_id: int, content: Content, labels: Mapping[str, str]) -> SideBySide:
    """The interviewer's rating and the bot's grade of the same round, dimension by dimension."""
    with Session(db) as s:
        rating = s.get(PeerRating, rating_id)
        if rating is None:
            raise PeerError("That rating no longer exists.")
        return side_by_side_in(s, rating, content, labels)


def side_by_side_in(s: Session, rating: PeerRating, content: Content,
                    labels: Mapping[str, str]) -> SideBySide:
    """`side_by_side` in the caller's session (the transaction that stores the rating)."""
    grade = s.exec(select(GradeRecord).where(GradeRecord.answer_id == rating.answer_id)).one()
    bot_dims = {d["key"]: d for d in grade.dimensions if d.get("max")}
    views = []
    for key in content.rounds[rating.round].weighs:
        if key not in rating.dimensions or key not in bot_dims:
            continue
        d = bot_dims[key]
        views.append(DimensionView(key, labels.get(key, d.get("label") or key), rating.dimensions[key],
                                   level_of(d["score"], d["max"]), list(d.get("evidence") or [])))
    return SideBySide(rating.round, content.rounds[rating.round].title, rating.rated_by, rating.user_id,
                      rating.verdict, grade.verdict, grade.score, views)


def ratings_by_answer(db: Engine, answer_ids: Sequence[int]) -> dict[int, PeerRating]:
    if not answer_ids:
        return {}
    with Session(db) as s:
        rows = s.exec(select(PeerRating).where(col(PeerRating.answer_id).in_(list(answer_ids)))).all()
    return {r.answer_id: r for r in rows}


# ---- agreement --------------------------------------------------------------------------------------------

def stored_comparisons(
    db: Engine, *, workspace: str | None = None, cohort: str | None = None
) -> list[Comparison]:
    """Every stored human rating paired with the bot's grade of the same answer."""
    query = select(PeerRating, GradeRecord).join(
        GradeRecord, col(GradeRecord.answer_id) == col(PeerRating.answer_id))
    if cohort is not None:
        if workspace is None:
            raise PeerError("Name the workspace too (--workspace) to pick a cohort.")
        query = query.where(PeerRating.cohort_id == get_cohort(db, workspace, cohort).id)
    if workspace is not None:
        query = query.where(PeerRating.workspace == workspace)
    with Session(db) as s:
        rows = s.exec(query.order_by(col(PeerRating.id))).all()
    return [Comparison(id=str(r.answer_id), round=r.round, human_verdict=r.verdict, bot_verdict=g.verdict,
                       human_dimensions=dict(r.dimensions),
                       bot_dimensions=bot_levels({"dimensions": g.dimensions}))
            for r, g in rows]


def cohort_agreement(db: Engine, workspace: str, cohort: str) -> CalibrationReport:
    return calibrate(stored_comparisons(db, workspace=workspace, cohort=cohort))
