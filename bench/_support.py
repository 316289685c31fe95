"""Shared pieces of the scale benchmarks: a fake Slack Web API (run as its own process so its work never
competes with the measuring client), signed Slack requests, `gauntlet serve --http` and a bare Bolt app
as subprocesses, throw-away databases, and the result table.

Run as a script it starts one of the helper servers:

    python bench/_support.py fake-slack --port P [--latency S] [--workspace-limit W] [--channel-limit C]
    python bench/_support.py bare-bolt --port P --api-url URL
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TEAM = "T0GAUNTLET"
BOT_USER = "UBOTGAUNT"
BOT_ID = "BBOTGAUNT"
SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-0000-not-a-real-token"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PYTHON = sys.executable
MENTION = re.compile(r"<@(U[A-Z0-9]+)>")

# ---- answers (written for the benchmarks) -----------------------------------------------------------

ANSWERS = [
    "I was on call for the search service when the p99 latency alert paged me at 03:10. About 12% of "
    "queries timed out for 25 minutes, roughly 4,000 customers. I opened an incident, took incident "
    "commander and asked a colleague to post updates. My first guess was the cache cluster, but its "
    "hit rate was normal, so I ruled it out. A deploy at 02:55 had changed the query planner hints; I "
    "rolled it back at 03:30 and latency was at baseline by 03:35.",
    "The root cause was a hint that forced a sequential scan on the largest index. Our load tests ran "
    "on a tiny dataset, so the test gap hid it, and the deploy went to every region at once with no "
    "canary, so one mistake reached all customers. The trigger was the hint; the missing canary and "
    "the missing latency check in CI are why it got through.",
    "I made the incident channel the single source of truth and posted updates every 15 minutes with "
    "status, impact in numbers, next step and the time of the next update. Support got a short "
    "customer statement. I kept one line of investigation at a time and asked the others to hold their "
    "fixes until we had evidence.",
    "I would push back: calling it human error ends the learning. Anyone could write that hint, and our "
    "pipeline let it reach production unchecked. We added a planner regression test in CI and a canary "
    "stage that blocks promotion on latency, which protects every future deploy.",
    "The canary shipped two weeks later, owned by the platform team. Since then it has stopped two bad "
    "deploys at 5% of traffic, and latency incidents went from three a quarter to none. Looking back I "
    "would have checked recent deploys before the cache.",
]


def answer_for(i: int, user: int) -> str:
    """The i-th answer of a person, varied per person so nothing is graded twice from the same text."""
    return f"{ANSWERS[i % len(ANSWERS)]} (Ticket INC-{user}-{i}.)"


# ---- signed requests ----------------------------------------------------------------------------------

_ids = itertools.count(1)


def signed_headers(body: str, *, secret: str = SECRET) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    ts = str(int(time.time()))
    return {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }


def thread_reply(text: str, *, user: str, channel: str, thread_ts: str) -> str:
    """The Events API body Slack sends for a reply in a thread."""
    n = next(_ids)
    inner = {"type": "message", "user": user, "text": text, "channel": channel, "channel_type": "channel",
             "ts": f"1700001000.{n:06d}", "thread_ts": thread_ts, "team": TEAM}
    return json.dumps({
        "token": "legacy-unused", "team_id": TEAM, "api_app_id": "AGAUNTLET", "type": "event_callback",
        "event_id": f"EvB{uuid.uuid4().hex[:12]}{n}", "event_time": int(time.time()), "event": inner,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    })


def post(url: str, body: str, headers: dict[str, str], timeout: float = 30.0) -> tuple[int, float]:
    """POST and return (status, seconds until the whole response was read)."""
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError:
        status = 0
    return status, time.perf_counter() - start


# ---- the fake Slack Web API ---------------------------------------------------------------------------


class FakeSlackState:
    """What the fake answers and records. Limits apply to chat.postMessage only, as Slack's do:
    `channel_limit` messages per second per channel and `workspace_limit` per second in all; a call
    over a limit gets 429 with Retry-After and is not recorded as posted."""

    def __init__(self, latency: float = 0.0, workspace_limit: int = 0, channel_limit: int = 0):
        self.latency = latency
        self.workspace_limit = workspace_limit
        self.channel_limit = channel_limit
        self.lock = threading.Lock()
        self.ts = itertools.count(1)
        self.posts: list[dict] = []  # accepted chat.postMessage calls
        self.methods: dict[str, int] = {}
        self.limited = 0
        self.recent: deque[float] = deque()  # accepted posts in the last second, workspace-wide
        self.per_channel: dict[str, deque[float]] = {}

    def admit(self, channel: str) -> float:
        """0 when the post may go out now, else the seconds to wait (Retry-After)."""
        now = time.monotonic()
        with self.lock:
            wait = 0.0
            if self.workspace_limit:
                while self.recent and now - self.recent[0] >= 1.0:
                    self.recent.popleft()
                if len(self.recent) >= self.workspace_limit:
                    wait = max(wait, 1.0 - (now - self.recent[0]))
            if self.channel_limit:
                q = self.per_channel.setdefault(channel, deque())
                while q and now - q[0] >= 1.0:
                    q.popleft()
                if len(q) >= self.channel_limit:
                    wait = max(wait, 1.0 - (now - q[0]))
            if wait > 0:
                self.limited += 1
                return wait
            if self.workspace_limit:
                self.recent.append(now)
            if self.channel_limit:
                self.per_channel[channel].append(now)
            return 0.0

    def respond(self, method: str, args: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://gauntlet-bench.slack.com/", "team": "Gauntlet Bench",
                    "user": "incident-gauntlet", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self.ts):06d}"
            with self.lock:
                self.posts.append({"channel": args.get("channel"), "thread_ts": args.get("thread_ts"),
                                   "text": str(args.get("text") or "")[:60], "at": time.time(),
                                   "mentions": sorted(set(MENTION.findall(json.dumps(args.get("blocks")))))})
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"type": "message", "text": args.get("text"), "user": BOT_USER,
                                "bot_id": BOT_ID, "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self.ts):06d}"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).lstrip("U")}}
        if method == "users.info":
            user = args.get("user")
            return {"ok": True, "user": {"id": user, "name": str(user).lower(), "tz": "Europe/Berlin",
                                         "is_admin": False, "is_owner": False, "is_bot": False}}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1"}}
        return {"ok": False, "error": "unknown_method"}

    def stats(self) -> dict:
        with self.lock:
            return {"methods": dict(self.methods), "limited": self.limited, "posts": list(self.posts)}


def _fake_handler(state: FakeSlackState):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self._send(200, state.stats() if self.path == "/_stats" else {"ok": True})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            parsed = urlparse(self.path)
            method = parsed.path.rsplit("/", 1)[-1]
            args = dict(parse_qsl(parsed.query))
            if "json" in (self.headers.get("Content-Type") or ""):
                args.update(json.loads(raw or "{}"))
            else:
                args.update(dict(parse_qsl(raw)))
            with state.lock:
                state.methods[method] = state.methods.get(method, 0) + 1
            if method == "chat.postMessage":
                wait = state.admit(str(args.get("channel")))
                if wait:
                    # Slack's Retry-After is whole seconds, rounded up.
                    self._send(429, {"ok": False, "error": "ratelimited"},
                               {"Retry-After": str(max(1, int(wait + 0.999)))})
                    return
            if state.latency:
                time.sleep(state.latency)
            self._send(200, state.respond(method, args))

        def _send(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def run_fake_slack(port: int, latency: float, workspace_limit: int, channel_limit: int) -> None:
    state = FakeSlackState(latency=latency, workspace_limit=workspace_limit, channel_limit=channel_limit)
    server = _Server(("127.0.0.1", port), _fake_handler(state))
    print("ready", flush=True)
    server.serve_forever(poll_interval=0.1)


def fake_stats(url: str) -> dict:
    with urllib.request.urlopen(url + "_stats", timeout=30) as resp:
        return json.loads(resp.read())


# ---- the bare Bolt app (the baseline for ack latency) -------------------------------------------------


def run_bare_bolt(port: int, api_url: str) -> None:
    """The same Bolt version behind the same server (gunicorn, the app's settings and WSGI wrapper), with
    a message listener that does nothing: the cost of receiving, verifying and acknowledging an event."""
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.slack.server import serve_http

    def factory() -> App:
        app = App(signing_secret=SECRET, client=WebClient(token=BOT_TOKEN, base_url=api_url),
                  process_before_response=False)

        @app.event("message")
        def _ignore(event):
            return None

        return app

    serve_http(factory, "127.0.0.1", port)


# ---- subprocesses -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def child(args: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
          ready_url: str | None = None, log_name: str = "child") -> Iterator[subprocess.Popen]:
    """A subprocess that is terminated (then killed) on the way out, whatever happens."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed in the finally below)
        "w+", prefix=f"bench-{log_name}-", suffix=".log", delete=False)
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        if ready_url is not None:
            def up():
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{log_name} exited early:\n{log.read()[-3000:]}")
                return _healthy(ready_url)
            wait_until(up, 60, f"{log_name} to listen")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        log.close()
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"{log_name} log: {log.name}", file=sys.stderr)
        else:
            os.unlink(log.name)


