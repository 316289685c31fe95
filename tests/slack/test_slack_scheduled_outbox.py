"""Scheduled messages go through the outbox: a daily prompt, a cohort drill and a digest are recorded in
the transaction of the work that produced them, delivered through 5xx and 429 answers without a double
post, and a terminal refusal stops the entry, turns the job off and tells whoever set it up, once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import slack_requests as R
from answers import OPENING
from conftest import InProcess, child_env, run_cli, settings_for
from fake_slack import TEAM
from sqlmodel import Session, select

from bot.cohorts.cohorts import add_members, create_cohort, local_due_at
from bot.content import default_content
from bot.daily import channels
from bot.daily.schedule import next_run, parse_schedule
from bot.daily.scheduler import run_due_posts
from bot.pipeline import queue
from bot.slack import cohorts as cohort_slack
from bot.slack.app import build_app
from bot.slack.scheduled import OutboxPoster
from bot.store.channels import DailyPost
from bot.store.cohorts import CohortDrill, CohortMember
from bot.store.inbox import OutboxItem

CHANNEL = "CPRACTICE"
PROMPT_MARK = "Today's incident interview"


def _prompts(fake, channel: str = CHANNEL) -> list:
    return [c for c in fake.of("chat.postMessage") if c.args.get("channel") == channel
            and not c.args.get("thread_ts") and c.response.get("ok") and PROMPT_MARK in json.dumps(
                c.args.get("blocks") or "")]


def _assert_prompt_posted_once(fake, db) -> None:
    """The daily prompt's outbox entry is sent, Slack got exactly one prompt (no late second post), and
    the day's post is marked posted with that message's ts."""
    fake.wait_for(lambda calls: _outbox(db, "daily:")[0].status == "sent", what="delivery")
    time.sleep(0.3)  # long enough for a second delivery, if there were one
    [prompt] = _prompts(fake)
    with Session(db) as s:
        [post] = s.exec(select(DailyPost)).all()
    assert (post.status, post.message_ts) == ("posted", prompt.response["ts"])


def _scheduled_at(db) -> datetime:
    channels.set_schedule(db, TEAM, CHANNEL, parse_schedule("09:30 UTC mon-sun"), set_by="UADMIN")
    [config] = channels.list_schedules(db, TEAM)
    return next_run(channels.schedule_of(config), datetime.now(UTC)) + timedelta(minutes=1)


def _outbox(db, prefix: str) -> list[OutboxItem]:
    with Session(db) as s:
        rows = s.exec(select(OutboxItem).order_by(OutboxItem.id)).all()
    return [o for o in rows if o.key.startswith(prefix)]


def test_a_scheduled_prompt_rides_out_500s_and_a_429_posts_once_and_its_thread_is_answered(db, fake):
    """The prompt is owed with the prompt chosen (the post stays `claimed`), a 500 after Slack took it
    and a 429 are retried, the retry finds the message instead of posting it again, the post is
    recorded with that message's ts, and a reply in its thread gets graded feedback."""
    app = build_app(settings_for(fake), db=db)
    at = _scheduled_at(db)
    fake.fail_http("chat.postMessage", status=500, times=1, posted_anyway=True)
    fake.rate_limit("chat.postMessage", retry_after=1, times=1)
    poster = OutboxPoster(app.gauntlet)
    [result] = run_due_posts(db, default_content(), poster, now=at, grace=timedelta(minutes=30))
    assert result.status == "queued" and result.prompt is not None
    assert run_due_posts(db, default_content(), poster, now=at + timedelta(minutes=1),
                         grace=timedelta(minutes=30)) == []  # the day is claimed: nothing owed twice
    app.gauntlet.wake()
    fake.wait_for(lambda calls: _outbox(db, "daily:")[0].status == "sent", what="delivery")
    time.sleep(0.5)
    [prompt] = _prompts(fake)  # once, although the first attempt answered 500 after posting
    assert fake.of("conversations.history"), "the retry after an unknown outcome looked first"
    with Session(db) as s:
        [post] = s.exec(select(DailyPost)).all()
    assert (post.status, post.message_ts) == ("posted", prompt.response["ts"])
    assert post.prompt_id == result.prompt.id

    slack = InProcess(app)
    body = R.event(R.message(OPENING, user="UANS", thread_ts=post.message_ts))
    assert slack.post(body, R.signed_headers(body))[0] == 200
    fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage")
                                 if c.args.get("thread_ts") == post.message_ts and "/100" in c.text],
                  what="graded feedback in the prompt's thread")


