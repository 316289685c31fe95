"""The app's life in a workspace: platform events, and jobs Slack refuses for good (archived channel,
deactivated member, revoked token) turning themselves off and telling whoever set them up, once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import slack_requests as R
from answers import OPENING
from conftest import BOT_TOKEN, InProcess, child_env, run_cli, settings_for
from fake_slack import BOT_USER, TEAM
from flows import response, send_command
from sqlmodel import Session, select

from bot.cohorts.cohorts import add_members, create_cohort, local_due_at
from bot.content import default_content
from bot.daily import channels, daily
from bot.daily.schedule import next_run
from bot.daily.scheduler import run_due_posts
from bot.interview.engine import InterviewEngine
from bot.slack import cohorts as cohort_slack
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.interview import prompt_poster, record_message, scheduled_poster
from bot.store.cohorts import CohortManager, CohortMember


def _platform_event(slack, inner: dict) -> int:
    body = R.event(inner)
    status, _ = slack.post(body, R.signed_headers(body))
    return status


def _dms_to(fake, user: str, marker: str) -> list:
    return [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "D" + user.lstrip("U")
            and marker in c.text]


def _scheduled(slack, fake) -> None:
    _, _, path = send_command(slack, fake, "schedule 09:30 Europe/Berlin mon-sun", user="UADMIN")
    assert "Daily prompt in" in response(fake, path).text


def _cohort_with(db, *users: str, at: datetime):
    cohort = create_cohort(db, workspace=TEAM, name="sre", created_by="UBOSS", now=at,
                           weekdays=tuple(range(7)), local_time="09:00")
    add_members(db, cohort, "UBOSS", dict.fromkeys(users, "UTC"), now=at)
    return cohort


def test_an_archived_channel_turns_its_schedule_off_and_tells_the_setter_once(db, fake):
    """A daily post refused with is_archived turns the schedule off, DMs who set it once, and the next
    catch-ups post nothing more (no attempt every cycle for ever)."""
    app = build_app(settings_for(fake), db=db)
    _scheduled(InProcess(app), fake)
    fake.break_channel("CPRACTICE", "is_archived")
    [config] = channels.list_schedules(db, TEAM)
    at = next_run(channels.schedule_of(config), datetime.now(UTC)) + timedelta(minutes=1)
    poster = scheduled_poster(app.gauntlet)
    [result] = run_due_posts(db, default_content(), poster, now=at, grace=timedelta(minutes=30))
    assert result.status == "failed" and "is_archived" in result.error
    for minutes in (2, 3, 4):
        assert run_due_posts(db, default_content(), poster, now=at + timedelta(minutes=minutes),
                             grace=timedelta(minutes=30)) == []
    assert channels.list_schedules(db, TEAM) == []
    assert "is_archived" in channels.get_config(db, TEAM, "CPRACTICE").schedule_off_reason
    attempts = [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "CPRACTICE"]
    assert [c.response.get("error") for c in attempts] == ["is_archived"]  # one attempt, not one a cycle
    told = _dms_to(fake, "UADMIN", "turned off the daily prompt")
    assert len(told) == 1 and "<#CPRACTICE>" in json.dumps(told[0].args["blocks"])


def test_post_prompt_to_an_archived_channel_prints_one_line_and_fails(fake, db_url, slack_db, tmp_path):
    """`gauntlet post-prompt` to a channel Slack refuses prints one clear line and exits 1, no traceback."""
    fake.break_channel("CGONE", "channel_not_found")
    done = run_cli(["post-prompt", "--channel", "CGONE"], child_env(fake, db_url), tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("gauntlet:")]
    assert len(lines) == 1 and "channel_not_found" in lines[0] and "<#CGONE>" in lines[0]


def test_post_prompt_with_a_revoked_token_prints_one_line_and_fails(fake, db_url, slack_db, tmp_path):
    """A revoked bot token stops `post-prompt` at its first call with one line saying to reinstall."""
    from conftest import BOT_TOKEN

    fake.revoked_tokens.add(BOT_TOKEN)
    done = run_cli(["post-prompt", "--channel", "CPRACTICE"], child_env(fake, db_url), tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "token_revoked" in done.stderr and "reinstall" in done.stderr


def test_app_uninstalled_turns_every_job_of_the_workspace_off(slack, fake, slack_db):
    """A signed app_uninstalled event is acknowledged and stops schedules, cohort drills and digests."""
    _scheduled(slack, fake)
    _cohort_with(slack_db, "ULA", at=datetime.now(UTC))
    assert _platform_event(slack, {"type": "app_uninstalled"}) == 200
    fake.wait_for(lambda calls: not channels.list_schedules(slack_db, TEAM) or None,
                  what="the schedule turned off")
    def rows(table):
        with Session(slack_db) as s:
            return s.exec(select(table)).all()

    fake.wait_for(lambda calls: all(m.drills_off_reason for m in rows(CohortMember)) or None,
                  what="cohort drills turned off")
    assert all(m.digest_off_reason for m in rows(CohortManager))


def test_tokens_revoked_for_the_bot_turns_jobs_off_but_a_user_token_does_not(slack, fake, slack_db):
    """tokens_revoked naming only user tokens changes nothing; naming the bot token stops the jobs."""
    _scheduled(slack, fake)
    assert _platform_event(slack, {"type": "tokens_revoked", "tokens": {"oauth": ["UALICE"]}}) == 200
    _, _, path = send_command(slack, fake, "me")  # a barrier: the event was handled before this answer
    response(fake, path)
    time.sleep(0.3)
    assert channels.list_schedules(slack_db, TEAM)
    assert _platform_event(slack, {"type": "tokens_revoked", "tokens": {"bot": [BOT_USER]}}) == 200
    fake.wait_for(lambda calls: not channels.list_schedules(slack_db, TEAM) or None,
                  what="the schedule turned off")


@pytest.mark.parametrize("inner", [{"type": "grid_migration_started", "enterprise_id": "EORG"},
                                   {"type": "grid_migration_finished", "enterprise_id": "EORG"}])
def test_grid_migration_events_are_acknowledged(slack, fake, inner):
    """Enterprise Grid migration events are answered 200 (handled), not 404."""
    assert _platform_event(slack, inner) == 200


def test_app_rate_limited_is_answered_200_and_logged(slack, fake, caplog):
    """app_rate_limited (sent without a subscription) gets 200, not 404."""
    body = json.dumps({"token": "legacy-unused", "type": "app_rate_limited", "team_id": TEAM,
                       "minute_rate_limited": 1518467820, "api_app_id": "AGAUNTLET"})
    status, _ = slack.post(body, R.signed_headers(body))
    assert status == 200


def test_a_member_slack_cannot_reach_gets_no_more_drills_and_the_creator_is_told_once(db, fake):
    """A cohort drill whose DM fails with user_not_found turns that member's drills off; the creator
    hears it once; the next runs send nothing to them, while other members still get theirs."""
    day = datetime(2026, 10, 12, tzinfo=UTC).date()
    _cohort_with(db, "UGONE", "UBE", at=datetime(2026, 10, 1, tzinfo=UTC))
    app = build_app(settings_for(fake), db=db)
    fake.fail("conversations.open", "user_not_found", users="UGONE")
    due = local_due_at(day, "09:00", "UTC")
    sent = cohort_slack.send_due_drills(app.gauntlet, app.client, now=due)
    assert [d.user_id for d in sent] == ["UBE"]
    for minutes in (11, 30):
        later = due + timedelta(minutes=minutes)
        assert cohort_slack.send_due_drills(app.gauntlet, app.client, now=later) == []
    tried = [c for c in fake.of("conversations.open") if c.args.get("users") == "UGONE"]
    assert [c.response.get("error") for c in tried] == ["user_not_found"]  # tried once, then off
    told = _dms_to(fake, "UBOSS", "stopped sending sre drills")
    assert len(told) == 1 and "<@UGONE>" in json.dumps(told[0].args["blocks"])
    with Session(db) as s:
        member = s.exec(select(CohortMember).where(CohortMember.user_id == "UGONE")).one()
    assert "user_not_found" in member.drills_off_reason


def test_a_digest_through_a_passing_slack_failure_is_delivered_once(db, fake):
    """A digest is owed through the outbox when it is due: 5xx answers while it is delivered are retried
    with backoff, the next runs owe nothing more, and the manager gets it once (then its chart)."""
    monday = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)
    _cohort_with(db, "ULA", at=datetime(2026, 10, 1, tzinfo=UTC))
    with Session(db) as s:
        for m in s.exec(select(CohortManager)):
            m.tz = "UTC"
            s.add(m)
        s.commit()
    app = build_app(settings_for(fake), db=db)
    fake.server_error("conversations.open", status=503, times=3)
    [due] = cohort_slack.send_digests(app.gauntlet, app.client, now=monday)
    assert due.manager_id == "UBOSS"
    assert cohort_slack.send_digests(app.gauntlet, app.client, now=monday + timedelta(minutes=1)) == []
    assert fake.wait_for(lambda calls: fake.of("files.completeUploadExternal") or fake.of("files.upload"))
    assert not fake.server_errors.get("conversations.open")  # the three 503s were answered, then through
    digests = [c for c in _dms_to(fake, "UBOSS", "sre") if c.args.get("blocks")]
    assert len(digests) == 1


def test_serve_starts_when_a_left_over_answer_cannot_be_delivered(request, fake, slack_db, tmp_path):
    """An answer recorded before a crash but never graded, in a channel since archived, is graded once
    `gauntlet serve --http` is up (its worker takes the inbox row), its feedback goes to the person's DM,
    and serve goes on listening instead of exiting."""
    request.getfixturevalue("db_url")
    result = daily.post_now(slack_db, default_content(), TEAM, "CGONE",
                            prompt_poster(make_client(BOT_TOKEN, fake.url)))
    assert result.status == "posted", result.message
    event = R.message(OPENING, user="UALICE", channel="CGONE", thread_ts=result.message_ts)
    # What the listener did before its 200; the process died before a worker took the row.
    g = SimpleNamespace(db=slack_db)
    assert record_message(g, workspace=TEAM, event=event, event_id="EvLEFTOVER1") is not None
    fake.break_channel("CGONE", "is_archived")
    served = request.getfixturevalue("served")  # fails the test if serve exits early
    told = fake.wait_for(lambda calls: _dms_to(fake, "UALICE", "is_archived"),
                         what="the left-over answer's feedback in the DM")
    assert "/100" in told[0].text
    answer = InterviewEngine(slack_db).answer_for_event("EvLEFTOVER1")
    assert answer is not None and answer.status == "graded"
    status, _ = served.post("{}", {"content-type": "application/json"})
    assert status in (400, 401)  # still listening
