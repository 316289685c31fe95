"""The interview state machine: prompt → answer → grade → next round or probe → … → scorecard.

One interview per person and conversation. Every step is persisted before anything is said back, so
a restarted process resumes exactly where the person left off. Knows nothing about Slack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.boards.leaderboard import keep_running_totals
from bot.content import Content, Probe, default_content, evaluate_condition
from bot.interview import followups, incident
from bot.interview.clock import AnswerTime, answer_note, words_in
from bot.rubric import grade as rubric_grade
from bot.rubric import merge_followup, verdict_for
from bot.rubric.config import rubric_from
from bot.rubric.types import LEVELS, DimensionResult, Grade
from bot.store.db import session_scope
from bot.store.models import Answer, FollowUp, GradeRecord, HandledEvent, Interview, PointEntry, utcnow

COMMANDS = ("skip", "retry", "stop")
# At most one follow-up question per round (a probe that sends the interview to another round, like
# the SQL trap, does not count): a real interviewer digs once, then moves on.
FOLLOW_UPS_PER_ROUND = 1

Grader = Callable[..., Grade]
# Runs inside the transaction of a step, before it commits: the caller adds what the step owes (a
# reply in the outbox) and marks its own bookkeeping, so both commit with the step or neither does.
Then = Callable[[Session, "Turn"], None]

# The engine awards points (`PointEntry`); the boards' running totals follow every one it writes.
keep_running_totals()


class InterviewError(ValueError):
    """A request the interview cannot take (unknown round, finished interview, …), in plain words."""


@dataclass(frozen=True)
class Question:
    interview_id: int
    round: str
    title: str
    text: str
    probe_id: str | None = None
    why: str | None = None  # why a probe was asked, in words the person can act on
    number: int = 1  # which main round this is, for "Round 2 of 5"
    total: int = 1


@dataclass(frozen=True)
class RoundResult:
    round: str
    title: str
    score: int | None  # None when not answered (skipped, still open, or never reached)
    attempts: int  # answers to the round's own question (first try and retries), not follow-up replies
    verdict: str = ""
    reached: bool = True  # False for a round the interview never got to (it was stopped first)


@dataclass(frozen=True)
class Scorecard:
    interview_id: int
    status: str
    score: int
    verdict: str
    rounds: list[RoundResult]
    dimensions: list[DimensionResult]  # aggregated over the best attempt of every graded round
    practise_next: str  # the one thing to practise next
    flags: list[str] = field(default_factory=list)
    timed: bool = False
    times: list[AnswerTime] = field(default_factory=list)  # every answer, in order
    elapsed: float = 0.0  # seconds spent on the answers, against the gauntlet's 20 minutes

    # The total is the mean over every round of the interview (the rounds it set out to ask, plus the
    # SQL trap when it was sprung): a skipped, unanswered or never-reached round counts as 0, so
    # stopping early never scores better than finishing with a round skipped.
    TOTAL_RULE = "the average of all {n} rounds; one skipped or not answered counts 0"

    @property
    def answered(self) -> int:
        """Rounds with a graded answer; 0 means "no answers yet", which is not a score of 0."""
        return sum(1 for r in self.rounds if r.score is not None)

    def total_rule(self) -> str:
        return self.TOTAL_RULE.format(n=len(self.rounds))


@dataclass(frozen=True)
class Turn:
    """What happened after one message from the person."""

    interview_id: int
    grade: Grade | None = None
    best_score: int | None = None  # the round's best attempt so far
    attempt: int = 0
    next: Question | None = None
    scorecard: Scorecard | None = None
    notice: str | None = None
    duplicate: bool = False  # this event was already handled (a retry of a delivery)


class InterviewEngine:
    def __init__(self, db: Engine, content: Content | None = None, grader: Grader | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.db = db
        self.content = content or default_content()
        self.grader = grader or rubric_grade
        self.clock = clock or utcnow  # when a question is put and an answer arrives (the timed mode)

    # ---- starting and finding interviews -------------------------------------------------------

    def start(
        self,
        *,
        workspace: str,
        user_id: str,
        source: str,
        level: str = "mid",
        only_round: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
        prompt_id: str | None = None,
        timed: bool = False,
    ) -> Question:
        if level not in LEVELS:
            raise InterviewError(f"Unknown level '{level}'. Choose one of: {', '.join(LEVELS)}.")
        first = only_round or self.content.order[0]
        if first not in self.content.rounds:
            known = ", ".join(self.round_ids())
            raise InterviewError(f"Unknown round '{first}'. Choose one of: {known}.")
        with session_scope(self.db) as s:
            interview = Interview(
                workspace=workspace,
                user_id=user_id,
                source=source,
                level=level,
                only_round=only_round,
                channel=channel,
                thread_ts=thread_ts,
                prompt_id=prompt_id,
                round=first,
                path=[first],
                timed=timed,
                asked_at=self.clock(),
            )
            s.add(interview)
            s.flush()
            return self._question(interview)

    def round_ids(self) -> list[str]:
        order = list(self.content.order)
        return order + [r for r in self.content.rounds if r not in order]

    def get(self, interview_id: int) -> Interview:
        with Session(self.db) as s:
            interview = s.get(Interview, interview_id)
            if interview is None:
                raise InterviewError(f"No interview #{interview_id}.")
            return interview

    def find_latest(
        self,
        workspace: str,
        user_id: str,
        *,
        source: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> Interview | None:
        """The person's newest interview in this place, whatever its status."""
        return self._newest(workspace, user_id, None, source, channel, thread_ts)

    def find_active(
        self,
        workspace: str,
        user_id: str,
        *,
        source: str | None = None,
        channel: str | None = None,
        thread_ts: str | None = None,
    ) -> Interview | None:
        """The person's newest active interview in this place (a thread, a DM, the terminal)."""
        return self._newest(workspace, user_id, "active", source, channel, thread_ts)

    def _newest(self, workspace, user_id, status, source, channel, thread_ts) -> Interview | None:
        with Session(self.db) as s:
            q = select(Interview).where(Interview.workspace == workspace, Interview.user_id == user_id)
            for column, value in (
                (Interview.status, status), (Interview.source, source), (Interview.channel, channel),
                (Interview.thread_ts, thread_ts),
            ):
                if value is not None:
                    q = q.where(column == value)
            return s.exec(q.order_by(col(Interview.id).desc())).first()

    def seen_event(self, event_id: str) -> bool:
        """Whether a delivery with this event id was already taken (as an answer or a command)."""
        with Session(self.db) as s:
            return (
                s.exec(select(Answer.id).where(Answer.event_id == event_id)).first() is not None
                or s.get(HandledEvent, event_id) is not None
            )

    def current_question(self, interview_id: int) -> Question:
        interview = self.get(interview_id)
        if interview.status != "active":
            raise InterviewError(f"Interview #{interview_id} is {interview.status}.")
        return self._question(interview)

    # ---- the person's messages ----------------------------------------------------------------

    def handle(
        self, interview_id: int, text: str, *, event_id: str | None = None, message_ts: str | None = None
    ) -> Turn:
        """Take one message: a command (skip, retry, stop) or an answer to the open question."""
        command = text.strip().lower().lstrip("!/")
        if command in COMMANDS:
            if event_id is not None and not self._claim_event(event_id):
                return Turn(interview_id=interview_id, duplicate=True)
            return getattr(self, command)(interview_id)
        answer_id = self.record_answer(interview_id, text, event_id=event_id, message_ts=message_ts)
        if answer_id is None:
            return Turn(interview_id=interview_id, duplicate=True)
        return self.grade_answer(answer_id)

    def claim_event(self, event_id: str) -> bool:
        """Take this delivery once: False when it (a retry of it) was already taken."""
        return self._claim_event(event_id)

    def _claim_event(self, event_id: str) -> bool:
        try:
            with session_scope(self.db) as s:
                s.add(HandledEvent(event_id=event_id))
            return True
        except IntegrityError:
            return False

    def record_answer(
        self, interview_id: int, text: str, *, event_id: str | None = None, message_ts: str | None = None
    ) -> int | None:
        """Persist an answer before grading it, so a crash mid-grading never loses it.

        Returns None when this event id was already recorded (a redelivery). NUL, which PostgreSQL
        cannot hold in text, is stored as U+FFFD on every backend."""
        text = text.replace("\x00", "\ufffd")
        try:
            with session_scope(self.db) as s:
                interview = self._active(s, interview_id)
                # An attempt is an answer to the round's own question (the first try or a retry); a
                # reply to a follow-up completes the attempt it follows, so it keeps that number.
                tries = len(s.exec(
                    select(Answer.id).where(
                        Answer.interview_id == interview_id, Answer.round == interview.round,
                        Answer.probe_id == None,  # noqa: E711  (SQL IS NULL)
                    )
                ).all())
                attempt = max(tries, 1) if interview.probe_id is not None else tries + 1
                asked, now = _aware(interview.asked_at), self.clock()
                arrived = _when(message_ts)  # a Slack message's own send time, when it is plausible
                if arrived is None or asked is None or not asked <= arrived <= now:
                    arrived = now
                answer = Answer(
                    seconds=max(0.0, (arrived - asked).total_seconds()) if asked else None,
                    interview_id=interview_id,
                    workspace=interview.workspace,
                    user_id=interview.user_id,
                    round=interview.round,
                    probe_id=interview.probe_id,
                    attempt=attempt,
                    text=text,
                    event_id=event_id,
                    channel=interview.channel,
                    message_ts=message_ts,
                )
                s.add(answer)
                s.flush()
                return answer.id
        except IntegrityError:
            if event_id is None:
                raise
            return None

    def answer_for_event(self, event_id: str) -> Answer | None:
        """The answer a Slack delivery with this event id recorded, if any."""
        with Session(self.db) as s:
            return s.exec(select(Answer).where(Answer.event_id == event_id)).first()

    def pending_answers(self) -> list[Answer]:
        """Answers recorded but never graded (the process died between the two steps)."""
        with Session(self.db) as s:
            return list(s.exec(select(Answer).where(Answer.status == "received").order_by(Answer.id)))

    def grade_answer(self, answer_id: int, *, then: Then | None = None) -> Turn:
        """Grade a recorded answer and move the interview on. Idempotent for an answer already graded
        (then `then` is not called: what the grade owed was committed with it)."""
        with session_scope(self.db) as s:
            answer = s.get(Answer, answer_id)
            if answer is None:
                raise InterviewError(f"No answer #{answer_id}.")
            interview = s.get(Interview, answer.interview_id)
            assert interview is not None
            if answer.status == "graded":
                return Turn(interview_id=interview.id, duplicate=True)
            grade = self._grade(s, answer, interview)
            text = self._told(s, answer)
            s.add(_grade_record(answer, interview, grade))
            answer.status = "graded"
            s.add(answer)
            facts = incident.read_facts(text, grade, answer.round)
            if facts:
                interview.incident = incident.merge(interview.incident, facts, answer.round)
            best = self._award_points(s, interview, answer.round, grade.score)
            turn_next, scorecard = self._advance(s, interview, answer, grade, text)
            notice = answer_note(answer.seconds, words_in(answer.text)) if interview.timed else None
            turn = Turn(
                interview_id=interview.id,
                grade=grade,
                best_score=best,
                attempt=answer.attempt,
                next=turn_next,
                scorecard=scorecard,
                notice=notice,
            )
            if then is not None:
                then(s, turn)
            return turn

    def regrade_edit(self, message_ts: str, text: str, *, workspace: str | None = None,
                     channel: str | None = None, user_id: str | None = None,
                     then: Then | None = None) -> Turn | None:
        """An edited answer is graded again while its round is still the open one.

        From Slack, the answer is the one message at (workspace, channel, ts), and only its author's
        edit counts; the terminal drill passes the ts alone."""
        with session_scope(self.db) as s:
            q = select(Answer).where(Answer.message_ts == message_ts)
            for column, value in ((Answer.workspace, workspace), (Answer.channel, channel),
                                  (Answer.user_id, user_id)):
                if value is not None:
                    q = q.where(column == value)
            answer = s.exec(q.order_by(col(Answer.id).desc())).first()
            if answer is None:
                return None
            interview = s.get(Interview, answer.interview_id)
            if interview is None or interview.status != "active":
                return None
            if interview.round != answer.round:
                return None  # the round has closed; its grade stands
            answer.text = text
            s.add(answer)
            record = s.exec(select(GradeRecord).where(GradeRecord.answer_id == answer.id)).first()
            grade = self._grade(s, answer, interview)
            if record is not None:
                new = _grade_record(answer, interview, grade)
                for name in ("score", "verdict", "summary", "dimensions", "flags", "flag_details", "signals"):
                    setattr(record, name, getattr(new, name))
                s.add(record)
            best = self._award_points(s, interview, answer.round, grade.score, recompute=True)
            turn = Turn(
                interview_id=interview.id,
                grade=grade,
                best_score=best,
                attempt=answer.attempt,
                next=self._question(interview),
                notice="Your edited answer was graded again.",
            )
            if then is not None:
                then(s, turn)
            return turn

    # ---- commands -------------------------------------------------------------------------------

    def skip(self, interview_id: int, *, then: Then | None = None) -> Turn:
        with session_scope(self.db) as s:
            interview = self._active(s, interview_id)
            skipped = interview.round
            question, scorecard = self._next_round(s, interview)
            title = self.content.rounds[skipped].title
            return _then(s, then, Turn(
                interview_id=interview_id,
                next=question,
                scorecard=scorecard,
                notice=f"Skipped: {title}.",
            ))

    def retry(self, interview_id: int, *, then: Then | None = None) -> Turn:
        with session_scope(self.db) as s:
            interview = self._active(s, interview_id)
            last = s.exec(
                select(Answer)
                .where(Answer.interview_id == interview_id, Answer.status == "graded")
                .order_by(col(Answer.id).desc())
            ).first()
            if last is None:
                return Turn(
                    interview_id=interview_id,
                    next=self._question(interview),
                    notice="There is nothing to retry yet: answer this question first.",
                )
            target = last.round
            interview.round = target
            interview.probe_id = None
            interview.updated_at = utcnow()
            interview.asked_at = self.clock()
            s.add(interview)
            title = self.content.rounds[target].title
            return _then(s, then, Turn(
                interview_id=interview_id,
                next=self._question(interview),
                notice=f"Answer {title} again; your best attempt counts.",
            ))

    def stop(self, interview_id: int, *, then: Then | None = None) -> Turn:
        with session_scope(self.db) as s:
            interview = self._active(s, interview_id)
            self._finish(s, interview, status="stopped")
            return _then(s, then, Turn(
                interview_id=interview_id,
                scorecard=self._scorecard(s, interview),
                notice="Interview stopped. Here is where you got to.",
            ))

    def restart_clock(self, interview_id: int) -> None:
        """The open question counts as put now (a resumed drill does not charge the time away)."""
        with session_scope(self.db) as s:
            interview = self._active(s, interview_id)
            interview.asked_at = self.clock()
            s.add(interview)

    def follow_ups(self, interview_id: int) -> list[FollowUp]:
        """Every follow-up asked in the interview, in order, with the sentence each one quoted."""
        with Session(self.db) as s:
            return list(s.exec(select(FollowUp).where(FollowUp.interview_id == interview_id)
                               .order_by(col(FollowUp.id))))

    def scorecard(self, interview_id: int) -> Scorecard:
        with Session(self.db) as s:
            interview = s.get(Interview, interview_id)
            if interview is None:
                raise InterviewError(f"No interview #{interview_id}.")
            return self._scorecard(s, interview)

    # ---- internals ------------------------------------------------------------------------------

    def _active(self, s: Session, interview_id: int) -> Interview:
        interview = s.get(Interview, interview_id)
        if interview is None:
            raise InterviewError(f"No interview #{interview_id}.")
        if interview.status != "active":
            raise InterviewError(f"This interview is already {interview.status}; start a new one.")
        return interview

    def _told(self, s: Session, answer: Answer) -> str:
        """What the person has said in this round so far: a follow-up reply with the answer it follows
        (the text a quote or an incident fact may come from)."""
        if answer.probe_id is None:
            return answer.text
        main = s.exec(
            select(Answer.text).where(
                Answer.interview_id == answer.interview_id, Answer.round == answer.round,
                Answer.probe_id == None,  # noqa: E711  (SQL IS NULL)
                col(Answer.id) < answer.id,
            ).order_by(col(Answer.id).desc())
        ).first()
        return f"{main}\n\n{answer.text}" if main is not None else answer.text

    def _grade(self, s: Session, answer: Answer, interview: Interview) -> Grade:
        """A round's answer is graded on its own. A reply to a follow-up is graded for itself and then
        merged with the round's answer it follows: per dimension the better of the two, so the reply
        can repair what the follow-up asked about (and the round's blame stays repaired)."""
        if answer.probe_id is None:
            return self.grader(answer.text, answer.round, interview.level, content=self.content,
                               id=str(answer.id))
        main = s.exec(
            select(GradeRecord)
            .join(Answer, col(Answer.id) == GradeRecord.answer_id)
            .where(
                Answer.interview_id == answer.interview_id,
                Answer.round == answer.round,
                Answer.probe_id == None,  # noqa: E711  (SQL IS NULL)
                col(Answer.id) < answer.id,
            )
            .order_by(col(Answer.id).desc())
        ).first()
        reply = self.grader(answer.text, answer.round, interview.level, content=self.content,
                            id=str(answer.id), followup=True)
        if main is None:
            return reply
        return merge_followup(Grade.from_dict(_record_dict(main)), reply, rubric_from(self.content.rubric))

    def _award_points(
        self, s: Session, interview: Interview, round_id: str, score: int, *, recompute: bool = False
    ) -> int:
        entry = s.exec(
            select(PointEntry).where(PointEntry.interview_id == interview.id, PointEntry.round == round_id)
        ).first()
        if recompute:
            s.flush()
            scores = s.exec(
                select(GradeRecord.score).where(
                    GradeRecord.interview_id == interview.id, GradeRecord.round == round_id
                )
            ).all()
            score = max([score, *scores])
        if entry is None:
            entry = PointEntry(
                workspace=interview.workspace,
                user_id=interview.user_id,
                interview_id=interview.id,
                round=round_id,
                points=score,
                channel=interview.channel,
            )
        elif recompute or score > entry.points:
            entry.points = score
        s.add(entry)
        return entry.points

    def _advance(
        self, s: Session, interview: Interview, answer: Answer, grade: Grade, text: str
    ) -> tuple[Question | None, Scorecard | None]:
        probe = self._choose_probe(interview, answer.round, grade)
        interview.updated_at = utcnow()
        interview.asked_at = self.clock()
        if probe is not None:
            interview.asked_probes = [*interview.asked_probes, probe.id]
            if probe.goto:
                interview.done = [*interview.done, interview.round]
                interview.round = probe.goto
                interview.probe_id = None
                if probe.goto not in interview.path:
                    interview.path = [*interview.path, probe.goto]
                s.add(interview)
                return self._question(interview, why=probe.why), None
            interview.probe_id = probe.id
            s.add(interview)
            asked = followups.ask(probe, grade, text)
            s.add(FollowUp(interview_id=interview.id, answer_id=answer.id, round=answer.round,
                           probe_id=probe.id, text=asked.text, slot=asked.slot, sentence=asked.sentence,
                           quote=asked.quote))
            return self._question(interview, s=s), None
        return self._next_round(s, interview)

    def _choose_probe(self, interview: Interview, round_id: str, grade: Grade) -> Probe | None:
        asked = set(interview.asked_probes)
        follow_ups_here = sum(
            1 for p in self.content.probes if p.id in asked and round_id in p.after and not p.goto
        )
        dims = {d.key: d.fraction for d in grade.dimensions if d.max}
        for probe in self.content.probes:
            if probe.id in asked or round_id not in probe.after:
                continue
            if not probe.goto and follow_ups_here >= FOLLOW_UPS_PER_ROUND:
                continue
            if probe.goto and interview.only_round and probe.goto != interview.only_round:
                # A one-round drill stays on its round.
                continue
            if evaluate_condition(
                probe.when, flags=set(grade.flags), signals=set(grade.signals), dimensions=dims,
                score=grade.score,
            ):
                return probe
        return None

    def _next_round(self, s: Session, interview: Interview) -> tuple[Question | None, Scorecard | None]:
        if interview.round not in interview.done:
            interview.done = [*interview.done, interview.round]
        nxt = None if interview.only_round else self._following_round(interview)
        interview.probe_id = None
        interview.updated_at = interview.asked_at = self.clock()
        if nxt is None:
            self._finish(s, interview, status="finished")
            return None, self._scorecard(s, interview)
        interview.round = nxt
        if nxt not in interview.path:
            interview.path = [*interview.path, nxt]
        s.add(interview)
        return self._question(interview), None

    def _following_round(self, interview: Interview) -> str | None:
        """The next main round not yet done (a retry may have sent the interview back)."""
        current = interview.round
        while True:
            current = self.content.next_round(current)
            if current is None or current not in interview.done:
                return current

    def _finish(self, s: Session, interview: Interview, *, status: str) -> None:
        interview.status = status
        interview.probe_id = None
        interview.finished_at = interview.updated_at = utcnow()
        s.add(interview)
        s.flush()
        interview.score = self._scorecard(s, interview).score
        s.add(interview)

    def _question(
        self, interview: Interview, why: str | None = None, *, s: Session | None = None
    ) -> Question:
        rnd = self.content.rounds[interview.round]
        main = [r for r in self.content.order]
        if interview.only_round:
            number, total = 1, 1
        else:
            anchor = rnd.reached_from or interview.round
            number = main.index(anchor) + 1 if anchor in main else 1
            total = len(main)
        if interview.probe_id is not None:
            probe = next(p for p in self.content.probes if p.id == interview.probe_id)
            return Question(
                interview_id=interview.id, round=interview.round, title=rnd.title,
                text=self._asked_follow_up(interview, probe, s), probe_id=probe.id, why=probe.why,
                number=number, total=total,
            )
        text = incident.own_prompt(rnd, interview.incident) or rnd.prompt
        return Question(
            interview_id=interview.id, round=interview.round, title=rnd.title, text=text,
            why=why, number=number, total=total,
        )

    def _asked_follow_up(self, interview: Interview, probe: Probe, s: Session | None) -> str:
        """The follow-up as it was put (quoting the answer), so asking again repeats it word for word."""
        q = (select(FollowUp.text).where(FollowUp.interview_id == interview.id, FollowUp.probe_id == probe.id)
             .order_by(col(FollowUp.id).desc()))
        if s is not None:
            asked = s.exec(q).first()
        else:
            with Session(self.db) as own:
                asked = own.exec(q).first()
        return asked or probe.ask

    def _scorecard(self, s: Session, interview: Interview) -> Scorecard:
        records = s.exec(
            select(GradeRecord).where(GradeRecord.interview_id == interview.id).order_by(GradeRecord.id)
        ).all()
        best: dict[str, GradeRecord] = {}
        for r in records:
            if r.round not in best or r.score > best[r.round].score:
                best[r.round] = r
        # Attempts count answers to the round's own question; follow-up replies are part of one.
        attempts: dict[str, int] = {}
        for rid in s.exec(
            select(Answer.round).where(
                Answer.interview_id == interview.id, Answer.status == "graded",
                Answer.probe_id == None,  # noqa: E711  (SQL IS NULL)
            )
        ).all():
            attempts[rid] = attempts.get(rid, 0) + 1
        # Every round of the interview: those it went through, then the ones it set out to ask.
        planned = [interview.only_round] if interview.only_round else list(self.content.order)
        rounds: list[RoundResult] = []
        for rid in dict.fromkeys([*interview.path, *planned]):
            title = self.content.rounds[rid].title if rid in self.content.rounds else rid
            rec = best.get(rid)
            rounds.append(
                RoundResult(
                    round=rid, title=title, score=rec.score if rec else None,
                    attempts=attempts.get(rid, 0), verdict=rec.verdict if rec else "",
                    reached=rid in interview.path,
                )
            )
        # Scorecard.TOTAL_RULE: the mean over all rounds, anything unanswered counting as zero.
        score = round(sum(r.score or 0 for r in rounds) / len(rounds)) if rounds else 0
        dimensions = _aggregate_dimensions([Grade.from_dict(_record_dict(r)) for r in best.values()])
        weakest = min(
            (d for d in dimensions if d.max), key=lambda d: (d.fraction, -d.max), default=None
        )
        practise = (
            f"{weakest.label}: {weakest.hint}" if weakest and weakest.hint
            else "Answer a round to get a first thing to practise."
        )
        flags = sorted({f for r in best.values() for f in r.flags})
        verdict = verdict_for(score, interview.level)
        answers = s.exec(
            select(Answer).where(Answer.interview_id == interview.id).order_by(col(Answer.id))
        ).all()
        times = [
            AnswerTime(round=a.round, title=getattr(self.content.rounds.get(a.round), "title", a.round),
                       follow_up=a.probe_id is not None, seconds=a.seconds, words=words_in(a.text))
            for a in answers
        ]
        return Scorecard(
            interview_id=interview.id, status=interview.status, score=score, verdict=verdict,
            rounds=rounds, dimensions=dimensions, practise_next=practise, flags=flags,
            timed=bool(interview.timed), times=times, elapsed=sum(t.seconds or 0.0 for t in times),
        )


