"""`gauntlet serve` in Socket Mode, end to end: the real command in a subprocess opens its websocket
through `apps.connections.open` on the fake Web API, takes envelopes from a fake Socket Mode endpoint,
acks them over the websocket and answers through the fake Web API."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import slack_requests as R
from answers import OPENING
from conftest import child_env, run_cli
from fake_slack import FakeSlack
from fake_socket_mode import FakeSocketMode
from flows import thread_replies

APP_TOKEN = "xapp-1-AGAUNTLET-0000-not-a-real-token"
ACK_WITHIN = 3.0  # Slack retries (and reports a failure to the user) when an ack takes longer


@dataclass
class SocketServed:
    proc: subprocess.Popen
    fake: FakeSlack
    socket: FakeSocketMode
    env: dict[str, str]
    heartbeat: Path
    cwd: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text()


def _wait_until(predicate, what: str, served: SocketServed, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if served.proc.poll() is not None:
            pytest.fail(f"gauntlet serve exited while waiting for {what}:\n{served.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{served.output()}")
        time.sleep(0.02)


@pytest.fixture
def socket_served(fake, db_url, tmp_path) -> Iterator[SocketServed]:
    """`gauntlet serve` with an app token (Socket Mode), connected to the fake endpoint and greeted."""
    with FakeSocketMode() as endpoint:
        fake.socket_mode_url = endpoint.url
        heartbeat = tmp_path / "gauntlet.heartbeat"
        env = child_env(fake, db_url, SLACK_APP_TOKEN=APP_TOKEN, GAUNTLET_HEARTBEAT_FILE=str(heartbeat))
        env.pop("SLACK_SIGNING_SECRET", None)  # Socket Mode needs no signing secret
        log_path = tmp_path / "serve.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path,
                                    stdout=log, stderr=subprocess.STDOUT)
        served = SocketServed(proc, fake, endpoint, env, heartbeat, tmp_path, log_path)
        try:
            try:
                endpoint.wait_connected(timeout=30, alive=lambda: proc.poll() is None)
            except AssertionError:
                pytest.fail("gauntlet serve never opened its websocket:\n" + served.output())
            endpoint.hello()
            _wait_until(heartbeat.exists, "the heartbeat file", served)
            yield served
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _event_payload(inner: dict) -> dict:
    return json.loads(R.event(inner))


def test_a_thread_reply_envelope_is_acked_at_once_and_graded_in_the_thread(socket_served):
    """An events_api envelope with a reply in a prompt's thread is acked promptly and gets graded feedback."""
    s = socket_served
    done = run_cli(["post-prompt", "--channel", "CPRACTICE"], s.env, s.cwd)
    assert done.returncode == 0, done.stderr
    prompt = s.fake.wait_for_call("chat.postMessage", where=lambda c: c.args.get("channel") == "CPRACTICE"
                                  and not c.args.get("thread_ts"))[-1]
    thread_ts = prompt.response["ts"]

    envelope_id, sent = s.socket.deliver(
        "events_api", _event_payload(R.message(OPENING, user="UALICE", thread_ts=thread_ts)))
    acked_at, ack = s.socket.wait_for_ack(envelope_id, timeout=ACK_WITHIN + 2)
    assert ack == {"envelope_id": envelope_id}  # events take no response payload
    assert acked_at - sent < ACK_WITHIN

    s.fake.wait_for(lambda calls: thread_replies(s.fake, thread_ts, "UALICE"), what="graded feedback")
    [feedback] = thread_replies(s.fake, thread_ts, "UALICE")
    assert feedback.args["channel"] == "CPRACTICE"
    assert "/100" in feedback.text and "Strongest:" in feedback.text


def test_help_command_envelope_gets_the_help_in_its_ack(socket_served):
    """A slash_commands envelope for `/gauntlet help` is answered with the help payload in the ack itself."""
    s = socket_served
    form = dict(parse_qsl(R.command("help", response_url=s.fake.url + "response/socket-help")))
    envelope_id, sent = s.socket.deliver("slash_commands", form)
    acked_at, ack = s.socket.wait_for_ack(envelope_id, timeout=ACK_WITHIN + 2)
    assert acked_at - sent < ACK_WITHIN
    payload = ack["payload"]
    assert payload["response_type"] == "ephemeral"
    assert "/gauntlet drill" in json.dumps(payload["blocks"])


def test_serve_connects_with_the_app_token_is_healthy_and_stops_cleanly_on_sigterm(socket_served):
    """Serve connects with the xapp- token, is healthy while connected, and exits 0 on SIGTERM."""
    s = socket_served
    # Two asks for a URL: serve's start-up check of the app token, then the connection itself.
    opened = s.fake.of("apps.connections.open")
    assert len(opened) == 2
    for call in opened:
        auth = {k.lower(): v for k, v in call.headers.items()}["authorization"]
        assert auth == f"Bearer {APP_TOKEN}"
    assert s.socket.connections == 1 and s.socket.paths[0].startswith("/link")

    healthy = run_cli(["health"], s.env, s.cwd)
    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stdout.startswith("healthy:")

    s.proc.send_signal(signal.SIGTERM)
    try:
        code = s.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("gauntlet serve did not stop within 15 s of SIGTERM:\n" + s.output())
    assert code == 0, s.output()
    s.socket.wait_disconnected(timeout=5)
    assert not s.heartbeat.exists()  # a stopped process never looks alive
    assert "Traceback" not in s.output()

    stopped = run_cli(["health"], s.env, s.cwd)
    assert stopped.returncode == 1
    assert "no heartbeat" in stopped.stderr
