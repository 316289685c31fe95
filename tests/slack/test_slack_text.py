"""Text as people typed it: Slack's escaping decoded before grading and storing, shown back escaped once,
the bot's own links left as links; broadcast and file replies are answers; feedback-in-DM replies."""

from __future__ import annotations

import json

import pytest
import slack_requests as R
from answers import OPENING
from fake_slack import TEAM
from flows import post_prompt, response, send_command, send_event, thread_replies
from sqlmodel import Session, select

from bot.interview.engine import InterviewEngine
from bot.interview.grading import grade
from bot.slack.interview import FILE_ONLY, FILES_NOT_GRADED
from bot.slack.text import readable
from bot.store.models import Answer, GradeRecord, Interview

SQL_WITH_COMPARISONS = (
    "I would use expand and contract. First ALTER TABLE orders ADD COLUMN region text; nullable, with "
    "SET lock_timeout = '2s'. Deploy code that writes the column. Backfill existing rows in batches: "
    "UPDATE orders SET region = 'eu' WHERE id >= 1 AND id < 10000 & so on, batch by batch. Then ALTER "
    "TABLE orders ADD CONSTRAINT region_not_null CHECK (region IS NOT NULL) NOT VALID; and ALTER TABLE "
    "orders VALIDATE CONSTRAINT region_not_null; so the table is never locked for long (p99 < 5 ms)."
)


def _block_texts(call) -> str:
    """Only what the blocks show (the notification fallback `text` aside)."""
    return json.dumps(call.args.get("blocks") or [])


@pytest.mark.parametrize(("markup", "typed"), [
    ("a &lt; b &amp;&amp; c &gt;= d", "a < b && c >= d"),
    ("paged <@U123ABC> and <@U456|bo>", "paged @U123ABC and @bo"),
    ("posted in <#C999|incidents> and <#C111>", "posted in #incidents and #C111"),
    ("see <https://status.example.com/x?a=1&amp;b=2|the status page>",
     "see the status page (https://status.example.com/x?a=1&b=2)"),
    ("<https://example.com>, <mailto:ops@example.com|ops@example.com>, <!here>",
     "https://example.com, ops@example.com, @here"),
    ("<!subteam^S1|@sre> said &lt;b&gt;no&lt;/b&gt;", "@sre said <b>no</b>"),
    ("nul\x00byte", "nul\ufffdbyte"),
])
def test_slack_markup_is_decoded_to_what_was_typed(markup, typed):
    """Entities, mentions, channels and links become readable text; NUL becomes U+FFFD."""
    assert readable(markup) == typed


def test_an_answer_with_comparisons_is_graded_and_stored_as_typed(slack, fake, slack_db):
    """SQL with < and >= delivered escaped scores what `gauntlet grade` gives the typed text, is stored
    as typed, and its quoted evidence is escaped once (never `&amp;lt;`)."""
    _, _, path = send_command(slack, fake, "drill sql")
    response(fake, path)
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE")
    send_event(slack, R.message(SQL_WITH_COMPARISONS, user="UALICE", channel="DALICE", channel_type="im"))
    graded = fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE"
                                and "/100" in c.text)[-1]
    with Session(slack_db) as s:
        [answer] = s.exec(select(Answer)).all()
        [record] = s.exec(select(GradeRecord)).all()
    assert answer.text == SQL_WITH_COMPARISONS
    assert record.score == grade(SQL_WITH_COMPARISONS, "sql", "mid").score
    shown = "".join(_block_texts(c) for c in fake.of("chat.postMessage"))
    assert "&amp;lt;" not in shown and "&amp;gt;" not in shown and "&amp;amp;" not in shown
    assert f"{record.score:02d}/100" in graded.text


def test_the_bots_own_channel_links_stay_links(slack, fake):
    """Schedule and feedback replies link the channel (`<#C…>`) instead of showing `&lt;#C…&gt;`."""
    _, _, path = send_command(slack, fake, "schedule 09:30 Europe/Berlin mon-fri", user="UADMIN")
    scheduled = _block_texts(response(fake, path))
    _, _, path = send_command(slack, fake, "feedback", user="UADMIN")
    feedback = _block_texts(response(fake, path))
    for shown in (scheduled, feedback):
        assert "<#CPRACTICE>" in shown and "&lt;#" not in shown


def test_unknown_input_quoted_back_is_escaped_once(slack, fake):
    """A channel setting named with markup-like text (escaped by Slack, as typed text is) is quoted back
    escaped exactly once, so the person sees what they typed."""
    _, _, path = send_command(slack, fake, R.slack_escape("feedback <b>loud</b>"), user="UADMIN")
    shown = _block_texts(response(fake, path))
    assert "&lt;b&gt;loud&lt;/b&gt;" in shown and "&amp;lt;" not in shown


