"""An interviewer who listens: follow-ups quoting the person's own sentences, their incident carried
through the rounds, their story assembled, and the clock — through the engine with the real rubric."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.content import ContentErrors, Probe, default_content, load_content
from bot.interview.clock import TRIM_NOTE
from bot.interview.engine import InterviewEngine
from bot.interview.followups import ask, pick_sentence, trim_quote
from bot.interview.grading import grade
from bot.interview.story import StoryError, assemble, choose_interview, to_markdown
from bot.store.models import Answer, FollowUp

CONTENT = default_content()

BLAMING_OPENING = (
    "I was on call for our checkout service when a config change went out at 14:02. "
    "Dave's sloppy change took it down and it was entirely his fault. "
    "At 14:10 I rolled back the config change and the errors stopped by 14:15."
)
VAGUE_OPENING = ("Something broke in production one afternoon and I helped the team fix it. It was stressful "
                 "but we got through it together.")
SCHEMA_PROBE = ("The deploy added a NOT NULL column to the invoices table, a migration on a big table, "
                "and it locked everything. Our tests never ran against production-sized data.")
UNSAFE_SQL = "ALTER TABLE invoices ADD COLUMN billing_region text NOT NULL;"


def write(directory, name: str, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


# ---- choosing and trimming the quote ------------------------------------------------------------

def test_the_quoted_sentence_is_verbatim_from_the_answer_and_none_when_nothing_fits():
    """The blame slot takes the flagged sentence as written; a slot with no fitting sentence is None."""
    g = grade(BLAMING_OPENING, "opening")
    blame = pick_sentence(g, BLAMING_OPENING, "blame")
    assert blame == "Dave's sloppy change took it down and it was entirely his fault."
    assert blame in BLAMING_OPENING
    mitigation = pick_sentence(g, BLAMING_OPENING, "mitigation")
    assert mitigation is not None and "rolled back" in mitigation and mitigation in BLAMING_OPENING
    vague = grade(VAGUE_OPENING, "opening")
    assert pick_sentence(vague, VAGUE_OPENING, "impact") is None
    assert pick_sentence(vague, VAGUE_OPENING, "unsafe_sql") is None


def test_a_long_sentence_is_trimmed_at_word_boundaries_to_its_relevant_clause():
    """A quote over the limit keeps whole words of the answer (cuts marked …) around the slot's subject."""
    sentence = ("At T+12 I saw the failures started with a deploy that had gone out to every region at once, "
                "and at T+15 I rolled it back as mitigation; errors were back to baseline by T+20.")
    quote = trim_quote(sentence, "mitigation", limit=60)
    assert len(quote) <= 62
    assert "rolled it back" in quote
    assert quote.strip("… ") in sentence  # verbatim, nothing rewritten
    words = set(sentence.replace(";", " ").replace(",", " ").split())
    assert all(w.strip(",;") in words for w in quote.strip("… ").split())
    assert trim_quote("Short and sweet.", "mitigation") == "Short and sweet."


def test_a_probe_falls_back_to_its_plain_question_when_a_slot_finds_nothing():
    """A template whose slot finds no sentence asks the probe's plain wording and quotes nothing."""
    probe = Probe(id="p", after=("opening",), when={"score_below": 100}, ask="Plain question?", why="why",
                  ask_quoting="You said: “{impact}” How did you find out?")
    asked = ask(probe, grade(VAGUE_OPENING, "opening"), VAGUE_OPENING)
    assert asked.text == "Plain question?" and asked.sentence is None and asked.slot is None


# ---- content validation ---------------------------------------------------------------------------

def test_an_unknown_slot_in_a_probe_or_round_template_is_a_file_line_error(tmp_path):
    """`ask_quoting: … {sentance} …` and `prompt_own: … {servce} …` are reported at their file and line."""
    write(tmp_path, "probes.yml", """
        probes:
          - id: quote-it
            after: [opening]
            when: {score_below: 50}
            ask: What happened?
            ask_quoting: You said “{sentance}”. What happened?
            why: Because.
        """)
    write(tmp_path, "gauntlet.yml", """
        gauntlet:
          rounds:
            constraint:
              title: Comms
              prompt: How did you communicate?
              prompt_own: While {servce} was down, how did you communicate?
              tests: Comms.
              weighs: {communication: 100}
              model_answer: We posted updates.
        """)
    with pytest.raises(ContentErrors) as caught:
        load_content([tmp_path])
    by_key = {e.key_path: e for e in caught.value.errors}
    probe_err = by_key["probes[0].ask_quoting"]
    assert probe_err.line == 6 and "unknown quote slot {sentance}" in probe_err.problem
    round_err = by_key["gauntlet.rounds.constraint.prompt_own"]
    assert round_err.line == 6 and "unknown incident slot {servce}" in round_err.problem
    assert "did you mean 'service'?" in round_err.problem
    assert str(probe_err).endswith("probes.yml:6: probes[0].ask_quoting: " + probe_err.problem)


