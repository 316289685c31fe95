"""Small builders for cohort tests: graded answers at a chosen time, a deterministic grader, and every
possible peer grouping."""

from __future__ import annotations

import re
from datetime import datetime
from itertools import combinations

from sqlalchemy import update
from sqlmodel import Session

from bot.rubric.types import DimensionResult, Grade
from bot.store.models import Answer, GradeRecord, Interview, Person, PointEntry


def person(db, workspace: str, user_id: str, *, name: str = "", share: bool = False, opted_out: bool = False,
           at: datetime) -> None:
    with Session(db) as s:
        s.add(Person(workspace=workspace, user_id=user_id, display_name=name or user_id,
                     share_transcripts=share, opted_out=opted_out, created_at=at))
        s.commit()


def graded(db, workspace: str, user_id: str, *, at: datetime, dims: dict[str, float],
           round_id: str = "opening", flags: tuple[str, ...] = (), text: str = "An answer.",
           channel: str | None = None) -> int:
    """Store one graded answer (interview, answer, grade, points) as the engine would, at time `at`."""
    maxes = {k: 10 for k in dims}
    scored = {k: round(10 * f) for k, f in dims.items()}
    score = round(100 * sum(scored.values()) / sum(maxes.values()))
    with Session(db) as s:
        interview = Interview(workspace=workspace, user_id=user_id, source="cohort", round=round_id,
                              path=[round_id], status="finished", channel=channel, score=score,
                              created_at=at, updated_at=at, finished_at=at)
        s.add(interview)
        s.flush()
        answer = Answer(interview_id=interview.id, workspace=workspace, user_id=user_id, round=round_id,
                        text=text, status="graded", created_at=at)
        s.add(answer)
        s.flush()
        s.add(GradeRecord(
            answer_id=answer.id, interview_id=interview.id, workspace=workspace, user_id=user_id,
            round=round_id, score=score, verdict="Hire", created_at=at, flags=list(flags),
            dimensions=[{"key": k, "label": k.replace("_", " ").title(), "score": scored[k], "max": 10,
                         "evidence": [], "hint": ""} for k in dims],
        ))
        s.add(PointEntry(workspace=workspace, user_id=user_id, interview_id=interview.id, round=round_id,
                         points=score, channel=channel, created_at=at))
        s.commit()
        return interview.id or 0


def stamp_interview(db, interview_id: int, at: datetime) -> None:
    """Move an interview's rows to the simulated clock (the engine stamps them with the real one)."""
    with Session(db) as s:
        for table, key in ((Answer, Answer.interview_id), (GradeRecord, GradeRecord.interview_id),
                           (PointEntry, PointEntry.interview_id)):
            s.exec(update(table).where(key == interview_id).values(created_at=at))  # type: ignore[call-overload]
        s.exec(update(Interview).where(Interview.id == interview_id)  # type: ignore[call-overload]
               .values(created_at=at, updated_at=at))
        s.commit()


def scripted_grader(
    text: str, round_id: str, level: str = "mid", *, content=None, id=None, followup=False
) -> Grade:
    """Grade by instructions in the answer: `q=0.6` for every dimension, `communication=0.2` for one."""
    weights = content.rounds[round_id].weighs
    base = float(re.search(r"\bq=([\d.]+)", text).group(1))
    own = {k: float(v) for k, v in re.findall(r"\b([a-z_]+)=([\d.]+)", text) if k != "q"}
    dims = []
    for key, weight in weights.items():
        fraction = min(1.0, own.get(key, base))
        points = round(weight * fraction)
        dims.append(DimensionResult(key=key, label=key.replace("_", " ").title(), score=points, max=weight,
                                    evidence=[], hint="" if points == weight else "Say more about this."))
    score = round(100 * sum(d.score for d in dims) / sum(d.max for d in dims))
    flags = re.findall(r"\bflag:([a-z_]+)", text)
    return Grade(round=round_id, level=level, score=score, dimensions=dims, flags=flags, flag_details=[],
                 summary="scripted", verdict="Hire" if score >= 60 else "Lean No Hire", signals=[], id=id)


def groupings(people: list[str]):
    """Every way to split people into pairs plus one trio when odd (to check that no fresher grouping
    than the one chosen was passed over)."""
    if not people:
        yield []
        return
    first, rest = people[0], people[1:]
    if len(people) % 2 == 1:
        for b, c in combinations(rest, 2):
            for more in groupings([p for p in rest if p not in (b, c)]):
                yield [(first, b, c), *more]
    if len(people) != 3:
        for b in rest:
            for more in groupings([p for p in rest if p != b]):
                yield [(first, b), *more]
