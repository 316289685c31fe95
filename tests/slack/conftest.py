"""Fixtures for the Slack app: a fake Slack Web API, the app built in-process, and the same app run
as `gauntlet serve --http` in a subprocess. Flow tests take `slack`, which is each of the two."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_slack import FakeSlack, FakeSlackServer
from slack_bolt.request import BoltRequest
from slack_requests import SECRET
from sqlalchemy import create_engine, text

from bot.slack.app import build_app
from bot.slack.config import Settings
from bot.store.db import make_engine, normalise_url
from bot.store.schema import init_db

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgres"]
BOT_TOKEN = "xoxb-test-0000-not-a-real-token"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fresh fake Slack Web API on a free port; UADMIN is a workspace admin."""
    with FakeSlackServer(FakeSlack(admins={"UADMIN"})) as fake:
        yield fake


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> Iterator[str]:
    """The app's database URL: a SQLite file, and a fresh PostgreSQL schema when TEST_DATABASE_URL is set
    (named in the URL, so `gauntlet serve` in a subprocess uses the same schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gauntlet.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL runs only when TEST_DATABASE_URL is set")
    schema = f"s_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def slack_db(db_url):
    engine = make_engine(db_url)
    init_db(engine)
    yield engine
    engine.dispose()


def settings_for(fake: FakeSlack, db_url: str | None = None) -> Settings:
    return Settings(bot_token=BOT_TOKEN, signing_secret=SECRET, api_url=fake.url, database_url=db_url)


class InProcess:
    """Feeds requests to `app.dispatch(BoltRequest(...))`."""

    name = "in-process"

    def __init__(self, app):
        self.app = app

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        resp = self.app.dispatch(BoltRequest(body=body, headers={k: [v] for k, v in headers.items()}))
        return resp.status, resp.body


class OverHttp:
    """Sends requests to a running `gauntlet serve --http`."""

    name = "http"

    def __init__(self, base: str):
        self.base = base

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        req = urllib.request.Request(self.base + "/slack/events", data=body.encode(), headers=headers,
                                     method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(fake: FakeSlack, db_url: str, **extra: str) -> dict[str, str]:
    """Only what the app needs: nothing from the developer's shell leaks into the subprocess."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(REPO),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": db_url,
    }
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def served(fake, db_url, slack_db, tmp_path) -> Iterator[OverHttp]:
    """`gauntlet serve --http` as a subprocess on a free port, ready to take requests."""
    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115  (closed below, after the process ends)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--http"],
                            env=child_env(fake, db_url, PORT=str(port)), cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.close()
            pytest.fail("gauntlet serve exited early:\n" + (tmp_path / "serve.log").read_text())
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("gauntlet serve did not start listening within 60 s")
            time.sleep(0.1)
    try:
        yield OverHttp(base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def app(fake, slack_db, db_url):
    return build_app(settings_for(fake, db_url), db=slack_db)


@pytest.fixture(params=["in-process", "http"])
def slack(request, fake, slack_db, db_url):
    """The app under test, driven in-process and through `gauntlet serve --http`."""
    if request.param == "in-process":
        yield InProcess(build_app(settings_for(fake, db_url), db=slack_db))
    else:
        yield request.getfixturevalue("served")