# ---- the engine ------------------------------------------------------------------------------------

def test_a_blaming_opening_gets_a_follow_up_quoting_that_sentence_and_the_engine_records_it(db):
    """The restate-blame follow-up opens with the person's own blaming sentence, stored with its slot."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    turn = engine.handle(q.interview_id, BLAMING_OPENING)
    assert turn.next is not None and turn.next.probe_id == "restate-blame"
    blamed = "Dave's sloppy change took it down and it was entirely his fault."
    assert turn.next.text.startswith(f"You said: “{blamed}”")
    # Asking again (a resumed drill) repeats the question word for word.
    assert engine.current_question(q.interview_id).text == turn.next.text
    [asked] = engine.follow_ups(q.interview_id)
    assert (asked.probe_id, asked.slot) == ("restate-blame", "blame")
    assert asked.sentence == "Dave's sloppy change took it down and it was entirely his fault."
    assert asked.text == turn.next.text
    with Session(db) as s:
        answer = s.exec(select(Answer)).one()
    assert asked.answer_id == answer.id


def test_a_follow_up_with_nothing_to_quote_is_the_plain_probe_recorded_as_unquoted(db):
    """A vague opening gets the plain "How did you find out?" and its record quotes no sentence."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    turn = engine.handle(q.interview_id, VAGUE_OPENING)
    probe = next(p for p in CONTENT.probes if p.id == turn.next.probe_id)
    assert turn.next.text == probe.ask
    [asked] = engine.follow_ups(q.interview_id)
    assert asked.slot is None and asked.sentence is None and asked.text == probe.ask


def test_later_rounds_are_told_through_the_persons_incident_and_the_trap_uses_their_table(db):
    """The probe names their service and change, the SQL trap their table, the unsafe SQL is quoted back."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    turn = engine.handle(q.interview_id, BLAMING_OPENING)
    turn = engine.handle(q.interview_id, "skip")
    assert turn.next.round == "probe"
    assert turn.next.text.startswith("Back to your checkout service and the config change.")
    turn = engine.handle(q.interview_id, SCHEMA_PROBE)
    assert turn.next.round == "sql"
    assert "`invoices` is live" in turn.next.text
    assert "orders" not in turn.next.text  # not the built-in scenario
    turn = engine.handle(q.interview_id, UNSAFE_SQL)
    assert turn.next.probe_id == "what-does-that-lock"
    assert turn.next.text.startswith(f"You proposed: “{UNSAFE_SQL}”")
    turn = engine.handle(q.interview_id, "skip")
    turn = engine.handle(q.interview_id, "skip") if turn.next.round == "sql" else turn
    assert turn.next.round == "constraint"
    assert "While your checkout service is failing" in turn.next.text
    slots = [f.slot for f in engine.follow_ups(q.interview_id)]
    assert slots == ["blame", "unsafe_sql"]


def test_an_opening_too_thin_to_tell_the_incident_keeps_the_built_in_prompts(db):
    """Without a service or change in the opening, later rounds are asked in their built-in words."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    turn = engine.handle(q.interview_id, VAGUE_OPENING)
    turn = engine.handle(q.interview_id, "skip")
    assert turn.next.round == "probe" and turn.next.text == CONTENT.rounds["probe"].prompt


