"""Faults injected into a real app: the database going away, Slack answering 429 and 5xx, and the
process killed in the middle of grading. Each test says what the person sees and what the store holds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import event, func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))

import slack_requests as R
from fake_slack import TEAM, FakeSlack, FakeSlackServer, _handler
from slack_bolt.request import BoltRequest

from bot.content import default_content
from bot.daily import channels, daily
from bot.daily.schedule import parse_schedule
from bot.daily.scheduler import PromptScheduler
from bot.pipeline import queue
from bot.pipeline.queue import InboxItem, OutboxItem
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.config import Settings
from bot.slack.interview import prompt_poster
from bot.slack.post import TRY_AGAIN
from bot.store.channels import DailyPost
from bot.store.db import make_engine
from bot.store.models import Answer, GradeRecord, Interview, PointEntry
from bot.store.schema import init_db

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-test-0000-not-a-real-token"
OPENING = ("I was the incident commander when checkout started failing at 14:05; our error-rate alert "
           "paged me, about 30% of orders failed for 40 minutes, and I rolled back the deploy first.")


class DatabaseFault:
    """Makes statements fail the way a lost database connection does, while switched on."""

    def __init__(self, engine):
        self.engine = engine
        self.matching: str | None = None
        event.listen(engine, "before_cursor_execute", self._check)

    def down(self, matching: str = "") -> None:
        """Every statement (or only those containing `matching`) fails from now on."""
        self.matching = matching.lower()

    def up(self) -> None:
        self.matching = None

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement, parameters, context, executemany):
        if self.matching is not None and self.matching in statement.lower():
            raise OperationalError(statement, parameters, ConnectionRefusedError("database unavailable"))


@pytest.fixture
def fake():
    with FakeSlackServer(FakeSlack(admins={"UADMIN"})) as fake:
        yield fake


def _app(fake, db):
    return build_app(Settings(bot_token=TOKEN, signing_secret=R.SECRET, api_url=fake.url), db=db)


def _send(app, inner: dict) -> None:
    body = R.event(inner)
    resp = app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in R.signed_headers(body).items()}))
    assert resp.status == 200


def _count(db, table: type[SQLModel]) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def _thread_feedback(fake, thread_ts: str) -> list:
    return [c for c in fake.of("chat.postMessage")
            if c.args.get("thread_ts") == thread_ts and "/100" in c.text]


def _prompt(app, db) -> str:
    result = daily.post_now(db, default_content(), TEAM, "CPRACTICE", prompt_poster(app.client))
    assert result.status == "posted"
    return result.message_ts


# ---- the database unavailable -----------------------------------------------------------------------

def _prompt_row(db, channel: str = "CPRACTICE") -> None:
    with Session(db) as s:
        s.add(DailyPost(workspace=TEAM, channel=channel, day=datetime.now(UTC).date(), status="posted",
                        prompt_id="p", message_ts="1700000000.000100"))
        s.commit()


def _record(db, n: int, channel: str = "CPRACTICE"):
    return queue.record(db, kind="answer", workspace=TEAM, user_id="UANS", conv=f"conv-{n}",
                        payload={"text": f"answer {n} — café", "n": [n]}, event_id=f"Ev{n}",
                        channel=channel, ts=f"1700000001.{n:06d}",
                        only_if=queue.PromptChannel(TEAM, channel))


def test_the_acknowledgement_insert_writes_the_row_and_finds_a_repeat(db):
    """On PostgreSQL the prompt-thread insert goes to the driver directly: the same row as before."""
    _prompt_row(db)
    first = _record(db, 1)
    assert first.new and _record(db, 1) == queue.Recorded(first.id, False)
    assert _record(db, 2, channel="CNOPROMPTS") is None
    with Session(db) as s:
        item = s.get(InboxItem, first.id)
    assert (item.kind, item.event_id, item.workspace, item.channel, item.ts, item.user_id, item.conv,
            item.status, item.attempts) == ("answer", "Ev1", TEAM, "CPRACTICE", "1700000001.000001", "UANS",
                                            "conv-1", "pending", 0)
    assert item.payload == {"text": "answer 1 — café", "n": [1]}
    assert abs(item.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert item.available_at == item.created_at
    dm = dict(kind="answer", workspace=TEAM, user_id="UANS", conv="dm-1", payload={"text": "in a DM"},
              event_id="EvDM", channel="DANS", ts="1700000002.000001")
    in_dm = queue.record(db, **dm)
    assert in_dm.new and queue.record(db, **dm) == queue.Recorded(in_dm.id, False)
    with Session(db) as s:
        assert s.get(InboxItem, in_dm.id).payload == {"text": "in a DM"}


def test_an_acknowledgement_survives_a_dropped_connection_and_an_outage_is_an_outage(db, tmp_path):
    """A connection the server dropped is replaced once; a server that does not answer is an outage
    (the person is told to resend), not a bug."""
    from sqlalchemy import text

    from bot.store.db import is_database_outage

    if db.dialect.name != "postgresql":
        pytest.skip("the driver's own connections are PostgreSQL's")
    _prompt_row(db)
    queue.warm_ack_connections(db, 3)
    assert _record(db, 1).new
    pids = [conn.info.backend_pid for conn in queue._ack_connections(db).idle]
    assert len(pids) == 3
    with db.connect() as conn:  # what a server restart does to the sessions the app holds open
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                     {"pids": pids})
    assert _record(db, 2).new and _record(db, 3).new
    with port_closed() as port:
        down = make_engine(db.url.set(port=port).render_as_string(hide_password=False))
        with pytest.raises(Exception) as raised:
            _record(down, 4)
        assert is_database_outage(raised.value)
        down.dispose()
    db.dispose()  # closes the driver's connections too
    assert queue._ack_connections(db).idle == []


@contextlib.contextmanager
def port_closed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield port


def test_an_answer_during_an_outage_gets_try_again_and_nothing_is_written(fake, sqlite_db):
    """While the database is down a thread answer gets "send it again" and no row; once back, it is graded."""
    app = _app(fake, sqlite_db)
    thread_ts = _prompt(app, sqlite_db)
    fault = DatabaseFault(sqlite_db)
    fault.down()
    _send(app, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    [told] = fake.wait_for_call("chat.postEphemeral")
    assert told.args["user"] == "UALICE" and told.args["thread_ts"] == thread_ts
    assert TRY_AGAIN in told.text
    fault.up()
    assert (_count(sqlite_db, Interview), _count(sqlite_db, Answer)) == (0, 0)

    _send(app, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    fake.wait_for(lambda calls: _thread_feedback(fake, thread_ts), what="graded feedback")
    assert _count(sqlite_db, GradeRecord) == 1


def test_a_command_during_an_outage_is_answered_with_try_again(fake, sqlite_db):
    """A slash command whose database work fails answers through its response_url instead of going quiet."""
    app = _app(fake, sqlite_db)
    fault = DatabaseFault(sqlite_db)
    fault.down()
    body = R.command("me", response_url=fake.url + "response/outage")
    resp = app.dispatch(BoltRequest(body=body, headers={
        k: [v] for k, v in R.signed_headers(body, content_type=R.FORM).items()}))
    assert resp.status == 200
    [answer] = fake.wait_for_call("response_url", where=lambda c: c.path == "/response/outage")
    assert TRY_AGAIN in answer.text


def test_an_outage_mid_grading_rolls_back_the_grade_and_the_worker_answers_once_it_is_back(fake, db):
    """Grading cut off by the database keeps no partial grade and owes no reply; the inbox row is tried
    again, and once the database is back the answer is graded and answered exactly once."""
    app = _app(fake, db)
    thread_ts = _prompt(app, db)
    fault = DatabaseFault(db)
    # The grade's last statement fails: the grade record and answer update before it must roll back.
    fault.down("insert into pointentry")
    _send(app, R.message(OPENING, user="UALICE", thread_ts=thread_ts))
    deadline = time.monotonic() + 10
    while _count(db, Answer) == 0:  # recorded by the worker's first attempt, which then fails
        assert time.monotonic() < deadline, "the worker never took the answer"
        time.sleep(0.05)
    time.sleep(0.5)  # a few failed attempts
    with Session(db) as s:
        [answer] = s.exec(select(Answer)).all()
        [interview] = s.exec(select(Interview)).all()
        [item] = s.exec(select(InboxItem)).all()
    assert answer.status == "received" and item.status == "pending" and item.error == "OperationalError"
    assert (interview.round, interview.done, interview.asked_probes) == ("opening", [], [])
    assert (_count(db, GradeRecord), _count(db, PointEntry), _count(db, OutboxItem)) == (0, 0, 0)
    assert _thread_feedback(fake, thread_ts) == []

    fault.up()
    [feedback] = fake.wait_for(lambda calls: _thread_feedback(fake, thread_ts), what="late feedback")
    assert "<@UALICE>" in feedback.text
    assert (_count(db, GradeRecord), _count(db, PointEntry)) == (1, 1)
    time.sleep(0.5)  # more worker passes: the answer is not graded or answered twice
    assert len(_thread_feedback(fake, thread_ts)) == 1


def test_the_scheduler_catches_up_after_an_outage_inside_its_grace_window(fake, sqlite_db):
    """A prompt due while the database was down is posted (marked late) when it comes back within grace."""
    due = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday
    channels.set_schedule(sqlite_db, TEAM, "CPRACTICE", parse_schedule("09:30 UTC daily"), set_by="UADMIN",
                          now=due - timedelta(days=1))
    clock = {"now": due + timedelta(seconds=5)}
    scheduler = PromptScheduler(sqlite_db, default_content(), prompt_poster(make_client(TOKEN, fake.url)),
                                grace=timedelta(minutes=60), clock=lambda: clock["now"])
    fault = DatabaseFault(sqlite_db)
    fault.down()
    with pytest.raises(OperationalError):
        scheduler.fire(TEAM, "CPRACTICE")  # APScheduler logs this and runs the catch-up again later
    fault.up()
    assert _count(sqlite_db, DailyPost) == 0  # no claim left behind to block the retry

    clock["now"] = due + timedelta(minutes=25)
    [result] = scheduler.catch_up()
    assert result.status == "posted" and result.late
    assert scheduler.catch_up() == []
    assert len(fake.of("chat.postMessage")) == 1


# ---- Slack answering 429 and 5xx --------------------------------------------------------------------

class FlakySlack(FakeSlack):
    """The fake Web API, plus scripted 503s and a record of when each call arrived."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.server_errors: dict[str, int] = {}  # channel → how many 503s it gets before succeeding
        self.arrivals: list[tuple[float, str, str]] = []  # (time, outcome: 429 | 503 | ok, channel)


