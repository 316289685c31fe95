"""Export a cohort's graded answers: one row per graded answer, as CSV (opens in a spreadsheet) or JSON.

Only members who accepted the cohort's invitation are in it, and only from the moment they joined.
Answer text, and drills a member did privately (DM drills), are included only for members who chose to
share them with this cohort (`CohortMember.share_answers`), or for the person themselves.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cohorts.cohorts import get_cohort, members
from bot.content import DIMENSIONS
from bot.store.models import Answer, GradeRecord, Interview, Person

BASE_COLUMNS = ("person", "name", "date", "interview", "round", "attempt", "level", "score", "verdict")
TAIL_COLUMNS = ("flags", "transcript_shared", "answer")
# Drills a person did on their own, not for a cohort or in a channel: private unless they share.
PRIVATE_SOURCES = ("dm", "cli")
# A peer mock interviewer's rating of the same answer (only when the cohort has any): the verdict, and
# the 1–4 ratings as `key=level;…`. Ratings exist only between members who accepted the pairing.
PEER_COLUMNS = ("peer_verdict", "peer_ratings")
# A cell starting with one of these is run as a formula by spreadsheet apps; answers are untrusted text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRow:
    person: str
    name: str
    date: datetime  # aware UTC
    interview: int
    round: str
    attempt: int
    level: str
    score: int
    verdict: str
    dimensions: dict[str, int]  # key → percentage 0..100
    flags: list[str]
    transcript_shared: bool
    answer: str | None  # None when the member has not agreed to share
    peer_verdict: str | None = None  # a peer interviewer's verdict on this answer, when rated
    peer_ratings: dict[str, int] = field(default_factory=dict)  # their 1–4 rating per dimension


def export_rows(
    db: Engine, workspace: str, cohort_name: str, *, viewer: str | None = None
) -> list[ExportRow]:
    """Every graded answer of the cohort's members since they joined it, oldest first."""
    cohort = get_cohort(db, workspace, cohort_name)
    roster = {m.user_id: m for m in members(db, cohort)}
    with Session(db) as s:
        people = {p.user_id: p for p in s.exec(
            select(Person).where(Person.workspace == workspace, col(Person.user_id).in_(list(roster))))}
        rows = s.exec(
            select(GradeRecord, Answer, Interview.source)
            .join(Answer, col(Answer.id) == col(GradeRecord.answer_id))
            .join(Interview, col(Interview.id) == col(GradeRecord.interview_id))
            .where(GradeRecord.workspace == workspace, col(GradeRecord.user_id).in_(list(roster)))
            .order_by(col(GradeRecord.created_at), col(GradeRecord.id))
        ).all()
    from bot.cohorts.peers import ratings_by_answer

    rated = ratings_by_answer(db, [answer.id for _, answer, _ in rows if answer.id is not None])
    out = []
    for grade, answer, source in rows:
        member = roster[grade.user_id]
        if grade.created_at < member.joined_at:
            continue  # nothing from before they joined this cohort
        shared = member.share_answers
        if source in PRIVATE_SOURCES and not (shared or viewer == grade.user_id):
            continue
        person = people.get(grade.user_id)
        out.append(ExportRow(
            person=grade.user_id, name=(person.display_name if person else "") or grade.user_id,
            date=grade.created_at, interview=grade.interview_id, round=grade.round, attempt=answer.attempt,
            level=grade.level, score=grade.score, verdict=grade.verdict,
            dimensions={d["key"]: round(100 * d["score"] / d["max"])
                        for d in grade.dimensions if d.get("max")},
            flags=list(grade.flags), transcript_shared=shared,
            answer=answer.text if shared or viewer == grade.user_id else None,
            peer_verdict=rated[answer.id].verdict if answer.id in rated else None,
            peer_ratings=dict(rated[answer.id].dimensions) if answer.id in rated else {},
        ))
    return out


def dimension_columns(rows: list[ExportRow]) -> list[str]:
    """The dimensions present, in the rubric's stable order (unknown keys after, alphabetically)."""
    present = {k for r in rows for k in r.dimensions}
    return [k for k in DIMENSIONS if k in present] + sorted(present - set(DIMENSIONS))


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(rows: list[ExportRow]) -> str:
    """CSV text: a header row, one dimension per column, flags joined by `;`."""
    dims = dimension_columns(rows)
    peer = PEER_COLUMNS if any(r.peer_verdict for r in rows) else ()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([*BASE_COLUMNS, *dims, *peer, *TAIL_COLUMNS])
    for r in rows:
        peer_cells = [r.peer_verdict or "", ";".join(f"{k}={v}" for k, v in r.peer_ratings.items())]
        writer.writerow([
            _cell(r.person), _cell(r.name), r.date.strftime("%Y-%m-%d %H:%M"), r.interview, r.round,
            r.attempt, r.level, r.score, r.verdict, *[r.dimensions.get(k, "") for k in dims],
            *(peer_cells if peer else []),
            ";".join(r.flags), "yes" if r.transcript_shared else "no", _cell(r.answer or ""),
        ])
    return buf.getvalue()


def to_json(rows: list[ExportRow], *, cohort: str, now: datetime) -> str:
    payload = {
        "cohort": cohort,
        "exported_at": now.astimezone(UTC).isoformat(),
        "rows": [
            {
                "person": r.person, "name": r.name, "date": r.date.astimezone(UTC).isoformat(),
                "interview": r.interview, "round": r.round, "attempt": r.attempt, "level": r.level,
                "score": r.score, "verdict": r.verdict, "dimensions": r.dimensions, "flags": r.flags,
                "transcript_shared": r.transcript_shared, "answer": r.answer,
                "peer_verdict": r.peer_verdict, "peer_ratings": r.peer_ratings,
            }
            for r in rows
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def export_cohort(
    db: Engine, workspace: str, cohort_name: str, fmt: str, *, now: datetime, viewer: str | None = None,
) -> bytes:
    """The export file's bytes. CSV carries a UTF-8 byte-order mark so spreadsheet apps read accents right."""
    rows = export_rows(db, workspace, cohort_name, viewer=viewer)
    if fmt == "csv":
        return to_csv(rows).encode("utf-8-sig")
    if fmt == "json":
        return to_json(rows, cohort=cohort_name.lower(), now=now).encode("utf-8")
    raise ValueError(f"unknown export format {fmt!r}; use csv or json")