# ---- the clock --------------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_a_timed_interview_records_each_answers_time_and_notes_one_far_over_budget(db):
    """Each answer's time runs from its question; a 4-minute answer gets the trim note; elapsed is summed."""
    clock = Clock()
    engine = InterviewEngine(db, clock=clock)
    q = engine.start(workspace="w", user_id="u", source="cli", timed=True, only_round="curveball")
    clock.wait(240)
    turn = engine.handle(q.interview_id, CONTENT.rounds["curveball"].model_answer)
    assert turn.notice is not None and "4:00" in turn.notice and TRIM_NOTE in turn.notice
    if turn.scorecard is None:
        clock.wait(65)
        turn = engine.handle(q.interview_id, "It has blocked eleven unsafe migrations since it shipped.")
    card = turn.scorecard if turn.scorecard is not None else engine.scorecard(q.interview_id)
    assert card.timed
    assert card.times[0].seconds == pytest.approx(240) and card.times[0].far_over
    assert card.elapsed == pytest.approx(sum(t.seconds for t in card.times))
    untimed = InterviewEngine(db, clock=clock)
    q2 = untimed.start(workspace="w", user_id="u2", source="cli", only_round="curveball")
    clock.wait(240)
    assert untimed.handle(q2.interview_id, CONTENT.rounds["curveball"].model_answer).notice is None


# ---- the story ---------------------------------------------------------------------------------------

def test_a_finished_interview_is_assembled_into_a_star_story_of_the_persons_own_sentences(db):
    """Each STAR part quotes only sentences the person wrote, with what was credited and the missing hint."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    written: list[str] = []
    turn = None
    for _ in range(14):
        question = engine.current_question(q.interview_id)
        text = (CONTENT.rounds[question.round].model_answer if question.probe_id is None else "skip")
        if text != "skip":
            written.append(text)
        turn = engine.handle(q.interview_id, text)
        if turn.scorecard is not None:
            break
    assert turn is not None and turn.scorecard is not None
    interview = choose_interview(db, "w", "u")
    assert interview.id == q.interview_id
    story = assemble(db, interview.id, CONTENT)
    keys = [p.key for p in story.parts]
    assert keys == ["situation", "task", "detection", "diagnosis", "mitigation", "immediate", "prevention",
                    "measurement"]
    everything = " ".join(" ".join(t.split()) for t in written)
    for part in story.parts:
        for sentence in part.sentences:
            assert " ".join(sentence.split()) in everything, sentence
    parts = {p.key: p for p in story.parts}
    assert any("alert fired" in s for s in parts["detection"].sentences)
    assert any("hypothesis" in s for s in parts["diagnosis"].sentences)
    assert parts["measurement"].sentences and parts["measurement"].credited[0].startswith("Measurement")
    md = to_markdown(story)
    for heading in ("## Situation", "## Task", "## Action", "### Detection", "### Mitigation",
                    "### Diagnosis, with the wrong turn", "## Result", "### Immediate result",
                    "### Systemic result: prevention", "### Systemic result: how it was measured"):
        assert heading in md
    assert md.count("- **Credited:**") == 8 and md.count("- **Missing:**") == 8
    hinted = [p for p in story.parts if p.missing]
    assert all(any(len(m) > 20 for m in p.missing) for p in hinted)


def test_the_story_of_someone_elses_interview_or_of_nothing_is_refused(db):
    """Asking for another person's interview, or having none graded, is a clear StoryError."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    with pytest.raises(StoryError, match="nothing to write up"):
        choose_interview(db, "w", "u")
    engine.handle(q.interview_id, BLAMING_OPENING)
    with pytest.raises(StoryError, match=f"no interview #{q.interview_id}"):
        choose_interview(db, "w", "someone-else", q.interview_id)
    assert choose_interview(db, "w", "u", q.interview_id).id == q.interview_id
    story = assemble(db, q.interview_id, CONTENT)
    synthesis = next(p for p in story.parts if p.key == "measurement")
    assert synthesis.sentences == [] and "Not answered yet" in " ".join(synthesis.missing)


def test_follow_up_records_hold_every_quote_verbatim(db):
    """Every stored quoted follow-up quotes a sentence that is in the answer it follows."""
    engine = InterviewEngine(db)
    q = engine.start(workspace="w", user_id="u", source="cli")
    engine.handle(q.interview_id, BLAMING_OPENING)
    with Session(db) as s:
        for f in s.exec(select(FollowUp)).all():
            answer = s.get(Answer, f.answer_id)
            assert f.sentence in answer.text
            assert f.quote.strip("… ") in " ".join(answer.text.split())
