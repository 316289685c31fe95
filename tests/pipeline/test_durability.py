"""Nothing Slack was told 200 for is lost, nothing is done twice.

Real `gauntlet serve --http` and `gauntlet worker` processes are killed with SIGKILL in the middle of a
burst of answers and restarted: every acknowledged answer is graded once and answered once. Replies
ride out storms of 500s and 429s (some 500s after Slack took the message) without a double post; a
terminal error stops the entry and the person is told. The database refuses a second active interview
and a second answer for one message; claims are disjoint across workers and a dead worker's rows are
taken over. Two replicas on PostgreSQL never split an interview or reply twice."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slack"))

import slack_requests as R
from fake_slack import TEAM, FakeSlack, FakeSlackServer
from slack_bolt.request import BoltRequest

from bot.interview.engine import InterviewEngine
from bot.pipeline import queue
from bot.pipeline.queue import InboxItem, OutboxItem
from bot.slack.app import build_app
from bot.slack.config import Settings
from bot.store.channels import DailyPost
from bot.store.db import make_engine, session_scope
from bot.store.models import Answer, GradeRecord, Interview, PointEntry
from bot.store.schema import init_db

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-test-0000-not-a-real-token"
CHANNEL = "CPRACTICE"
PROMPT_TS = "1700000000.000777"
OPENING = ("I was the incident commander when checkout started failing at 14:05; our error-rate alert "
           "paged me, about 30% of orders failed for 40 minutes, and I rolled back the deploy first.")
FOLLOW_UP = ("We found the cause in the connection pool settings of that deploy; I wrote the timeline, "
             "we added a canary stage and an alert on pool saturation, owned by the platform team.")


# ---- helpers ----------------------------------------------------------------------------------------

@pytest.fixture
def fake():
    with FakeSlackServer(FakeSlack(admins={"UADMIN"})) as fake:
        yield fake


def _seed_prompt(db, channel: str = CHANNEL, thread_ts: str = PROMPT_TS) -> None:
    with session_scope(db) as s:
        s.add(DailyPost(workspace=TEAM, channel=channel, day=datetime.now(UTC).date(), status="posted",
                        prompt_id="durability", message_ts=thread_ts))


def _count(db, table, *where) -> int:
    with Session(db) as s:
        return s.exec(select(func.count()).select_from(table).where(*where)).one()


def _replies_to(fake, user: str, thread_ts: str = PROMPT_TS) -> list:
    """Graded replies in the prompt thread addressed to `user`."""
    return [c for c in fake.of("chat.postMessage")
            if c.args.get("thread_ts") == thread_ts and f"<@{user}>" in c.text and "/100" in c.text]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(fake, url: str, tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": R.SECRET, "SLACK_API_URL": fake.url,
            "DATABASE_URL": url, "GAUNTLET_INBOX_LEASE_SECONDS": "2", "GAUNTLET_OUTBOX_LEASE_SECONDS": "2"}


def _spawn(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    with open(log, "a") as out:
        # Its own process group: killing it takes gunicorn's web processes and the worker child too,
        # the way a crashed machine or an OOM-killed container does.
        return subprocess.Popen([sys.executable, "-m", "bot", *args], env=env, cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _serve(env, cwd: Path, log: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = _spawn(["serve", "--http", "--port", str(port), "--no-scheduler", *extra], env, cwd, log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, base
        except OSError:
            assert time.monotonic() < deadline, f"gauntlet serve did not start:\n{log.read_text()}"
            time.sleep(0.1)


def _kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        _kill(proc)


def _post(base: str, body: str, headers: dict[str, str] | None = None) -> int | None:
    """The HTTP status, or None when the connection broke (the server died mid-request: no ack)."""
    req = urllib.request.Request(base + "/slack/events", data=body.encode(), method="POST",
                                 headers=headers or R.signed_headers(body))
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def _warm_up(base: str) -> None:
    """A few messages the app looks up and ignores (replies in a thread it did not start), so every web
    process has served a request and read the database."""
    _burst(base, {f"UWARM{n}": R.event(R.message("just chatting", user=f"UWARM{n}", thread_ts="1.1"))
                  for n in range(8)})


def _burst(base: str, bodies: dict[str, str], *, kill=None, kill_after: float = 0.0) -> dict[str, bool]:
    """Send every body (one per user) at once; optionally SIGKILL `kill` `kill_after` seconds in.
    Returns user → acknowledged (HTTP 200)."""
    acked: dict[str, bool] = {}
    gate = threading.Barrier(len(bodies) + (1 if kill is not None else 0))

    def send(user: str, body: str, n: int) -> None:
        gate.wait(timeout=30)
        time.sleep(n * 0.01)  # spread over the burst, so the kill lands between acknowledgements
        acked[user] = _post(base, body) == 200

    threads = [threading.Thread(target=send, args=(user, body, n))
               for n, (user, body) in enumerate(bodies.items())]
    for t in threads:
        t.start()
    if kill is not None:
        gate.wait(timeout=30)
        time.sleep(kill_after)
        _kill(kill)
    for t in threads:
        t.join()
    return acked


def _assert_once_each(fake, db, acked: dict[str, bool], *, timeout: float = 90) -> None:
    """Every acknowledged answer gets exactly one grade and one reply; the rest at most one each."""
    wanted = [u for u, ok in acked.items() if ok]
    deadline = time.monotonic() + timeout
    while any(not _replies_to(fake, u) for u in wanted):
        assert time.monotonic() < deadline, [u for u in wanted if not _replies_to(fake, u)]
        time.sleep(0.1)
    time.sleep(2.5)  # longer than the leases: a late duplicate would show up now
    for user, ok in acked.items():
        grades = _count(db, GradeRecord, GradeRecord.user_id == user)
        replies = len(_replies_to(fake, user))
        if ok:
            assert (grades, replies) == (1, 1), user
        else:
            assert grades <= 1 and replies == grades, user
    assert queue.backlog(db) == {"inbox": 0, "outbox": 0}


def _bodies(users: list[str], text: str = OPENING) -> dict[str, str]:
    return {u: R.event(R.message(f"{text} ({u})", user=u, thread_ts=PROMPT_TS)) for u in users}


# ---- SIGKILL in the middle of a burst ----------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
def test_serve_killed_mid_burst_loses_no_acknowledged_answer_and_doubles_none(fake, tmp_path, seed):
    """`gauntlet serve --http` (web and worker) SIGKILLed at a random point of a 30-answer burst: after a
    restart every answer that got its 200 is graded once and answered once."""
    url = f"sqlite:///{tmp_path / 'gauntlet.db'}"
    db = make_engine(url)
    init_db(db)
    _seed_prompt(db)
    env, log = _env(fake, url, tmp_path), tmp_path / "serve.log"
    users = [f"UK{seed}{n:03d}" for n in range(30)]
    first, base = _serve(env, tmp_path, log)
    _warm_up(base)
    acked = _burst(base, _bodies(users), kill=first, kill_after=random.Random(seed).uniform(0.15, 0.5))
    assert any(acked.values()), "the kill came before any acknowledgement: nothing was tested"
    second, _ = _serve(env, tmp_path, log)
    try:
        _assert_once_each(fake, db, acked)
    finally:
        _stop(second)
    db.dispose()


def test_a_worker_killed_mid_burst_is_taken_over_and_nothing_is_doubled(fake, tmp_path):
    """Web processes keep acknowledging while a separate `gauntlet worker` is SIGKILLed mid-way through
    the burst's work: a new worker takes its rows over; each answer is graded once and answered once."""
    url = f"sqlite:///{tmp_path / 'gauntlet.db'}"
    db = make_engine(url)
    init_db(db)
    _seed_prompt(db)
    env, log = _env(fake, url, tmp_path), tmp_path / "serve.log"
    web, base = _serve(env, tmp_path, log, "--no-worker")
    worker = _spawn(["worker", "--no-scheduler"], env, tmp_path, log)
    try:
        users = [f"UW{n:03d}" for n in range(30)]
        acked = _burst(base, _bodies(users))
        assert all(acked.values())
        # Kill it while it is working through the burst: some graded, some not yet.
        deadline = time.monotonic() + 30
        while _count(db, GradeRecord) < 3:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        _kill(worker)
        assert _count(db, InboxItem, InboxItem.status == "pending") > 0, "the worker had finished already"
        worker = _spawn(["worker", "--no-scheduler"], env, tmp_path, log)
        _assert_once_each(fake, db, acked)
    finally:
        _stop(worker)
        _stop(web)
    db.dispose()