def _flaky_handler(fake: FlakySlack):
    base = _handler(fake)

    class Handler(base):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            method = urlparse(self.path).path.rsplit("/", 1)[-1]
            channel = str(json.loads(raw or b"{}").get("channel", "")) if b"{" in raw[:1] else ""
            if not channel:
                from urllib.parse import parse_qs

                channel = (parse_qs(raw.decode()).get("channel") or [""])[0]
            with fake._lock:
                failing = fake.server_errors.get(channel, 0)
                if failing:
                    fake.server_errors[channel] = failing - 1
                outcome = "503" if failing else "429" if fake.rate_limits.get(method) else "ok"
                fake.arrivals.append((time.monotonic(), outcome, channel))
            if failing:
                self._send(503, {"ok": False, "error": "service_unavailable"})
                return
            # Hand the body back to the base handler, which reads it itself.
            import io

            self.rfile = io.BytesIO(raw)
            super().do_POST()

    return Handler


@pytest.fixture
def flaky():
    fake = FlakySlack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _flaky_handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def test_a_fan_out_to_500_channels_survives_429s_and_5xxs_with_none_dropped(flaky, sqlite_db, monkeypatch):
    """500 channels due at once, with 429s (Retry-After honoured) and 503s on the way: each channel gets
    exactly one prompt, and one whose retries ran out is posted by the next catch-up."""
    # This fake has no workspace limit: pace like a workspace allowed 200 posts a second, so the test
    # is about faults, not about waiting out the conservative default rate (tests/slack covers pacing).
    monkeypatch.setenv("GAUNTLET_SLACK_POSTS_PER_SECOND", "200")
    due = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    schedule = parse_schedule("09:30 UTC daily")
    names = [f"C{n:05d}" for n in range(500)]
    for name in names:
        channels.set_schedule(sqlite_db, TEAM, name, schedule, set_by="UADMIN", now=due - timedelta(days=1))
    flaky.rate_limit("chat.postMessage", retry_after=1, times=2)
    flaky.server_errors.update({"C00100": 1, "C00200": 2, "C00300": 9})  # C00300 outlasts the retries
    scheduler = PromptScheduler(sqlite_db, default_content(), prompt_poster(make_client(TOKEN, flaky.url)),
                                clock=lambda: due + timedelta(seconds=1))
    results = scheduler.catch_up()
    assert len(results) == 500
    failed = [r.channel for r in results if r.status == "failed"]
    assert failed == ["C00300"]

    flaky.server_errors["C00300"] = 0
    [retried] = scheduler.catch_up()
    assert (retried.channel, retried.status) == ("C00300", "posted")
    posted = [c.args["channel"] for c in flaky.of("chat.postMessage")]
    assert sorted(posted) == names  # every channel exactly once
    # Each 429 was followed by a wait of at least its Retry-After before that channel's next call
    # (posts to different channels go out side by side).
    limited = [(t, ch) for t, outcome, ch in flaky.arrivals if outcome == "429"]
    assert len(limited) == 2
    for at, channel in limited:
        later = min(t for t, _, ch in flaky.arrivals if ch == channel and t > at)
        assert later - at >= 1.0, (channel, later - at)


