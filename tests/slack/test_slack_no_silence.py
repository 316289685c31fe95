"""No silence: a Slack error inside a command or a reply reaches the person as an ephemeral message that
says what went wrong and what to do."""

from __future__ import annotations

import slack_requests as R
from answers import OPENING
from flows import post_prompt, response, send_command, send_event


def test_a_drill_whose_dm_cannot_be_opened_says_so(slack, fake):
    """`/gauntlet drill` whose conversations.open fails answers the command with what happened and what
    to do, through the command's response_url (never `unhandled request` or nothing)."""
    fake.fail("conversations.open", "messages_tab_disabled")
    status, body, path = send_command(slack, fake, "drill")
    assert status == 200 and "unhandled" not in body
    told = response(fake, path)
    assert told.args["response_type"] == "ephemeral"
    assert "messages_tab_disabled" in told.text and "try again" in told.text


def test_slack_being_down_during_a_command_is_said_plainly(slack, fake):
    """Three 503s in a row (more than the client retries) end in a 'couldn't reach Slack' reply."""
    fake.server_error("conversations.open", status=503, times=3)
    _, _, path = send_command(slack, fake, "drill")
    told = response(fake, path)
    assert "couldn't reach Slack" in told.text and "try again" in told.text
    assert len(fake.of("conversations.open:503")) == 3


def test_a_failed_feedback_post_in_a_thread_reaches_the_person_privately(slack, fake, slack_db, db_url,
                                                                           tmp_path):
    """When posting the feedback to the thread fails, the person gets an ephemeral note saying so."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    fake.fail("chat.postMessage", "restricted_action", thread_ts=thread_ts)
    send_event(slack, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    note = fake.wait_for_call("chat.postEphemeral", where=lambda c: c.args.get("user") == "UALICE")[-1]
    assert "restricted_action" in note.text and note.args.get("thread_ts") == thread_ts
