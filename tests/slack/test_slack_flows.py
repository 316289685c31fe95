"""The Slack app end to end against a fake Slack: each flow runs in-process and through
`gauntlet serve --http` (the `slack` fixture), with signed requests, asserting on the Web API calls."""

from __future__ import annotations

import json
import time

import pytest
import slack_requests as R
from answers import OPENING, PROBE
from fake_slack import TEAM
from flows import interview_in_thread, post_prompt, response, send_command, send_event, thread_replies
from sqlmodel import Session, select

from bot.boards import leaderboard
from bot.daily import channels
from bot.interview.engine import InterviewEngine
from bot.store.models import Answer, GradeRecord, Interview


def test_daily_prompt_to_full_thread_interview_to_scorecard_to_leaderboard(slack, fake, slack_db, db_url,
                                                                          tmp_path):
    """A posted prompt's thread reply starts an interview that runs to a scorecard and a leaderboard entry."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    posts = interview_in_thread(slack, fake, slack_db, user="UALICE", channel="CPRACTICE",
                                thread_ts=thread_ts)

    first = posts[0].text
    assert "<@UALICE>" in first
    assert "/100" in first and "Strongest:" in first
    assert "Reply to answer" in first  # the next question follows the feedback
    card = next(c for c in posts if "Scorecard" in c.text)
    assert "Practise next" in card.text and "By dimension" in card.text
    assert all(c.args["channel"] == "CPRACTICE" for c in posts)

    # Replying again after the scorecard gets a private pointer, not a second interview.
    send_event(slack, R.message("one more thought", user="UALICE", thread_ts=thread_ts))
    note = fake.wait_for_call("chat.postEphemeral", where=lambda c: c.args.get("user") == "UALICE")[-1]
    assert "interview in this thread is finished" in note.text
    with Session(slack_db) as s:
        assert len(s.exec(select(Interview)).all()) == 1

    status, _, path = send_command(slack, fake, "leaderboard week")
    assert status == 200
    board = response(fake, path)
    assert "1. <@UALICE>" in board.text and "pts" in board.text
    assert board.args["response_type"] == "ephemeral"


def test_a_retried_event_is_graded_once_and_bot_messages_are_ignored(slack, fake, slack_db, db_url, tmp_path):
    """Slack's retry of a delivery (same event_id) and other bots' posts in the thread produce nothing."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    reply = R.message(OPENING, user="UALICE", thread_ts=thread_ts)
    send_event(slack, reply, event_id="EvRETRIED01")
    send_event(slack, reply, event_id="EvRETRIED01", retry_num=1)
    send_event(slack, R.bot_message("I am another bot", thread_ts=thread_ts))
    send_event(slack, {**R.message("my own echo", user="UBOTGAUNT", thread_ts=thread_ts),
                       "bot_id": "BBOTGAUNT"})
    fake.wait_for(lambda calls: thread_replies(fake, thread_ts, "UALICE"), what="the first feedback")
    # A later answer is the barrier: once its feedback is out, anything the retry caused is out too.
    send_event(slack, R.message(PROBE, user="UALICE", thread_ts=thread_ts))
    fake.wait_for(lambda calls: len(thread_replies(fake, thread_ts, "UALICE")) >= 2, what="second feedback")

    with Session(slack_db) as s:
        assert len(s.exec(select(Answer).where(Answer.event_id == "EvRETRIED01")).all()) == 1
        assert len(s.exec(select(GradeRecord)).all()) == 2
        assert {i.user_id for i in s.exec(select(Interview)).all()} == {"UALICE"}
    assert len(thread_replies(fake, thread_ts, "UALICE")) == 2


def test_replies_in_threads_the_bot_did_not_start_are_left_alone(slack, fake, slack_db):
    """A thread reply under an ordinary message starts no interview and gets no answer."""
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts="1600000000.000001"))
    # The barrier: a command's answer comes after the event was handled by the same app.
    _, _, path = send_command(slack, fake, "me")
    response(fake, path)
    time.sleep(0.2)
    assert fake.of("chat.postMessage") == []
    with Session(slack_db) as s:
        assert s.exec(select(Interview)).all() == []


