"""A web process's acknowledgement of a message event: the inbox row is written before the 200 without
Bolt's dispatch, and everything else (a bad signature, another kind of request, a failure while
recording) is answered by Bolt exactly as before."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import slack_requests as R
from conftest import settings_for
from sqlmodel import Session, select

from bot.slack.app import build_app
from bot.slack.server import wsgi_app
from bot.store.inbox import InboxItem

PROMPT_TS = "1700000000.000555"


def _call(application, body: str, headers: dict[str, str]) -> str:
    data = body.encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "",
               "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "test", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    status: list[str] = []
    b"".join(application(environ, lambda s, h: status.append(s)))
    return status[0]


def _web(fake, db, monkeypatch):
    app = build_app(settings_for(fake), db=db, worker_threads=0)
    dispatched: list[int] = []
    original = app.dispatch
    monkeypatch.setattr(app, "dispatch", lambda req: dispatched.append(1) or original(req))
    # Every thread reply in this channel counts as a prompt channel's (the insert checks DailyPost).
    from bot.store.channels import DailyPost
    from bot.store.db import session_scope

    with session_scope(db) as s:
        s.add(DailyPost(workspace="T0GAUNTLET", channel="CPRACTICE", day=datetime.now(UTC).date(),
                        status="posted", prompt_id="p", message_ts=PROMPT_TS))
    return app, wsgi_app(app), dispatched


def _rows(db) -> list[InboxItem]:
    with Session(db) as s:
        return list(s.exec(select(InboxItem)).all())


def test_a_signed_answer_is_on_record_before_its_200_without_bolts_dispatch(fake, slack_db, monkeypatch):
    _, application, dispatched = _web(fake, slack_db, monkeypatch)
    body = R.event(R.message("An answer in the prompt's thread.", thread_ts=PROMPT_TS))
    assert _call(application, body, R.signed_headers(body)).startswith("200")
    [row] = _rows(slack_db)
    assert row.kind == "answer" and row.payload["text"] == "An answer in the prompt's thread."
    assert dispatched == []
    # Slack's retry of the same delivery finds the row instead of adding one.
    assert _call(application, body, R.signed_headers(body, retry_num=1)).startswith("200")
    assert len(_rows(slack_db)) == 1 and dispatched == []


def test_a_bad_signature_or_another_request_goes_to_bolt(fake, slack_db, monkeypatch):
    _, application, dispatched = _web(fake, slack_db, monkeypatch)
    body = R.event(R.message("Forged.", thread_ts=PROMPT_TS))
    assert _call(application, body, R.signed_headers(body, secret="not-the-secret")).startswith("401")
    assert _rows(slack_db) == [] and dispatched == [1]
    home = R.event(R.home_opened("UALICE"))
    assert _call(application, home, R.signed_headers(home)).startswith("200")
    assert dispatched == [1, 1]
    fake.wait_for_call("views.publish")  # Bolt ran the Home tab's listener, as before


def test_a_failure_while_recording_falls_through_to_bolt_which_records_it(fake, slack_db, monkeypatch):
    """The fast path gives up on any error; Bolt's path tries again (and would tell the person to resend
    if the database stayed down), so the answer is still on record before the 200."""
    from bot.slack.listeners import messages

    _, application, dispatched = _web(fake, slack_db, monkeypatch)
    real = messages.record_event
    calls = []

    def flaky(g, body, workspace):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a passing failure")
        return real(g, body, workspace)

    monkeypatch.setattr(messages, "record_event", flaky)
    body = R.event(R.message("Recorded on the second try.", thread_ts=PROMPT_TS))
    assert _call(application, body, R.signed_headers(body)).startswith("200")
    assert dispatched == [1] and len(calls) == 2 and len(_rows(slack_db)) == 1