@contextlib.contextmanager
def fake_slack(*, latency: float = 0.0, workspace_limit: int = 0, channel_limit: int = 0) -> Iterator[str]:
    """Start the fake Slack Web API in its own process; yields its base URL (ending in /)."""
    port = free_port()
    args = [PYTHON, __file__, "fake-slack", "--port", str(port), "--latency", str(latency),
            "--workspace-limit", str(workspace_limit), "--channel-limit", str(channel_limit)]
    url = f"http://127.0.0.1:{port}/"
    with child(args, ready_url=url + "_stats", log_name="fake-slack"):
        yield url


def serve_env(api_url: str, db_url: str, port: int) -> dict[str, str]:
    """Only what the app needs: nothing from the developer's shell leaks into the server."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": db_url,
        "PORT": str(port),
    }


@contextlib.contextmanager
def gauntlet_serve(api_url: str, db_url: str, workdir: str,
                   *extra: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """The real `gauntlet serve --http` on a free loopback port; yields (process, base URL)."""
    port = free_port()
    args = [PYTHON, "-m", "bot", "serve", "--http", "--host", "127.0.0.1", *extra]
    base = f"http://127.0.0.1:{port}"
    with child(args, env=serve_env(api_url, db_url, port), cwd=workdir, ready_url=base + "/healthz",
               log_name="serve") as proc:
        yield proc, base


@contextlib.contextmanager
def gauntlet_worker(api_url: str, db_url: str, workdir: str,
                    name: str = "worker") -> Iterator[subprocess.Popen]:
    """A `gauntlet worker` process (no scheduler) taking work from the database."""
    args = [PYTHON, "-m", "bot", "worker", "--no-scheduler"]
    with child(args, env=serve_env(api_url, db_url, 0), cwd=workdir, log_name=name) as proc:
        yield proc


@contextlib.contextmanager
def bare_bolt(api_url: str) -> Iterator[str]:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    base = f"http://127.0.0.1:{port}"
    with child([PYTHON, __file__, "bare-bolt", "--port", str(port), "--api-url", api_url], env=env,
               ready_url=base + "/healthz", log_name="bare-bolt"):
        yield base


# ---- databases ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-db-") as tmp:
        yield f"sqlite:///{tmp}/gauntlet.db"


def pg_base_url(cli_value: str | None) -> str:
    return cli_value or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


def pg_target(no_pg: bool, cli_value: str | None) -> tuple[str | None, str | None]:
    """(base URL, None) when the PostgreSQL part should run, else (None, the line saying why not)."""
    if no_pg:
        return None, "PostgreSQL: skipped (--no-pg)"
    base = pg_base_url(cli_value)
    reason = pg_reachable(base)
    if reason is not None:
        return None, f"PostgreSQL: skipped, not reachable at the given URL ({reason})"
    return base, None


def pg_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at this URL, else the reason it does not."""
    import psycopg

    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return None
    except Exception as exc:  # any driver error means: skip PostgreSQL, say why
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://")