@pytest.mark.parametrize("forgery", ["wrong secret", "stale timestamp", "tampered body", "no signature"])
def test_forged_and_stale_requests_are_rejected_with_401(slack, fake, forgery):
    """A request not signed with the signing secret, or signed over six minutes ago, gets 401."""
    body = R.command("drill", response_url=fake.url + "response/forged")
    if forgery == "wrong secret":
        headers = R.signed_headers(body, secret="not-the-secret", content_type=R.FORM)
    elif forgery == "stale timestamp":
        headers = R.signed_headers(body, timestamp=int(time.time()) - 6 * 60, content_type=R.FORM)
    elif forgery == "tampered body":
        headers = R.signed_headers(body, content_type=R.FORM)
        body = body.replace("drill", "optout")
    else:
        headers = {"content-type": R.FORM}
    status, _ = slack.post(body, headers)
    assert status == 401
    assert [c.method for c in fake.calls if c.method != "auth.test"] == []


def test_drill_command_opens_a_dm_and_plain_replies_there_are_answers(slack, fake, slack_db):
    """`/gauntlet drill sql` starts a one-round drill in a DM; a reply is graded; `stop` ends it."""
    status, _, path = send_command(slack, fake, "drill sql")
    assert status == 200
    assert "waiting in our DM" in response(fake, path).text
    opened = fake.wait_for_call("conversations.open")[-1]
    assert opened.args["users"] == "UALICE"
    dm = opened.response["channel"]["id"]
    question = fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == dm)[-1]
    assert "SQL" in question.text

    from answers import SQL

    send_event(slack, R.message(SQL, user="UALICE", channel=dm, channel_type="im"))
    graded = fake.wait_for_call("chat.postMessage", count=2, where=lambda c: c.args["channel"] == dm)[-1]
    assert "/100" in graded.text
    active = InterviewEngine(slack_db).find_active(TEAM, "UALICE", source="dm")
    if active is not None:  # a follow-up was asked: stopping ends the drill with a scorecard
        send_event(slack, R.message("stop", user="UALICE", channel=dm, channel_type="im"))
    fake.wait_for(lambda calls: any("Scorecard" in c.text for c in calls
                                    if c.method == "chat.postMessage" and c.args["channel"] == dm),
                  what="the drill's scorecard")


def test_a_dm_without_a_drill_gets_directions(slack, fake):
    """A DM to the bot with no drill running is answered with how to start one, not silence."""
    send_event(slack, R.message("hello?", user="UBOB", channel="DBOB", channel_type="im"))
    reply = fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DBOB")[-1]
    assert "/gauntlet drill" in reply.text


def test_unknown_subcommand_gets_help_in_the_ack(slack, fake):
    """`/gauntlet dance` is answered at once with the help text, naming what was not understood."""
    status, body, _ = send_command(slack, fake, "dance")
    assert status == 200
    ack = json.loads(body)
    text = json.dumps(ack["blocks"])
    assert "dance" in text and "/gauntlet drill" in text and ack["response_type"] == "ephemeral"


def test_app_home_shows_stats_leaderboard_and_a_drill_button_that_starts_a_dm_drill(slack, fake):
    """Opening App Home publishes stats, the board and a button; pressing it starts a drill in the DM."""
    send_event(slack, R.home_opened("UALICE"))
    view = fake.wait_for_call("views.publish")[-1]
    assert view.args["user_id"] == "UALICE"
    assert view.args["view"]["type"] == "home"
    assert "Your practice" in view.text and "Leaderboard" in view.text and "Start a drill" in view.text

    body = R.action("start_drill", "full", user="UALICE")
    status, _ = slack.post(body, R.signed_headers(body, content_type=R.FORM))
    assert status == 200
    fake.wait_for_call("conversations.open")
    question = fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE")[-1]
    assert "Round 1 of" in question.text