# ---- Slack failing ----------------------------------------------------------------------------------

def _app(fake, db):
    return build_app(Settings(bot_token=TOKEN, signing_secret=R.SECRET, api_url=fake.url), db=db)


def _send(app, inner: dict, *, event_id: str | None = None) -> None:
    body = R.event(inner, event_id=event_id)
    resp = app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in R.signed_headers(body).items()}))
    assert resp.status == 200


def test_replies_survive_a_storm_of_500s_and_429s_and_none_is_posted_twice(fake, sqlite_db):
    """500s (two of them after Slack had taken the message), 503s and 429s with Retry-After: every
    reply arrives exactly once; an attempt after an unknown outcome looks before posting again."""
    _seed_prompt(sqlite_db)
    app = _app(fake, sqlite_db)
    fake.fail_http("chat.postMessage", status=500, times=2, posted_anyway=True)
    fake.fail_http("chat.postMessage", status=503, times=2)
    fake.rate_limit("chat.postMessage", retry_after=1, times=2)
    users = [f"US{n}" for n in range(6)]
    for user in users:
        _send(app, R.message(f"{OPENING} ({user})", user=user, thread_ts=PROMPT_TS))
    fake.wait_for(lambda calls: all(_replies_to(fake, u) for u in users), timeout=60, what="every reply")
    time.sleep(1.0)
    assert [len(_replies_to(fake, u)) for u in users] == [1] * 6
    assert len(fake.of("chat.postMessage:500")) == 2 and len(fake.of("chat.postMessage:503")) == 2
    assert len(fake.of("chat.postMessage:429")) == 2
    assert fake.of("conversations.replies"), "a retry after an unknown outcome must look first"
    assert _count(sqlite_db, GradeRecord) == 6
    assert queue.backlog(sqlite_db) == {"inbox": 0, "outbox": 0}