def _aware(when: datetime | None) -> datetime | None:
    # SQLite hands datetimes back without their timezone; everything is stored in UTC.
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _when(message_ts: str | None) -> datetime | None:
    """When a Slack message was sent (its ts is seconds since the epoch), or None for other ids."""
    try:
        return datetime.fromtimestamp(float(message_ts), UTC) if message_ts else None
    except (ValueError, OverflowError, OSError):
        return None


def _then(s: Session, then: Then | None, turn: Turn) -> Turn:
    if then is not None:
        then(s, turn)
    return turn


def _grade_record(answer: Answer, interview: Interview, grade: Grade) -> GradeRecord:
    d = grade.to_dict()
    return GradeRecord(
        answer_id=answer.id, interview_id=interview.id, workspace=interview.workspace,
        user_id=interview.user_id, round=answer.round, level=interview.level, score=grade.score,
        verdict=grade.verdict, summary=grade.summary, dimensions=d["dimensions"], flags=d["flags"],
        flag_details=d["flag_details"], signals=d["signals"],
    )


def _record_dict(r: GradeRecord) -> dict:
    return {
        "round": r.round, "level": r.level, "score": r.score, "dimensions": r.dimensions,
        "flags": r.flags, "flag_details": r.flag_details, "summary": r.summary, "verdict": r.verdict,
        "signals": r.signals,
    }


def _aggregate_dimensions(grades: list[Grade]) -> list[DimensionResult]:
    """Sum each dimension over rounds: the share of its available points the person earned."""
    totals: dict[str, list] = {}
    for g in grades:
        for d in g.dimensions:
            if not d.max:
                continue
            t = totals.setdefault(d.key, [d.label, 0, 0, [], "", 2.0])
            t[1] += d.score
            t[2] += d.max
            t[3].extend(d.evidence[:1])
            if d.hint and d.fraction < t[5]:
                t[4], t[5] = d.hint, d.fraction
    return [
        DimensionResult(key=k, label=v[0], score=v[1], max=v[2], evidence=v[3][:2], hint=v[4])
        for k, v in totals.items()
    ]

