"""Platform behaviour: rate limits, scheduled prompts, crash recovery, and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import slack_requests as R
from answers import OPENING
from conftest import InProcess, settings_for
from fake_slack import TEAM
from flows import interview_in_thread, post_prompt, response, send_command, send_event, thread_replies

from bot.content import default_content
from bot.daily import channels
from bot.daily.schedule import next_run
from bot.daily.scheduler import run_due_posts
from bot.interview.engine import InterviewEngine
from bot.pipeline import queue
from bot.slack import interview
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.interview import prompt_poster
from bot.slack.worker import Worker


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


def _held_by_a_dead_worker(db, *, lease: float = 0.3) -> None:
    """Claim every inbox row for a worker that then dies (its lease simply runs out)."""
    assert queue.claim_inbox(db, worker="dead-worker", lease=timedelta(seconds=lease), limit=10)


def test_an_answer_whose_worker_died_after_recording_it_is_graded_once_after_the_lease(app, fake, slack_db,
                                                                                      db_url, tmp_path):
    """An inbox row held by a worker that died between recording the answer and grading it is taken over
    once its lease runs out: graded once, answered once."""
    app.gauntlet.worker.stop()
    thread_ts = post_prompt(InProcess(app), fake, slack_db, db_url=db_url, cwd=tmp_path)
    event = R.message(OPENING, user="UALICE", thread_ts=thread_ts)
    interview.record_message(app.gauntlet, workspace=TEAM, event=event, event_id="EvCRASHED")
    _held_by_a_dead_worker(slack_db)
    engine = InterviewEngine(slack_db)  # the dead worker's progress: interview started, answer recorded
    question = engine.start(workspace=TEAM, user_id="UALICE", source="thread", channel="CPRACTICE",
                            thread_ts=thread_ts)
    engine.record_answer(question.interview_id, OPENING, event_id="EvCRASHED", message_ts=event["ts"])

    Worker(app.gauntlet, threads=1).drain(timeout=20)
    [feedback] = thread_replies(fake, thread_ts, "UALICE")
    assert "/100" in feedback.text
    assert engine.pending_answers() == []
    assert len(engine.scorecard(question.interview_id).rounds) >= 1


def test_a_cohort_drill_answer_whose_worker_died_is_graded_in_its_dm(app, fake, slack_db):
    """Cohort drills live in the member's DM: a worker dying with the answer in hand loses nothing."""
    app.gauntlet.worker.stop()
    engine = InterviewEngine(slack_db)
    engine.start(workspace=TEAM, user_id="UBOB", source="cohort", channel="DBOB", only_round="curveball")
    event = R.message(OPENING, user="UBOB", channel="DBOB", channel_type="im")
    interview.record_message(app.gauntlet, workspace=TEAM, event=event, event_id="EvCOHORTCRASH")
    _held_by_a_dead_worker(slack_db)
    Worker(app.gauntlet, threads=1).drain(timeout=20)
    in_dm = [c for c in fake.of("chat.postMessage")
             if c.args.get("channel") == "DBOB" and "Scorecard" in c.text]
    assert len(in_dm) == 1 and not in_dm[0].args.get("thread_ts")
    assert engine.pending_answers() == []


def test_thread_interview_runs_on_each_database_backend(db, fake, tmp_path):
    """The in-process scenario works on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
    slack = InProcess(build_app(settings_for(fake), db=db))
    thread_ts = post_prompt(slack, fake, db, db_url="", cwd=tmp_path)
    posts = interview_in_thread(slack, fake, db, user="UBOB", channel="CPRACTICE", thread_ts=thread_ts)
    assert any("Scorecard" in p.text for p in posts)
