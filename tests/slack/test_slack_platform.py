"""Platform behaviour: rate limits, scheduled prompts, crash recovery, and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import slack_requests as R
from answers import OPENING
from conftest import InProcess, settings_for
from fake_slack import TEAM
from flows import interview_in_thread, post_prompt, response, send_command, send_event, thread_replies

from bot import channels
from bot.content import default_content
from bot.engine import InterviewEngine
from bot.schedule import next_run
from bot.scheduler import run_due_posts
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.interview import prompt_poster, resume_pending


def test_a_429_is_retried_after_the_retry_after_slack_asked_for(fake):
    """The Web API client waits Retry-After seconds on 429 and then succeeds, instead of failing."""
    fake.rate_limit("chat.postMessage", retry_after=1)
    client = make_client("xoxb-test", fake.url)
    started = time.monotonic()
    resp = client.chat_postMessage(channel="CPRACTICE", text="hello")
    assert resp["ok"] is True
    assert time.monotonic() - started >= 1.0
    assert [c.method for c in fake.calls] == ["chat.postMessage:429", "chat.postMessage"]


def test_the_apps_own_client_rides_out_a_rate_limit(app, fake):
    """A drill question rate-limited once still reaches the person's DM."""
    fake.rate_limit("chat.postMessage", retry_after=1)
    send_command(InProcess(app), fake, "drill")
    fake.wait_for_call("chat.postMessage:429")
    question = fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE")[-1]
    assert "Round 1 of" in question.text


def test_a_schedule_set_by_command_posts_at_its_time_and_its_thread_interviews(app, fake, slack_db):
    """`/gauntlet schedule` reaches the scheduler; at the scheduled time the prompt's thread interviews."""
    changed = []
    app.gauntlet.schedules_changed = lambda: changed.append(True)
    slack = InProcess(app)
    _, _, path = send_command(slack, fake, "schedule 09:30 Europe/Berlin mon-fri", user="UADMIN")
    assert "Daily prompt in <#CPRACTICE>" in response(fake, path).text
    assert changed == [True]

    [config] = channels.list_schedules(slack_db, TEAM)
    at = next_run(channels.schedule_of(config), datetime.now(UTC)) + timedelta(minutes=1)
    [result] = run_due_posts(slack_db, default_content(), prompt_poster(app.client), now=at,
                             grace=timedelta(minutes=30))
    assert result.status == "posted"
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts=result.message_ts))
    feedback = fake.wait_for(lambda calls: thread_replies(fake, result.message_ts, "UALICE"))
    assert "/100" in feedback[0].text


def test_answers_left_ungraded_by_a_crash_are_graded_and_answered_on_start(app, fake, slack_db, db_url,
                                                                         tmp_path):
    """An answer recorded before the process died is graded at start-up and its feedback posted."""
    thread_ts = post_prompt(InProcess(app), fake, slack_db, db_url=db_url, cwd=tmp_path)
    engine = InterviewEngine(slack_db)
    question = engine.start(workspace=TEAM, user_id="UALICE", source="thread", channel="CPRACTICE",
                            thread_ts=thread_ts)
    engine.record_answer(question.interview_id, OPENING, event_id="EvCRASHED", message_ts="1.2")
    assert resume_pending(app.gauntlet, app.client) == 1
    [feedback] = fake.wait_for(lambda calls: thread_replies(fake, thread_ts, "UALICE"))
    assert "/100" in feedback.text
    assert engine.pending_answers() == []


def test_a_cohort_drill_answer_left_ungraded_by_a_crash_is_graded_in_its_dm(app, fake, slack_db):
    """Cohort drills live in the member's DM: a crash between recording and grading loses nothing."""
    engine = InterviewEngine(slack_db)
    question = engine.start(workspace=TEAM, user_id="UBOB", source="cohort", channel="DBOB",
                            only_round="curveball")
    engine.record_answer(question.interview_id, OPENING, event_id="EvCOHORTCRASH", message_ts="7.1")
    assert resume_pending(app.gauntlet, app.client) == 1
    in_dm = fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage")
                                         if c.args.get("channel") == "DBOB" and "Scorecard" in c.text])
    assert all(not c.args.get("thread_ts") for c in in_dm)
    assert engine.pending_answers() == []


def test_thread_interview_runs_on_each_database_backend(db, fake, tmp_path):
    """The in-process scenario works on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
    slack = InProcess(build_app(settings_for(fake), db=db))
    thread_ts = post_prompt(slack, fake, db, db_url="", cwd=tmp_path)
    posts = interview_in_thread(slack, fake, db, user="UBOB", channel="CPRACTICE", thread_ts=thread_ts)
    assert any("Scorecard" in p.text for p in posts)
