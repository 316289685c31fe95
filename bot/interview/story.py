"""Your story, assembled: the person's best attempt at each round arranged into one STAR write-up
(situation, task, action — detection, diagnosis with the wrong turn, mitigation — immediate result and
systemic result — prevention and how it was measured), with what the rubric credited and what is still
missing beside each part. Every sentence is quoted verbatim from the person's answers: the write-up
arranges, it never invents. Knows nothing about Slack."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.content import Content
from bot.interview.followups import candidates
from bot.rubric import verdict_for
from bot.rubric.types import Grade
from bot.store.models import Answer, GradeRecord, Interview

SENTENCES_PER_PART = 3


class StoryError(ValueError):
    """No story to assemble (no such interview of yours, nothing graded yet), in plain words."""


@dataclass(frozen=True)
class StoryPart:
    key: str
    heading: str
    sentences: list[str]  # the person's own, verbatim
    credited: list[str] = field(default_factory=list)  # "Detection 13/15 (Opening)"
    missing: list[str] = field(default_factory=list)  # what the rubric still wants, with the hint


@dataclass(frozen=True)
class Story:
    interview_id: int
    score: int
    verdict: str
    level: str
    when: str
    parts: list[StoryPart]


# (key, heading, STAR group, [(round, slot)], [(round, dimension)]); the first round listed that has a
# sentence for the slot wins, in order.
_PARTS: list[tuple[str, str, str, list[tuple[str, str]], list[tuple[str, str]]]] = [
    ("situation", "Situation", "S", [("opening", "scene"), ("opening", "impact")], [("opening", "impact")]),
    ("task", "Task", "T", [("opening", "role"), ("constraint", "role")], [("opening", "ownership")]),
    ("detection", "Detection", "A", [("opening", "alert")], [("opening", "detection")]),
    ("diagnosis", "Diagnosis, with the wrong turn", "A",
     [("opening", "hypothesis"), ("probe", "hypothesis"), ("probe", "cause"), ("opening", "cause")],
     [("opening", "diagnosis"), ("probe", "diagnosis")]),
    ("mitigation", "Mitigation", "A", [("opening", "mitigation"), ("probe", "mitigation")],
     [("opening", "mitigation_fix_prevention")]),
    ("immediate", "Immediate result", "R", [("opening", "recovery"), ("constraint", "recovery")],
     [("opening", "timeline")]),
    ("prevention", "Systemic result: prevention", "R",
     [("synthesis", "prevention"), ("curveball", "prevention"), ("probe", "prevention"),
      ("opening", "prevention")],
     [("synthesis", "prevention"), ("curveball", "prevention")]),
    ("measurement", "Systemic result: how it was measured", "R", [("synthesis", "measurement")],
     [("synthesis", "measurement")]),
]
_GROUPS = {"S": "Situation", "T": "Task", "A": "Action", "R": "Result"}
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


def _first_sentence(text: str) -> list[str]:
    m = _SENTENCE.search(text.strip())
    return [m.group(0).strip()] if m and m.group(0).strip() else []


def choose_interview(db: Engine, workspace: str, user_id: str, interview_id: int | None = None) -> Interview:
    """The interview to write up: the one asked for (it must be the person's own), or their best."""
    with Session(db) as s:
        if interview_id is not None:
            interview = s.get(Interview, interview_id)
            if interview is None or interview.workspace != workspace or interview.user_id != user_id:
                raise StoryError(f"You have no interview #{interview_id}.")
            return interview
        graded = set(s.exec(select(GradeRecord.interview_id).where(
            GradeRecord.workspace == workspace, GradeRecord.user_id == user_id)).all())
        if not graded:
            raise StoryError("There is nothing to write up yet: answer the opening of a drill first.")
        interviews = s.exec(select(Interview).where(col(Interview.id).in_(graded))).all()

        def rank(i: Interview) -> tuple:
            # Finished interviews first, then the best score, then the newest.
            return (i.status == "finished", i.score if i.score is not None else -1, i.id)

        return max(interviews, key=rank)


def _best_attempts(s: Session, interview_id: int) -> dict[str, tuple[GradeRecord, str]]:
    """Each round's best graded attempt and the text it was graded on (a follow-up with its main answer)."""
    records = s.exec(select(GradeRecord).where(GradeRecord.interview_id == interview_id)
                     .order_by(col(GradeRecord.id))).all()
    best: dict[str, GradeRecord] = {}
    for r in records:
        if r.round not in best or r.score > best[r.round].score:
            best[r.round] = r
    out: dict[str, tuple[GradeRecord, str]] = {}
    for round_id, record in best.items():
        answer = s.get(Answer, record.answer_id)
        if answer is None:
            continue
        text = answer.text
        if answer.probe_id is not None:
            main = s.exec(select(Answer).where(
                Answer.interview_id == interview_id, Answer.round == round_id,
                Answer.probe_id == None,  # noqa: E711  (SQL IS NULL)
                col(Answer.id) < answer.id).order_by(col(Answer.id).desc())).first()
            if main is not None:
                text = f"{main.text}\n\n{answer.text}"
        out[round_id] = (record, text)
    return out


def _grade(record: GradeRecord) -> Grade:
    return Grade.from_dict({
        "round": record.round, "level": record.level, "score": record.score, "dimensions": record.dimensions,
        "flags": record.flags, "flag_details": record.flag_details, "summary": record.summary,
        "verdict": record.verdict, "signals": record.signals,
    })


_MAY_REPEAT = ("immediate", "task")
_ROLE = re.compile(r"on[ -]call|incident commander|\bIC\b|\blead\b|\bowner\b|primary|responsible|my role",
                   re.IGNORECASE)
_CLAIM_ORDER = ["detection", "mitigation", "immediate", "diagnosis", "measurement", "prevention", "situation",
                "task"]


def _sentences(grades: dict, sources: list[tuple[str, str]], used: set[str]) -> list[str]:
    sentences: list[str] = []
    for round_id, slot in sources:
        if round_id not in grades:
            continue
        grade, text = grades[round_id]
        found = _first_sentence(text) if slot == "scene" else candidates(grade, text, slot)
        if slot == "role":  # the sentence that names the role tells the task best
            found = sorted(found, key=lambda sentence: not _ROLE.search(sentence))
        for sentence in found:
            if sentence not in used and sentence not in sentences and len(sentences) < SENTENCES_PER_PART:
                used.add(sentence)
                sentences.append(sentence)
    return sentences


def _marks(grades: dict, sources: list[tuple[str, str]], dims: list[tuple[str, str]], content: Content,
           told: bool) -> dict[str, list[str]]:
    """What the rubric credited for this part, and what is still missing (with the hint)."""
    credited: list[str] = []
    missing: list[str] = [] if told else ["Nothing in your answers tells this part yet."]
    for round_id, dim_key in dims:
        title = content.rounds[round_id].title if round_id in content.rounds else round_id
        if round_id not in grades:
            missing.append(f"Not answered yet: the {title} round.")
            continue
        d = grades[round_id][0].dimension(dim_key)
        if d is None or not d.max:
            continue
        credited.append(f"{d.label} {d.score}/{d.max} ({title})")
        if d.score < d.max and d.hint:
            missing.append(d.hint)
    return {"credited": credited, "missing": list(dict.fromkeys(missing))}


def assemble(db: Engine, interview_id: int, content: Content) -> Story:
    with Session(db) as s:
        interview = s.get(Interview, interview_id)
        if interview is None:
            raise StoryError(f"No interview #{interview_id}.")
        attempts = _best_attempts(s, interview_id)
    if not attempts:
        raise StoryError(f"Interview #{interview_id} has no graded answer yet.")
    grades = {rid: (_grade(rec), text) for rid, (rec, text) in attempts.items()}
    used: set[str] = set()
    built: dict[str, StoryPart] = {}
    # The specific parts claim their sentences first, so "I rolled back…" is the mitigation, not the task.
    for key, heading, _group, sources, dims in sorted(_PARTS, key=lambda p: _CLAIM_ORDER.index(p[0])):
        sentences = _sentences(grades, sources, used)
        if not sentences and key in _MAY_REPEAT:
            # A sentence already quoted may be the one that also tells this part (the rollback and the
            # recovery in one sentence; "I was on call for…" sets the scene and the role): quoting it
            # once more beats leaving the part empty.
            sentences = _sentences(grades, sources, set())[:1]
        built[key] = StoryPart(key=key, heading=heading, sentences=sentences,
                               **_marks(grades, sources, dims, content, bool(sentences)))
    parts = [built[key] for key, *_ in _PARTS]
    score = interview.score
    if score is None:
        scores = [rec.score for rec, _ in attempts.values()]
        score = round(sum(scores) / len(scores))
    return Story(interview_id=interview_id, score=score, verdict=verdict_for(score, interview.level),
                 level=interview.level, when=f"{interview.created_at:%Y-%m-%d}", parts=parts)


def to_markdown(story: Story) -> str:
    """The write-up as Markdown: each part's sentences quoted, then what was credited and what is missing."""
    lines = [
        "# My production incident, as a STAR story",
        "",
        f"_Interview #{story.interview_id} · {story.when} · {story.score}/100, {story.verdict} at "
        f"{story.level} level. Every quoted sentence is your own, from your best attempt at each round; "
        "the parts are arranged, not rewritten._",
    ]
    group = None
    for part, (_k, _h, part_group, _s, _d) in zip(story.parts, _PARTS, strict=True):
        if part_group != group:
            group = part_group
            lines += ["", f"## {_GROUPS[group]}"]
        if part.heading != _GROUPS[group]:
            lines += ["", f"### {part.heading}"]
        lines.append("")
        lines += [f"> {' '.join(sentence.split())}" for sentence in part.sentences] or ["_(not told yet)_"]
        lines.append("")
        lines.append("- **Credited:** " + ("; ".join(part.credited) if part.credited else "nothing yet"))
        lines.append("- **Missing:** " + (" ".join(part.missing) if part.missing
                                          else "nothing: this part is full marks"))
    return "\n".join(lines) + "\n"
