"""Two real `gauntlet serve --http` processes on one PostgreSQL database: a daily prompt is posted once,
and an event delivered to both (a Slack retry landing on the other replica) is graded and answered once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))

import slack_requests as R
from fake_slack import TEAM, FakeSlack, FakeSlackServer

from bot.daily import channels
from bot.daily.schedule import parse_schedule
from bot.store.channels import DailyPost
from bot.store.models import Answer, GradeRecord

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-test-0000-not-a-real-token"
OPENING = ("I was the incident commander when checkout started failing at 14:05; our error-rate alert "
           "paged me, about 30% of orders failed for 40 minutes, and I rolled back the deploy first.")

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="two replicas need PostgreSQL: set TEST_DATABASE_URL")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(env: dict[str, str], cwd: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = cwd / f"{name}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--http", "--port", str(port)],
                                env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def _wait_healthy(proc: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{base} did not start:\n{log.read_text()}"
            time.sleep(0.1)


def _post(base: str, body: str, headers: dict[str, str]) -> int:
    req = urllib.request.Request(base + "/slack/events", data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


def _count(engine, table) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def test_two_replicas_post_each_prompt_once_and_grade_each_event_once(pg_schema, tmp_path):
    """Both schedulers find the same prompt due and one posts it; the same signed event sent to both
    replicas at once is recorded, graded and answered exactly once."""
    engine, url = pg_schema
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=5)).strftime("%H:%M")
    channels.set_schedule(engine, TEAM, "CPRACTICE", parse_schedule(f"{due} UTC daily"), set_by="UADMIN",
                          now=now - timedelta(days=2))
    with FakeSlackServer(FakeSlack()) as fake:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
               "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": R.SECRET, "SLACK_API_URL": fake.url,
               "DATABASE_URL": url}
        replicas = [_start(env, tmp_path, name) for name in ("a", "b")]
        try:
            for (proc, base), name in zip(replicas, ("a", "b"), strict=True):
                _wait_healthy(proc, base, tmp_path / f"{name}.log")
            # Each scheduler runs its catch-up at start; both see the prompt due, one claim wins.
            [prompt] = fake.wait_for_call("chat.postMessage", where=lambda c: not c.args.get("thread_ts"))
            thread_ts = prompt.response["ts"]

            body = R.event(R.message(OPENING, user="UALICE", thread_ts=thread_ts))
            statuses: list[int] = []
            senders = [threading.Thread(target=lambda b=base, n=n: statuses.append(
                _post(b, body, R.signed_headers(body, retry_num=n)))) for n, (_, base) in enumerate(replicas)]
            for t in senders:
                t.start()
            for t in senders:
                t.join()
            assert statuses == [200, 200]
            fake.wait_for_call("chat.postMessage", where=lambda c: c.args.get("thread_ts") == thread_ts)
            time.sleep(2.0)  # long enough for the other replica's late reply, if there were one
        finally:
            for proc, _ in replicas:
                proc.terminate()
            for proc, _ in replicas:
                proc.wait(timeout=60)
        top_level = [c for c in fake.of("chat.postMessage") if not c.args.get("thread_ts")]
        replies = [c for c in fake.of("chat.postMessage") if c.args.get("thread_ts") == thread_ts]
    assert len(top_level) == 1
    assert len(replies) == 1 and "<@UALICE>" in replies[0].text
    with Session(engine) as s:
        [post] = s.exec(select(DailyPost)).all()
    assert (post.status, post.message_ts) == ("posted", thread_ts)
    assert (_count(engine, Answer), _count(engine, GradeRecord)) == (1, 1)