def test_a_terminal_error_stops_the_entry_and_the_person_gets_it_in_their_dm(fake, sqlite_db):
    """A reply to an archived channel is not retried forever: the entry stops and the feedback goes to
    the person's DM with a note saying why."""
    _seed_prompt(sqlite_db)
    app = _app(fake, sqlite_db)
    fake.refusals[CHANNEL] = "is_archived"
    _send(app, R.message(OPENING, user="UARCH", thread_ts=PROMPT_TS))
    [dm] = fake.wait_for_call("chat.postMessage", where=lambda c: c.args.get("channel") == "DARCH")
    assert "is_archived" in dm.text and "/100" in dm.text
    with Session(sqlite_db) as s:
        [stopped] = s.exec(select(OutboxItem).where(OutboxItem.status == "failed")).all()
    assert stopped.error == "is_archived" and stopped.attempts == 1
    time.sleep(0.5)
    assert len([c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DARCH"]) == 1


# ---- answers left "received" by the version before the inbox -----------------------------------------

def test_answers_an_older_version_recorded_but_never_graded_are_graded_and_answered_once(fake, db):
    """The synchronous path before the inbox recorded an answer, then died before grading it: after the
    upgrade the worker's start takes it into the inbox, it is graded once and answered once where its
    interview's replies go (a prompt thread, a DM drill), and later starts (or a second process) add
    nothing. An answer whose own inbox row is still pending is left to that row."""
    _seed_prompt(db)
    old = InterviewEngine(db)
    thread = old.start(workspace=TEAM, user_id="UOLD", source="thread", channel=CHANNEL, thread_ts=PROMPT_TS)
    in_thread = old.record_answer(thread.interview_id, OPENING, event_id="EvOld1", message_ts="1700002000.1")
    drill = old.start(workspace=TEAM, user_id="UDRILL", source="dm", channel="DDRILL")
    in_dm = old.record_answer(drill.interview_id, OPENING, event_id="EvOld2", message_ts="1700002000.2")
    # One recorded by this version's worker, whose inbox row is still pending (a crash between the two).
    live = old.start(workspace=TEAM, user_id="ULIVE", source="thread", channel=CHANNEL, thread_ts=PROMPT_TS)
    queue.record(db, kind="answer", workspace=TEAM, user_id="ULIVE", conv="x", channel=CHANNEL,
                 ts="1700002000.3", event_id="EvLive", payload={"text": OPENING, "user": "ULIVE",
                                                              "channel": CHANNEL, "ts": "1700002000.3",
                                                              "thread_ts": PROMPT_TS, "has_files": False})
    old.record_answer(live.interview_id, OPENING, event_id="EvLive", message_ts="1700002000.3")
    assert _count(db, Answer, Answer.status == "received") == 3

    from bot.slack.interview import adopt_received

    app = _app(fake, db)  # the upgraded app: its worker's start takes the two into the inbox
    fake.wait_for(lambda calls: _replies_to(fake, "UOLD") and [
        c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DDRILL" and "/100" in c.text],
        timeout=60, what="both answers' feedback")
    app.gauntlet.worker.drain()
    _app(fake, db).gauntlet.worker.drain()  # a restart (or a second process): nothing more
    assert adopt_received(app.gauntlet) == 0
    time.sleep(0.5)
    assert len(_replies_to(fake, "UOLD")) == 1
    assert len([c for c in fake.of("chat.postMessage") if c.args.get("channel") == "DDRILL"
                and "/100" in c.text]) == 1
    assert len(_replies_to(fake, "ULIVE")) == 1  # by its own row, not a second one
    with Session(db) as s:
        assert s.get(Answer, in_thread).status == s.get(Answer, in_dm).status == "graded"
    assert _count(db, GradeRecord) == 3
    assert _count(db, InboxItem, InboxItem.kind == "received") == 2
    assert queue.backlog(db) == {"inbox": 0, "outbox": 0}


# ---- invariants held by the database ----------------------------------------------------------------

def test_the_database_refuses_a_second_active_interview_in_one_thread_or_dm(db):
    """Two active interviews for one person in one prompt thread (or DM drill) cannot both exist."""
    engine = InterviewEngine(db)
    engine.start(workspace=TEAM, user_id="UDUP", source="thread", channel=CHANNEL, thread_ts=PROMPT_TS)
    with pytest.raises(IntegrityError):
        engine.start(workspace=TEAM, user_id="UDUP", source="thread", channel=CHANNEL, thread_ts=PROMPT_TS)
    engine.start(workspace=TEAM, user_id="UDUP", source="thread", channel=CHANNEL, thread_ts="1.2")
    first = engine.start(workspace=TEAM, user_id="UDUP", source="dm", channel="DDUP")
    with pytest.raises(IntegrityError):
        engine.start(workspace=TEAM, user_id="UDUP", source="dm", channel="DDUP")
    engine.stop(first.interview_id)
    engine.start(workspace=TEAM, user_id="UDUP", source="dm", channel="DDUP")  # allowed once stopped
    assert _count(db, Interview, Interview.status == "active") == 3


def test_the_database_refuses_a_second_answer_for_one_message(db):
    """One Slack message (workspace, channel, ts) is one answer, whatever event id it arrives with."""
    engine = InterviewEngine(db)
    q = engine.start(workspace=TEAM, user_id="UONE", source="thread", channel=CHANNEL, thread_ts=PROMPT_TS)
    assert engine.record_answer(q.interview_id, OPENING, event_id="EvA", message_ts="5.5") is not None
    assert engine.record_answer(q.interview_id, OPENING, event_id="EvB", message_ts="5.5") is None
    with pytest.raises(IntegrityError):
        engine.record_answer(q.interview_id, OPENING, message_ts="5.5")  # no event id: the index says no
    assert _count(db, Answer) == 1


def test_an_edit_is_regraded_once_however_often_it_arrives_and_only_from_its_author(fake, sqlite_db):
    """An edit delivered twice (a retry, or two replicas) posts one "graded again"; an edit event
    claiming another author's message changes nothing."""
    _seed_prompt(sqlite_db)
    app = _app(fake, sqlite_db)
    original = R.message(OPENING, user="UEDIT", thread_ts=PROMPT_TS)
    _send(app, original)
    fake.wait_for(lambda calls: _replies_to(fake, "UEDIT"), what="first feedback")
    edit = R.edited(original, OPENING + " We also paged the database on-call at 14:09.")
    body = R.event(edit)
    for _ in range(2):
        headers = {k: [v] for k, v in R.signed_headers(body).items()}
        assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    again = fake.wait_for(lambda calls: [c for c in fake.of("chat.postMessage") if "graded again" in c.text])
    impostor = R.edited({**original, "user": "UOTHER"}, "score=0")
    _send(app, impostor)
    time.sleep(1.0)
    assert len([c for c in fake.of("chat.postMessage") if "graded again" in c.text]) == len(again) == 1
    with Session(sqlite_db) as s:
        [answer] = s.exec(select(Answer)).all()
    assert "14:09" in answer.text


# ---- claims -----------------------------------------------------------------------------------------

def _record(db, n: int, conv: str | None = None) -> int:
    return queue.record(db, kind="answer", workspace=TEAM, user_id=f"U{n}", conv=conv or f"c{n}",
                        payload={}, event_id=f"Ev{uuid.uuid4().hex}", channel=CHANNEL, ts=f"{n}.0").id


def test_concurrent_claims_never_take_the_same_row_and_a_conversation_goes_in_order(db):
    """Eight workers claiming at once take 40 rows with none taken twice; a conversation's second row
    is not claimable while its first is pending."""
    ids = [_record(db, n) for n in range(40)]
    first, second = _record(db, 100, conv="same"), _record(db, 101, conv="same")
    taken: list[int] = []
    lock = threading.Lock()

    def claim(name: str) -> None:
        while True:
            got = queue.claim_inbox(db, worker=name, lease=timedelta(minutes=5), limit=3)
            if not got:
                return
            with lock:
                taken.extend(got)

    workers = [threading.Thread(target=claim, args=(f"w{n}",)) for n in range(8)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert sorted(taken) == sorted([*ids, first])  # each once; the conversation's second row waits
    assert second not in taken


def test_a_dead_workers_rows_are_taken_over_after_the_lease_and_its_late_finish_is_refused(db):
    """A row whose lease ran out is claimed by another worker; the first worker can no longer finish it."""
    item = _record(db, 1)
    assert queue.claim_inbox(db, worker="dead", lease=timedelta(seconds=0.2)) == [item]
    assert queue.claim_inbox(db, worker="alive", lease=timedelta(seconds=30)) == []
    time.sleep(0.3)
    assert queue.claim_inbox(db, worker="alive", lease=timedelta(seconds=30)) == [item]
    with pytest.raises(queue.LeaseLost), session_scope(db) as s:
        queue.finish_inbox(s, item, "dead")
    with session_scope(db) as s:
        queue.finish_inbox(s, item, "alive")
    assert _count(db, InboxItem, InboxItem.status == "done") == 1


# ---- two replicas on PostgreSQL ---------------------------------------------------------------------

def test_two_replicas_on_postgres_never_split_an_interview_grade_twice_or_reply_twice(fake, pg_schema,
                                                                                     tmp_path):
    """Each person's first answer and their edit reach both replicas at once (Slack's retry landing on
    the other one); their second answer reaches one. Everyone has one interview, two grades, the opening
    counted once, and exactly one reply per answer and one per edit."""
    db, url = pg_schema
    _seed_prompt(db)
    env, log = _env(fake, url, tmp_path), tmp_path / "replicas.log"
    replicas = [_serve(env, tmp_path, log) for _ in range(2)]
    users = [f"UR{n:02d}" for n in range(10)]
    try:
        firsts = {u: R.message(f"{OPENING} ({u})", user=u, thread_ts=PROMPT_TS) for u in users}
        _to_both(replicas, {u: R.event(m) for u, m in firsts.items()})
        fake.wait_for(lambda calls: all(_replies_to(fake, u) for u in users), timeout=60,
                      what="first replies")
        for n, user in enumerate(users):
            body = R.event(R.message(f"{FOLLOW_UP} ({user})", user=user, thread_ts=PROMPT_TS))
            assert _post(replicas[n % 2][1], body) == 200
        fake.wait_for(lambda calls: all(len(_replies_to(fake, u)) >= 2 for u in users), timeout=60,
                      what="second replies")
        _to_both(replicas, {u: R.event(R.edited(m, m["text"] + " Edited: paged at 14:06."))
                            for u, m in firsts.items()})
        time.sleep(3.0)
    finally:
        for proc, _ in replicas:
            _stop(proc)
    for user in users:
        assert _count(db, Interview, Interview.user_id == user) == 1, user
        assert _count(db, GradeRecord, GradeRecord.user_id == user) == 2, user
        assert _count(db, PointEntry, PointEntry.user_id == user, PointEntry.round == "opening") == 1, user
        replies = [c for c in _replies_to(fake, user) if "graded again" not in c.text]
        regrades = [c for c in _replies_to(fake, user) if "graded again" in c.text]
        assert len(replies) == 2 and len(regrades) <= 1, user  # an edit regrades only while its round is open
    assert queue.backlog(db) == {"inbox": 0, "outbox": 0}


def _to_both(replicas, bodies: dict[str, str]) -> None:
    """Each body to both replicas at the same moment, the second as Slack's retry."""
    statuses: list[int | None] = []
    lock = threading.Lock()

    def send(base: str, body: str, retry: int) -> None:
        status = _post(base, body, R.signed_headers(body, retry_num=retry or None))
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=(base, body, n))
               for body in bodies.values() for n, (_, base) in enumerate(replicas)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(threads)


# ---- the HTTP server ----------------------------------------------------------------------------------

def test_gunicorn_refuses_a_huge_body_unread_and_cuts_off_a_stalled_one(fake, tmp_path):
    """A real `gauntlet serve --http`: a 40 MB body is answered 413 from its headers alone, and a client
    that stops sending its body is cut off (408) instead of holding a thread."""
    url = f"sqlite:///{tmp_path / 'gauntlet.db'}"
    db = make_engine(url)
    init_db(db)
    proc, base = _serve(_env(fake, url, tmp_path), tmp_path, tmp_path / "serve.log")
    port = int(base.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 40000000\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 413")
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{\"type\": ")
            answer = s.recv(100)
        assert answer.startswith(b"HTTP/1.1 408") or answer == b""
        assert 5 < time.monotonic() - started < 25
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        _stop(proc)
    db.dispose()
