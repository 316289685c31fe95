"""Steps the flow tests share: sending signed requests and driving an interview through the fake."""

from __future__ import annotations

import itertools

import slack_requests as R
from answers import BY_ROUND, FOLLOW_UP, OPENING
from conftest import InProcess, child_env, run_cli
from fake_slack import TEAM

from bot.content import default_content
from bot.daily import daily
from bot.interview.engine import InterviewEngine
from bot.slack.interview import prompt_poster

_responses = itertools.count(1)


def send_event(slack, inner: dict, *, event_id: str | None = None, retry_num: int | None = None) -> str:
    body = R.event(inner, event_id=event_id)
    status, _ = slack.post(body, R.signed_headers(body, retry_num=retry_num))
    assert status == 200
    return body


def send_command(slack, fake, text: str, *, user: str = "UALICE", channel: str = "CPRACTICE"):
    """Send `/gauntlet TEXT`; returns (status, ack body, response_url path)."""
    path = f"response/{next(_responses)}"
    body = R.command(text, user=user, channel=channel, response_url=fake.url + path)
    status, ack_body = slack.post(body, R.signed_headers(body, content_type=R.FORM))
    return status, ack_body, "/" + path


def response(fake, path: str):
    """Wait for the command's answer posted to its response_url; returns that call."""
    return fake.wait_for_call("response_url", where=lambda c: c.path == path)[-1]


def post_prompt(slack, fake, db, *, db_url: str, cwd, channel: str = "CPRACTICE") -> str:
    """Post the day's prompt (in-process through the domain, or with `gauntlet post-prompt`); its ts."""
    if isinstance(slack, InProcess):
        result = daily.post_now(db, default_content(), TEAM, channel, prompt_poster(slack.app.client))
        assert result.status == "posted", result.message
    else:
        done = run_cli(["post-prompt", "--channel", channel], child_env(fake, db_url), cwd)
        assert done.returncode == 0, done.stderr
        assert f"<#{channel}>" in done.stdout
    top_level = fake.wait_for_call("chat.postMessage",
                                   where=lambda c: c.args.get("channel") == channel
                                   and not c.args.get("thread_ts"))
    return top_level[-1].response["ts"]


def thread_replies(fake, thread_ts: str, user: str) -> list:
    return [c for c in fake.of("chat.postMessage")
            if c.args.get("thread_ts") == thread_ts and f"<@{user}>" in c.text]


def interview_in_thread(slack, fake, db, *, user: str, channel: str, thread_ts: str, max_turns: int = 16):
    """Answer every question in the thread until the scorecard arrives; returns the feedback posts."""
    engine = InterviewEngine(db)
    text = OPENING
    for _ in range(max_turns):
        before = len(thread_replies(fake, thread_ts, user))
        send_event(slack, R.message(text, user=user, channel=channel, thread_ts=thread_ts))
        fake.wait_for(lambda calls, before=before: len(thread_replies(fake, thread_ts, user)) > before,
                      what="feedback in the thread")
        active = engine.find_active(TEAM, user, source="thread", channel=channel, thread_ts=thread_ts)
        if active is None:
            fake.wait_for(lambda calls: any("Scorecard" in c.text
                                            for c in thread_replies(fake, thread_ts, user)),
                          what="the scorecard")
            return thread_replies(fake, thread_ts, user)
        text = FOLLOW_UP if active.probe_id else BY_ROUND[active.round]
    raise AssertionError(f"no scorecard after {max_turns} answers")