def test_a_reply_also_sent_to_the_channel_is_an_answer(slack, fake, slack_db, db_url, tmp_path):
    """A `thread_broadcast` reply under the prompt starts the interview and is graded."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts=thread_ts, subtype="thread_broadcast"))
    [feedback, *_] = fake.wait_for(lambda calls: thread_replies(fake, thread_ts, "UALICE"))
    assert "/100" in feedback.text


def test_a_reply_with_a_file_is_graded_on_its_words_and_says_the_file_was_not(slack, fake, slack_db,
                                                                              db_url, tmp_path):
    """A `file_share` reply's text is graded; the person is told the file itself was not read."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    reply = {**R.message(OPENING, user="UALICE", thread_ts=thread_ts, subtype="file_share"),
             "files": [{"id": "F1", "name": "timeline.png"}]}
    send_event(slack, reply)
    fake.wait_for(lambda calls: thread_replies(fake, thread_ts, "UALICE"))
    note = fake.wait_for_call("chat.postEphemeral", where=lambda c: c.args.get("user") == "UALICE")[-1]
    assert FILES_NOT_GRADED in note.text


def test_a_file_without_words_is_not_graded_and_the_person_is_told(slack, fake, slack_db, db_url, tmp_path):
    """A file-only reply starts nothing and is answered with how to answer instead; a retry is not."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    reply = {**R.message("", user="UALICE", thread_ts=thread_ts, subtype="file_share"),
             "files": [{"id": "F1", "name": "timeline.png"}]}
    send_event(slack, reply, event_id="EvFILEONLY1")
    send_event(slack, reply, event_id="EvFILEONLY1", retry_num=1)
    _, _, path = send_command(slack, fake, "me")  # a barrier: both deliveries were handled before it
    response(fake, path)
    notes = fake.wait_for_call("chat.postEphemeral", where=lambda c: FILE_ONLY in c.text)
    assert len(notes) == 1
    with Session(slack_db) as s:
        assert s.exec(select(Interview)).all() == []


def test_in_dm_feedback_mode_a_dm_reply_answers_the_thread_interview(slack, fake, slack_db, db_url,
                                                                     tmp_path):
    """With feedback in DMs the next question arrives in the DM, and replying there is the answer."""
    _, _, path = send_command(slack, fake, "feedback dm", user="UADMIN")
    response(fake, path)
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE" and "/100" in c.text)
    engine = InterviewEngine(slack_db)
    interview = engine.find_active(TEAM, "UALICE", source="thread")
    assert interview is not None
    asked = interview.round
    send_event(slack, R.message("Following up: we added an alert on queue depth above 1,000 for 5 minutes "
                                "and a runbook for the on-call engineer.", user="UALICE", channel="DALICE",
                                channel_type="im"))
    fake.wait_for_call("chat.postMessage", count=2,
                       where=lambda c: c.args["channel"] == "DALICE" and "/100" in c.text)
    with Session(slack_db) as s:
        answers = s.exec(select(Answer).where(Answer.interview_id == interview.id)).all()
    assert len(answers) == 2 and answers[1].round == asked
    assert not any("No drill is running" in c.text for c in fake.of("chat.postMessage"))


def test_the_no_drill_direction_is_not_repeated_on_slacks_retry(slack, fake):
    """A retried delivery of a DM with no drill running does not post the direction a second time."""
    dm = R.message("hello?", user="UBOB", channel="DBOB", channel_type="im")
    send_event(slack, dm, event_id="EvNODRILL01")
    send_event(slack, dm, event_id="EvNODRILL01", retry_num=1)
    _, _, path = send_command(slack, fake, "me")
    response(fake, path)
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DBOB")
    assert len([c for c in fake.of("chat.postMessage") if c.args["channel"] == "DBOB"]) == 1


def test_an_answer_with_a_nul_byte_is_stored_and_graded(slack, fake, slack_db):
    """A NUL byte (which PostgreSQL refuses in text) is stored as U+FFFD and the answer is graded."""
    _, _, path = send_command(slack, fake, "drill opening")
    response(fake, path)
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE")
    send_event(slack, R.message(OPENING[:200] + "\x00" + OPENING[200:], user="UALICE", channel="DALICE",
                                channel_type="im"))
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE" and "/100" in c.text)
    with Session(slack_db) as s:
        [answer] = s.exec(select(Answer)).all()
    assert answer.status == "graded" and "\ufffd" in answer.text and "\x00" not in answer.text