def test_a_prompt_refused_for_good_stops_turns_the_schedule_off_and_tells_the_setter_once(db, fake):
    """is_archived while delivering: one attempt, the entry stops, the post is failed, the schedule is
    off (later runs owe nothing) and whoever set it hears why in a DM, once."""
    app = build_app(settings_for(fake), db=db)
    at = _scheduled_at(db)
    fake.refusals[CHANNEL] = "is_archived"
    poster = OutboxPoster(app.gauntlet)
    [result] = run_due_posts(db, default_content(), poster, now=at, grace=timedelta(minutes=30))
    assert result.status == "queued"
    told = fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage") if c.args.get("channel") ==
                                        "DADMIN" and "turned off the daily prompt" in c.text])
    time.sleep(0.5)
    [entry] = _outbox(db, "daily:")
    assert (entry.status, entry.error, entry.attempts) == ("failed", "is_archived", 1)
    with Session(db) as s:
        [post] = s.exec(select(DailyPost)).all()
    assert post.status == "failed" and "is_archived" in post.error
    assert channels.list_schedules(db, TEAM) == []
    for minutes in (2, 3):
        assert run_due_posts(db, default_content(), poster, now=at + timedelta(minutes=minutes),
                             grace=timedelta(minutes=30)) == []
    attempts = [c for c in fake.of("chat.postMessage") if c.args.get("channel") == CHANNEL]
    assert len(attempts) == 1 and len(told) == 1


def _cohort(db, *users: str):
    at = datetime(2026, 10, 1, tzinfo=UTC)
    cohort = create_cohort(db, workspace=TEAM, name="sre", created_by="UBOSS", now=at,
                           weekdays=tuple(range(7)), local_time="09:00")
    add_members(db, cohort, "UBOSS", dict.fromkeys(users, "UTC"), now=at)
    with Session(db) as s:  # they accepted their invitations
        for m in s.exec(select(CohortMember)).all():
            m.accepted_at = at
            s.add(m)
        s.commit()
    return cohort


def test_a_cohort_drill_is_owed_with_its_sent_mark_and_delivered_once_through_a_503_storm(db, fake):
    """The drill's question is owed in the transaction that marks the drill sent: the job returns at
    once, the next runs owe nothing, and the 503s while delivering cost retries, not a second DM."""
    _cohort(db, "ULA")
    app = build_app(settings_for(fake), db=db)
    due = local_due_at(datetime(2026, 10, 12).date(), "09:00", "UTC")
    fake.fail_http("chat.postMessage", status=503, times=3)
    assert len(cohort_slack.send_due_drills(app.gauntlet, app.client, now=due)) == 1
    with Session(db) as s:
        [drill] = s.exec(select(CohortDrill)).all()
    assert drill.sent_at is not None and drill.interview_id is not None
    assert [o.key for o in _outbox(db, "cohort-drill:")] == [f"cohort-drill:{drill.id}"]
    assert cohort_slack.send_due_drills(app.gauntlet, app.client, now=due + timedelta(minutes=20)) == []
    fake.wait_for(lambda calls: _outbox(db, "cohort-drill:")[0].status == "sent")
    time.sleep(0.5)
    drills = [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DLA"
              and c.response.get("ok")]
    assert len(drills) == 1 and len(fake.of("chat.postMessage:503")) == 3
    assert queue.backlog(db)["outbox"] == 0


def test_a_cohort_drill_refused_for_good_turns_the_members_drills_off_and_tells_the_creator_once(db, fake):
    """A terminal answer while delivering a drill stops the entry, turns that member's drills off and
    tells the cohort's creator once; another member still gets theirs."""
    _cohort(db, "UGONE", "UBE")
    app = build_app(settings_for(fake), db=db)
    fake.refusals["DGONE"] = "user_disabled"
    due = local_due_at(datetime(2026, 10, 12).date(), "09:00", "UTC")
    assert len(cohort_slack.send_due_drills(app.gauntlet, app.client, now=due)) == 2
    told = fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage") if c.args.get("channel") ==
                                        "DBOSS" and "stopped sending sre drills" in c.text])
    fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DBE"
                                 and c.response.get("ok")])
    time.sleep(0.5)
    assert len(told) == 1
    with Session(db) as s:
        gone = s.exec(select(CohortMember).where(CohortMember.user_id == "UGONE")).one()
    assert "user_disabled" in gone.drills_off_reason
    assert [o.status for o in _outbox(db, "cohort-drill:") if o.user_id == "UGONE"] == ["failed"]
    assert cohort_slack.send_due_drills(app.gauntlet, app.client, now=due + timedelta(days=1)) != []
    assert all(d.user_id != "UGONE" for d in cohort_slack.send_due_drills(
        app.gauntlet, app.client, now=due + timedelta(days=2)))