def test_the_home_drill_button_when_the_dm_cannot_be_opened_republishes_home_with_why(slack, fake, slack_db):
    """The Home tab's button has no response_url, and the DM is what fails: the person's Home tab is
    published again with the reason and what to do at the top, no drill starts, and nothing is posted."""
    fake.fail("conversations.open", "restricted_action", users="UALICE")
    body = R.action("start_drill", "full", user="UALICE")
    status, _ = slack.post(body, R.signed_headers(body, content_type=R.FORM))
    assert status == 200
    [view] = fake.wait_for_call("views.publish", where=lambda c: c.args.get("user_id") == "UALICE")
    assert view.args["view"]["type"] == "home"
    top = json.dumps(view.args["view"]["blocks"][:3])
    assert "couldn't start your drill" in top and "restricted_action" in top and "Start a drill" in top
    assert "Leaderboard" in view.text  # the rest of the Home tab is still there
    time.sleep(0.5)
    assert len(fake.of("views.publish")) == 1
    assert not [c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DALICE"]
    with Session(slack_db) as s:
        assert s.exec(select(Interview).where(Interview.user_id == "UALICE")).all() == []


def test_schedule_commands_are_for_admins_and_managers_only(slack, fake, slack_db):
    """A member cannot schedule; an admin can set, list and turn off a channel's daily prompt."""
    _, _, path = send_command(slack, fake, "schedule <#CPRACTICE|practice> 09:30 Europe/Berlin mon-fri",
                              user="UMEMBER")
    assert "Only workspace admins" in response(fake, path).text
    assert channels.list_schedules(slack_db, TEAM) == []

    _, _, path = send_command(slack, fake, "schedule <#CPRACTICE|practice> 09:30 Europe/Berlin mon-fri",
                              user="UADMIN")
    assert "Daily prompt in <#CPRACTICE>" in response(fake, path).text
    [config] = channels.list_schedules(slack_db, TEAM)
    assert (config.channel, config.schedule_at, config.schedule_tz) == ("CPRACTICE", "09:30", "Europe/Berlin")

    _, _, path = send_command(slack, fake, "schedule", user="UMEMBER")
    assert "<#CPRACTICE>" in response(fake, path).text

    channels.add_manager(slack_db, TEAM, "CPRACTICE", "UMANAGER")
    _, _, path = send_command(slack, fake, "schedule off", user="UMANAGER", channel="CPRACTICE")
    assert "No more daily prompts" in response(fake, path).text
    assert channels.list_schedules(slack_db, TEAM) == []


def test_a_bad_schedule_gets_the_parsers_explanation(slack, fake):
    """A schedule Slack can't read is answered with what is wrong and an example."""
    _, _, path = send_command(slack, fake, "schedule 25:99 Mars/Olympus", user="UADMIN")
    text = response(fake, path).text
    assert "25:99" in text or "Mars/Olympus" in text


def test_ephemeral_feedback_mode_answers_only_the_person(slack, fake, slack_db, db_url, tmp_path):
    """With `/gauntlet feedback ephemeral`, thread feedback goes through chat.postEphemeral to that person."""
    _, _, path = send_command(slack, fake, "feedback ephemeral", user="UADMIN")
    assert "ephemeral" in response(fake, path).text
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    private = fake.wait_for_call("chat.postEphemeral")[-1]
    assert (private.args["user"], private.args["channel"]) == ("UALICE", "CPRACTICE")
    assert private.args["thread_ts"] == thread_ts and "/100" in private.text
    assert thread_replies(fake, thread_ts, "UALICE") == []


def test_dm_feedback_mode_sends_thread_feedback_to_the_persons_dm(slack, fake, slack_db, db_url, tmp_path):
    """With `/gauntlet feedback dm`, the bot answers a thread reply in the person's DM."""
    _, _, path = send_command(slack, fake, "feedback dm", user="UADMIN")
    response(fake, path)
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    dm = fake.wait_for_call("chat.postMessage", where=lambda c: c.args["channel"] == "DALICE")[-1]
    assert "/100" in dm.text


def test_an_edited_answer_is_graded_again_while_its_round_is_open(slack, fake, slack_db, db_url, tmp_path):
    """Editing the answer that is still being discussed (a follow-up is open) produces a fresh grade."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    original = R.message("We had an outage and restarted the server. It came back.", user="UALICE",
                         thread_ts=thread_ts)
    send_event(slack, original)
    fake.wait_for(lambda calls: thread_replies(fake, thread_ts, "UALICE"), what="first feedback")
    interview = InterviewEngine(slack_db).find_active(TEAM, "UALICE", source="thread")
    assert interview is not None
    send_event(slack, R.edited(original, OPENING))
    regraded = fake.wait_for(lambda calls: [c for c in thread_replies(fake, thread_ts, "UALICE")
                                            if "edited answer" in c.text], what="the regrade")
    with Session(slack_db) as s:
        [answer] = s.exec(select(Answer).where(Answer.message_ts == original["ts"])).all()
        assert answer.text == OPENING
    assert "/100" in regraded[-1].text


def test_me_and_opting_out_of_the_leaderboard(slack, fake, slack_db):
    """`/gauntlet me` shows the person's numbers; `optout` hides them from boards and `optin` returns them."""
    _, _, path = send_command(slack, fake, "me")
    assert "Your practice" in response(fake, path).text
    _, _, path = send_command(slack, fake, "optout")
    assert "off the leaderboards" in response(fake, path).text
    assert leaderboard.is_opted_out(slack_db, TEAM, "UALICE")
    _, _, path = send_command(slack, fake, "optin")
    response(fake, path)
    assert not leaderboard.is_opted_out(slack_db, TEAM, "UALICE")