# ---- the process killed mid-grading -----------------------------------------------------------------

# Loaded into the first child process only: grading announces itself, then hangs until the kill.
HANG_IN_GRADING = '''
import os, time
from pathlib import Path
import bot.interview.engine
def grade_answer(self, answer_id, **_):
    Path(os.environ["GAUNTLET_TEST_MARK"]).write_text(str(answer_id))
    time.sleep(3600)
bot.interview.engine.InterviewEngine.grade_answer = grade_answer
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict[str, str], cwd: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    with open(log, "a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--http", "--port", str(port),
                                 "--no-scheduler"], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: web and worker die with it
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            assert time.monotonic() < deadline, "gauntlet serve did not start"
            time.sleep(0.1)


def _post_signed(base: str, body: str) -> int:
    req = urllib.request.Request(base + "/slack/events", data=body.encode(), method="POST",
                                 headers=R.signed_headers(body))
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


def test_an_answer_whose_process_was_killed_mid_grading_is_graded_after_restart(fake, tmp_path):
    """SIGKILL while grading leaves the answer on record; the restarted process takes the dead worker's
    row over when its lease runs out, grades it and answers once."""
    url = f"sqlite:///{tmp_path / 'gauntlet.db'}"
    db = make_engine(url)
    init_db(db)
    thread_ts = _prompt(_app(fake, db), db)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HANG_IN_GRADING)
    mark = tmp_path / "grading-started"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
           "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": R.SECRET, "SLACK_API_URL": fake.url,
           "DATABASE_URL": url, "GAUNTLET_INBOX_LEASE_SECONDS": "2"}
    first, base = _serve({**env, "PYTHONPATH": f"{hook}{os.pathsep}{REPO}",
                          "GAUNTLET_TEST_MARK": str(mark)}, tmp_path, tmp_path / "serve.log")
    try:
        assert _post_signed(base, R.event(R.message(OPENING, user="UALICE", thread_ts=thread_ts))) == 200
        deadline = time.monotonic() + 20
        while not mark.exists():
            assert time.monotonic() < deadline, "grading never started"
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the arbiter, its web processes and its worker at once
        first.wait(timeout=10)
    with Session(db) as s:
        [answer] = s.exec(select(Answer)).all()
    assert answer.status == "received" and _thread_feedback(fake, thread_ts) == []

    second, _ = _serve(env, tmp_path, tmp_path / "serve.log")
    try:
        [feedback] = fake.wait_for(lambda calls: _thread_feedback(fake, thread_ts), what="feedback")
    finally:
        second.terminate()
        second.wait(timeout=15)
    assert "<@UALICE>" in feedback.text
    assert _count(db, GradeRecord) == 1
    db.dispose()
