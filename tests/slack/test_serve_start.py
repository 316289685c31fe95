"""`gauntlet serve` as a newcomer starts it: a quiet log when all is well, and one or two clear lines
with a non-zero exit (never a traceback) for a refused token, an app token without connections:write,
no network or a database that cannot be opened."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import BOT_TOKEN, child_env, free_port, run_cli

APP_TOKEN = "xapp-1-A0000-0000-not-a-real-token"


class RefusingSlack:
    """A Web API that answers `method` with {"ok": false, "error": error} and everything else with ok."""

    def __init__(self, method: str, error: str) -> None:
        self.method, self.error = method, error
        self.url = ""

    def answer(self, method: str) -> dict:
        if method == self.method or self.method == "*":
            return {"ok": False, "error": self.error}
        if method == "auth.test":
            return {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT", "team": "t",
                    "user": "b",
                    "url": "https://t.slack.com/"}
        return {"ok": True}


@pytest.fixture
def refusing(request) -> Iterator[RefusingSlack]:
    slack = RefusingSlack(*request.param)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(slack.answer(self.path.strip("/").rsplit("/", 1)[-1])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    slack.url = f"http://127.0.0.1:{server.server_port}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield slack
    server.shutdown()
    server.server_close()


def serve_env(api_url: str, db_url: str, **extra: str) -> dict[str, str]:
    class Fake:  # child_env only reads .url
        url = api_url

    return child_env(Fake(), db_url, SLACK_APP_TOKEN=APP_TOKEN, **extra)


def two_clear_lines(proc) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, proc.stderr
    assert BOT_TOKEN not in proc.stderr and APP_TOKEN not in proc.stderr
    return proc.stderr


@pytest.mark.parametrize("refusing, says", [
    (("auth.test", "invalid_auth"), ["Slack refused SLACK_BOT_TOKEN (invalid_auth)", "Bot User OAuth Token"]),
    (("apps.connections.open", "invalid_auth"), ["Slack refused SLACK_APP_TOKEN", "App-Level Tokens"]),
    (("apps.connections.open", "missing_scope"), ["SLACK_APP_TOKEN lacks a scope", "connections:write"]),
    (("apps.connections.open", "not_allowed_token_type"),
     ["SLACK_APP_TOKEN is not the right kind of token", "xapp-"]),
], indirect=["refusing"])
def test_a_token_slack_refuses_is_named_with_where_to_get_a_good_one(refusing, says, tmp_path):
    """Each refusal names the token and where in the app's settings a working one comes from."""
    started = time.monotonic()
    proc = run_cli(["serve"], serve_env(refusing.url, f"sqlite:///{tmp_path / 'g.db'}"), tmp_path)
    err = two_clear_lines(proc)
    for words in says:
        assert words in err
    assert time.monotonic() - started < 30  # refused before the grading workers and scheduler start


def test_no_network_is_one_clear_failure(tmp_path):
    """Slack out of reach (nothing listening) says so and suggests checking the network."""
    proc = run_cli(["serve"], serve_env(f"http://127.0.0.1:{free_port()}/", f"sqlite:///{tmp_path / 'g.db'}"),
                   tmp_path)
    err = two_clear_lines(proc)
    assert err.startswith("gauntlet serve: cannot reach Slack") and "network" in err


@pytest.mark.parametrize("refusing", [("*", "invalid_auth")], indirect=True)
def test_a_database_that_cannot_be_opened_stops_serve_in_two_lines(refusing, tmp_path):
    """A DATABASE_URL that cannot be opened is reported before Slack is even asked."""
    url = f"sqlite:///{tmp_path / 'missing' / 'dir' / 'g.db'}"
    proc = run_cli(["serve"], serve_env(refusing.url, url), tmp_path)
    err = two_clear_lines(proc)
    assert "cannot open the database" in err and "DATABASE_URL" in err


@pytest.mark.parametrize("refusing", [("auth.test", "invalid_auth")], indirect=True)
def test_debug_shows_the_traceback(refusing, tmp_path):
    """`--debug` anywhere on the line shows the full traceback of the same failure."""
    proc = run_cli(["serve", "--debug"], serve_env(refusing.url, f"sqlite:///{tmp_path / 'g.db'}"), tmp_path)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "invalid_auth" in proc.stderr


def test_a_healthy_start_logs_no_token_warning_and_no_scheduler_chatter(served, tmp_path):
    """Serving with the scheduler on logs that it listens, without Bolt's unused-token warning or
    APScheduler's INFO lines."""
    log = (tmp_path / "serve.log").read_text()
    assert "Listening for Slack" in log
    assert "will be unused" not in log
    assert "apscheduler" not in log
