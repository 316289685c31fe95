"""Hostile requests: malformed bodies and headers get 400 or 401 (never a 500), and nothing a person
wrote reaches the log, whether the request was signed or not."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Iterator

import pytest
import slack_requests as R
from conftest import settings_for
from local_server import make_http_server

from bot.slack.app import build_app
from bot.slack.server import MAX_BODY_BYTES

SECRET_ANSWER = "my-private-answer-about-the-payments-outage"


@pytest.fixture(params=["in-process", "http"])
def endpoint(request, fake, slack_db, db_url) -> Iterator[tuple[int, callable]]:
    """(port, read_log): the app's WSGI application (what gunicorn serves) on a server in a thread, or
    `gauntlet serve --http`; read_log returns everything the app logged so far."""
    if request.param == "http":
        served = request.getfixturevalue("served")
        log_file = request.getfixturevalue("tmp_path") / "serve.log"
        yield int(served.base.rsplit(":", 1)[1]), log_file.read_text
        return
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    httpd = make_http_server(build_app(settings_for(fake, db_url), db=slack_db), 0, "127.0.0.1")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd.server_port, lambda: "\n".join(records)
    finally:
        httpd.shutdown()
        httpd.server_close()
        root.removeHandler(handler)
        root.setLevel(old_level)


def _post(port: int, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/slack/events", body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def test_malformed_bodies_and_headers_get_400_or_401_never_500(endpoint):
    """Deeply nested JSON, a 1e400 timestamp, bytes that are not UTF-8, a broken form payload and
    missing headers are refused with 400/401, and the app still answers a good request afterwards."""
    port, _ = endpoint
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    signed = R.event(R.message("hello", channel="DALICE", channel_type="im"))
    cases = [
        (deep, {"content-type": "application/json"}),
        (signed.encode(), {**R.signed_headers(signed), "x-slack-request-timestamp": "1e400"}),
        (signed.encode(), {**R.signed_headers(signed), "x-slack-request-timestamp": "soon"}),
        (b"\xff\xfe\x00garbage", {"content-type": "application/json"}),
        (b"payload=%7Bnot-json", {"content-type": R.FORM}),
        (signed.encode(), {"content-type": "application/json"}),
    ]
    for body, headers in cases:
        assert _post(port, body, headers) in (400, 401), headers
    assert _post(port, signed.encode(), R.signed_headers(signed)) == 200


def test_no_request_body_or_answer_text_reaches_the_log(endpoint, fake):
    """Unsigned and wrongly signed posts carrying an answer, and a signed answer that is graded, leave
    no trace of the text in the log; an unsigned post just under the 1 MB body limit (larger ones are
    refused from their headers) does not grow the log by its size."""
    port, read_log = endpoint
    body = R.event(R.message(SECRET_ANSWER, channel="DALICE", channel_type="im"))
    assert _post(port, body.encode(), {"content-type": "application/json"}) == 401
    wrong = R.signed_headers(body, secret="not-the-secret")
    assert _post(port, body.encode(), wrong) == 401
    big = R.event(R.message(SECRET_ANSWER * 23_000, channel="DALICE", channel_type="im"))
    assert 900_000 < len(big.encode()) < MAX_BODY_BYTES
    before = len(read_log())
    assert _post(port, big.encode(), {"content-type": "application/json"}) == 401
    time.sleep(0.3)
    assert len(read_log()) - before < 2_000
    assert _post(port, body.encode(), R.signed_headers(body)) == 200
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args.get("channel") == "DALICE")
    time.sleep(0.3)
    assert SECRET_ANSWER not in read_log()