@contextlib.contextmanager
def pg_database(base_url: str) -> Iterator[str]:
    """A fresh database next to the one in `base_url`, dropped on the way out."""
    import psycopg
    from psycopg import sql

    name = f"gauntlet_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _libpq(base_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parsed = urlparse(admin)
    url = parsed._replace(path="/" + name).geturl()
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seed_prompt(db_url: str, channel: str, thread_ts: str) -> None:
    """Create the tables and a posted daily prompt, so replies under `thread_ts` are prompt-thread answers."""
    from datetime import UTC, datetime

    from bot.store.channels import DailyPost
    from bot.store.db import make_engine, session_scope
    from bot.store.schema import init_db

    db = make_engine(db_url)
    init_db(db)
    with session_scope(db) as s:
        s.add(DailyPost(workspace=TEAM, channel=channel, day=datetime.now(UTC).date(), status="posted",
                        prompt_id="bench", message_ts=thread_ts))
    db.dispose()


# ---- figures ------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), nearest-rank on sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def vm_hwm_mb(pid: int) -> float:
    """Peak resident set size of a live process, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found in /proc status")


def table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    """Print (figure, value, target, result) rows under a title."""
    head = ("figure", "value", "target", "result")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    fake = sub.add_parser("fake-slack")
    fake.add_argument("--port", type=int, required=True)
    fake.add_argument("--latency", type=float, default=0.0)
    fake.add_argument("--workspace-limit", type=int, default=0)
    fake.add_argument("--channel-limit", type=int, default=0)
    bare = sub.add_parser("bare-bolt")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--api-url", required=True)
    args = parser.parse_args()
    if args.what == "fake-slack":
        run_fake_slack(args.port, args.latency, args.workspace_limit, args.channel_limit)
    else:
        run_bare_bolt(args.port, args.api_url)


if __name__ == "__main__":
    main()