class _Crash(BaseException):
    """The process dies here (a BaseException: nothing on the way out may treat it as handled)."""


class _DiesWhileOwing(OutboxPoster):
    def owe(self, s, post, prompt) -> None:
        raise _Crash


def test_a_crash_between_claiming_the_day_and_owing_its_prompt_loses_nothing(db, fake):
    """The day's claim and the owed prompt are one transaction: a process that dies after claiming
    leaves no claim behind, so the next run owes the prompt and it is delivered once."""
    app = build_app(settings_for(fake), db=db)
    at = _scheduled_at(db)
    with pytest.raises(_Crash):
        run_due_posts(db, default_content(), _DiesWhileOwing(app.gauntlet), now=at,
                      grace=timedelta(minutes=30))
    with Session(db) as s:
        assert s.exec(select(DailyPost)).all() == []  # the claim died with the process
    assert _outbox(db, "daily:") == []
    [result] = run_due_posts(db, default_content(), OutboxPoster(app.gauntlet), now=at + timedelta(minutes=1),
                             grace=timedelta(minutes=30))
    assert result.status == "queued"
    app.gauntlet.wake()
    _assert_prompt_posted_once(fake, db)


# ---- `gauntlet post-prompt` --------------------------------------------------------------------------

def test_post_prompt_rides_out_a_500_that_posted_and_reports_slack_accepted_it(fake, db_url, slack_db,
                                                                              tmp_path):
    """`gauntlet post-prompt` owes the prompt with the day's claim and delivers it itself: a 500 after
    Slack took the message is looked up instead of posted again, and the terminal hears it was accepted."""
    fake.fail_http("chat.postMessage", status=500, times=1, posted_anyway=True)
    done = run_cli(["post-prompt", "--channel", CHANNEL], child_env(fake, db_url), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Slack accepted it" in done.stdout and f"<#{CHANNEL}>" in done.stdout
    [prompt] = _prompts(fake)
    assert fake.of("conversations.history"), "the retry after an unknown outcome looked first"
    [entry] = _outbox(slack_db, "daily:")
    assert (entry.status, entry.attempts, entry.sent_ts) == ("sent", 2, prompt.response["ts"])
    with Session(slack_db) as s:
        [post] = s.exec(select(DailyPost)).all()
    assert (post.status, post.message_ts) == ("posted", prompt.response["ts"])


def test_post_prompt_refused_for_good_stops_the_entry_says_so_and_tells_the_setter(fake, db_url, slack_db,
                                                                                   tmp_path):
    """is_archived: one attempt, the entry and the post are failed, the terminal gets one line and exit 1,
    and whoever set the channel's schedule hears it was turned off."""
    channels.set_schedule(slack_db, TEAM, CHANNEL, parse_schedule("09:30 UTC mon-sun"), set_by="UADMIN")
    fake.refusals[CHANNEL] = "is_archived"
    done = run_cli(["post-prompt", "--channel", CHANNEL], child_env(fake, db_url), tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("gauntlet:")]
    assert "is_archived" in line and "will not be retried" in line
    [entry] = _outbox(slack_db, "daily:")
    assert (entry.status, entry.error, entry.attempts) == ("failed", "is_archived", 1)
    with Session(slack_db) as s:
        [post] = s.exec(select(DailyPost)).all()
    assert post.status == "failed"
    assert len([c for c in fake.of("chat.postMessage") if c.args.get("channel") == CHANNEL]) == 1
    told = [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DADMIN"
            and "turned off the daily prompt" in c.text]
    assert len(told) == 1


def test_post_prompt_leaves_the_prompt_queued_while_slack_fails_and_a_worker_delivers_it_once(
        fake, db_url, slack_db, tmp_path):
    """Slack failing past --wait: the terminal hears the prompt is queued (exit 0), the entry stays owed,
    and the next worker delivers it without a second post although the first attempt reached Slack."""
    fake.fail_http("chat.postMessage", status=500, times=1, posted_anyway=True)
    done = run_cli(["post-prompt", "--channel", CHANNEL, "--wait", "0"], child_env(fake, db_url), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Queued" in done.stdout and "http_500" in done.stdout
    [entry] = _outbox(slack_db, "daily:")
    assert entry.status == "pending"
    app = build_app(settings_for(fake), db=slack_db)
    _assert_prompt_posted_once(fake, slack_db)
    app.gauntlet.worker.stop()


# ---- a digest's chart --------------------------------------------------------------------------------

def _charts(fake, channel: str = "DBOSS") -> list:
    return [u for u in fake.uploads() if u.channel == channel and u.filename.endswith(".png")]


def _owe_digest(db, fake):
    _cohort(db, "ULA")
    app = build_app(settings_for(fake), db=db)
    monday = local_due_at(datetime(2026, 10, 12).date(), "09:00", "UTC") + timedelta(minutes=1)
    assert len(cohort_slack.send_digests(app.gauntlet, app.client, now=monday)) == 1
    return app, monday


def test_a_digest_chart_is_owed_with_the_digest_and_shared_once_through_a_500_that_shared_it(db, fake):
    """The chart is an outbox entry owed with the summary: after the summary it is uploaded, a 500 from
    the call that shares it (which Slack carried out) is looked up in the DM instead of shared again."""
    fake.fail_http("files.completeUploadExternal", status=500, times=1, posted_anyway=True)
    app, _ = _owe_digest(db, fake)
    summary_entry, chart_entry = _outbox(db, "digest:")
    assert chart_entry.key == f"{summary_entry.key}:chart" and chart_entry.mode == "file"
    fake.wait_for(lambda calls: all(o.status == "sent" for o in _outbox(db, "digest:")),
                  what="the digest and its chart delivered")
    time.sleep(0.5)
    [summary] = [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DBOSS"
                 and "weekly digest" in c.text]
    [chart] = _charts(fake)
    assert summary.response["ts"] < fake.of("files.completeUploadExternal")[0].response["ts"]  # in order
    assert chart.data.startswith(b"\x89PNG")
    assert [c for c in fake.of("conversations.history") if c.args.get("channel") == "DBOSS"], \
        "the retry after an unknown outcome looked first"
    assert len(fake.of("files.completeUploadExternal:500")) == 1
    assert app.gauntlet.worker is not None


def test_a_digest_chart_that_fails_to_upload_is_retried_until_slack_takes_it(db, fake):
    """503s on every step of the upload cost retries with backoff, and the chart arrives once."""
    fake.fail_http("files.getUploadURLExternal", status=503, times=2)
    fake.fail_http("files.completeUploadExternal", status=503, times=1)
    app, _ = _owe_digest(db, fake)  # the app (and its worker) lives as long as the test holds it
    fake.wait_for(lambda calls: all(o.status == "sent" for o in _outbox(db, "digest:")),
                  what="the digest and its chart")
    time.sleep(0.5)
    assert len(_charts(fake)) == 1
    [entry] = [o for o in _outbox(db, "digest:") if o.key.endswith(":chart")]
    assert entry.attempts == 4 and app.gauntlet.worker is not None


def test_a_digest_chart_refused_for_good_stops_and_the_manager_is_told(db, fake):
    """missing_scope: the chart entry stops after one attempt, the manager hears in their DM that the
    chart is missing, and the digest stays on (next week's is owed as usual)."""
    fake.fail("files.getUploadURLExternal", "missing_scope")
    app, monday = _owe_digest(db, fake)
    told = fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage") if c.args.get("channel")
                                        == "DBOSS" and "couldn't attach this week's chart" in c.text])
    time.sleep(0.5)
    [chart] = [o for o in _outbox(db, "digest:") if o.key.endswith(":chart")]
    assert (chart.status, chart.error, chart.attempts) == ("failed", "missing_scope", 1)
    assert len(told) == 1 and "missing_scope" in told[0].text
    assert _charts(fake) == [] and len(fake.of("files.getUploadURLExternal")) == 1
    assert len(cohort_slack.send_digests(app.gauntlet, app.client, now=monday + timedelta(days=7))) == 1
