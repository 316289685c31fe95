"""Security: signed requests inside a five-minute window in HTTP mode, admin checks through users.info,
tokens never logged, secrets only from the environment, and a deploy that runs as non-root."""

from __future__ import annotations

import http.client
import logging
import re
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import slack_requests as R
from fake_slack import FakeSlack, FakeSlackServer
from local_server import make_http_server

from bot.slack.app import build_app
from bot.slack.config import Settings

REPO = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-1234567890-secret-bot-token-value"
TOKEN_LIKE = re.compile(r"xox[abposr]-[0-9A-Za-z-]{8,}|xapp-\d-[0-9A-Za-z-]{8,}")


@pytest.fixture
def fake():
    with FakeSlackServer(FakeSlack(admins={"UADMIN"})) as fake:
        yield fake


@pytest.fixture
def http_app(fake, sqlite_db):
    """The app behind its real threaded HTTP server, as `gauntlet serve --http` runs it."""
    app = build_app(Settings(bot_token=TOKEN, signing_secret=R.SECRET, api_url=fake.url), db=sqlite_db)
    server = make_http_server(app, 0, "127.0.0.1")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def _post(port: int, body: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _command(text: str, fake, user: str, path: str) -> str:
    return R.command(text, user=user, response_url=fake.url + path.lstrip("/"))


@pytest.mark.parametrize(("age", "status"), [(0, 200), (4 * 60, 200), (5 * 60 + 30, 401), (-10 * 60, 401)])
def test_requests_outside_the_five_minute_window_are_refused(http_app, fake, age, status):
    """A correctly signed request is taken only if its timestamp is within five minutes of now."""
    body = _command("help", fake, "UALICE", "/response/w")
    headers = R.signed_headers(body, timestamp=int(time.time()) - age, content_type=R.FORM)
    assert _post(http_app, body, headers) == status


def test_tampered_unsigned_and_wrongly_signed_requests_are_refused(http_app, fake):
    """A body changed after signing, a missing signature, or another secret's signature gets 401."""
    body = _command("drill", fake, "UALICE", "/response/t")
    good = R.signed_headers(body, content_type=R.FORM)
    assert _post(http_app, body.replace("UALICE", "UADMIN"), good) == 401
    unsigned = {k: v for k, v in good.items() if k != "x-slack-signature"}
    assert _post(http_app, body, unsigned) == 401
    assert _post(http_app, body, R.signed_headers(body, secret="another-secret", content_type=R.FORM)) == 401
    time.sleep(0.3)
    assert fake.of("conversations.open") == [] and fake.of("chat.postMessage") == []


def test_admin_only_commands_ask_users_info_and_refuse_non_admins(http_app, fake):
    """Changing a channel's feedback or schedule checks the caller with users.info; a member is refused."""
    asks = (("feedback dm", "UALICE", "/response/a"), ("schedule off", "UALICE", "/response/b"),
            ("feedback dm", "UADMIN", "/response/c"))
    for text, user, path in asks:
        body = _command(text, fake, user, path)
        assert _post(http_app, body, R.signed_headers(body, content_type=R.FORM)) == 200
        fake.wait_for_call("response_url", where=lambda c, p=path: c.path == p)
    answers = {c.path: c.text for c in fake.of("response_url")}
    assert "Only workspace admins" in answers["/response/a"]
    assert "Only workspace admins" in answers["/response/b"]
    assert "now goes to: dm" in answers["/response/c"]
    assert {c.args["user"] for c in fake.of("users.info")} >= {"UALICE", "UADMIN"}


def test_tokens_never_reach_the_log(http_app, fake, caplog):
    """Even at DEBUG, across commands, events and a failing listener, no token appears in any log line."""
    caplog.set_level(logging.DEBUG)
    body = _command("drill", fake, "UALICE", "/response/d")
    _post(http_app, body, R.signed_headers(body, content_type=R.FORM))
    fake.wait_for_call("chat.postMessage")
    event = R.event(R.message("an answer", channel="DALICE", channel_type="im"))
    _post(http_app, event, R.signed_headers(event))
    fake.wait_for_call("chat.postMessage", count=2)
    broken = R.event({"type": "message", "channel_type": "im", "user": "UALICE", "text": "x"})  # no channel
    _post(http_app, broken, R.signed_headers(broken))
    time.sleep(0.3)
    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert len(caplog.records) > 5
    assert TOKEN not in logged and R.SECRET not in logged
    assert TOKEN_LIKE.search(logged) is None


def test_no_secret_is_written_into_the_code_or_the_deploy_files():
    """Nothing the app ships holds a Slack token (tests and benches use fakes); settings come from the
    environment only."""
    skip = {".git", ".venv", "tests", "bench"}
    kinds = {".py", ".yml", ".yaml", ".toml", ".md", ".env", ""}
    files = [p for p in REPO.glob("**/*") if p.is_file() and not skip & set(p.parts) and p.suffix in kinds
             and p.stat().st_size < 2_000_000]
    offenders = [str(p.relative_to(REPO)) for p in files
                 if TOKEN_LIKE.search(p.read_text(encoding="utf-8", errors="ignore"))]
    assert offenders == []
    config = (REPO / "bot" / "slack" / "config.py").read_text()
    assert "os.environ" in config


def test_the_image_is_slim_runs_as_non_root_and_checks_its_health():
    """deploy/Dockerfile: a slim base, a non-root USER, a HEALTHCHECK, and no secret in ENV or ARG."""
    lines = [line.strip() for line in (REPO / "deploy" / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    bases = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert bases and all("slim" in b or "alpine" in b for b in bases)
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(line.upper().startswith("HEALTHCHECK") and "gauntlet" in line and "health" in line
               for line in lines)
    text = "\n".join(lines)
    assert not re.search(r"^(ENV|ARG)\b.*(TOKEN|SECRET|PASSWORD)", text, re.M | re.I)
    assert TOKEN_LIKE.search(text) is None
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv"} <= set(ignored)


def test_compose_runs_the_app_with_postgres_and_takes_secrets_from_the_environment():
    """deploy/compose.yaml: app and postgres with healthchecks; every secret is an ${…} reference."""
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"app", "postgres"} <= set(services)
    for name in ("app", "postgres", "web"):
        assert services[name]["healthcheck"]["test"]
    assert services["app"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # The schema is upgraded by a one-shot service before the app (which refuses an old schema) starts.
    assert services["migrate"]["command"] == ["gauntlet", "db", "upgrade"]
    for name in ("app", "web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"] == ["gauntlet", "worker"]
    assert "postgres" in services["app"]["environment"]["DATABASE_URL"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"TOKEN|SECRET|PASSWORD|DATABASE_URL", key):
                assert re.search(r"\$\{[A-Z_]+(:[-?][^}]*)?\}", str(value)), f"{name}.{key} is a literal"
                assert TOKEN_LIKE.search(str(value)) is None


def test_procfile_has_an_http_web_process_and_a_worker_to_scale():
    """The Procfile upgrades the schema on release, runs gunicorn web processes that only record and
    acknowledge as `web`, and grading and replies as `worker`."""
    procs = dict(line.split(":", 1) for line in (REPO / "Procfile").read_text().splitlines()
                 if line.strip() and not line.startswith("#"))
    assert procs["release"].split() == ["gauntlet", "db", "upgrade"]
    assert procs["worker"].split() == ["gauntlet", "worker"]
    assert procs["web"].split() == ["gauntlet", "serve", "--http", "--no-worker"]


def test_ci_audits_dependencies_and_still_runs_the_readme_test_command():
    """.ci/run runs README's test command unchanged and then pip-audit with editable packages skipped."""
    readme = (REPO / "README.md").read_text()
    command = re.search(r"```sh\n(python3 -m venv \.venv && .*pytest)\n```", readme).group(1)
    ci = (REPO / ".ci" / "run").read_text()
    assert command in ci.splitlines()
    assert re.search(r"pip-audit .*--skip-editable", ci)


def test_the_socket_mode_liveness_check_follows_the_heartbeat(tmp_path):
    """`gauntlet health` exits 1 with no heartbeat, 0 while it is fresh, and 1 once the heartbeat stops."""
    from bot.slack.health import Heartbeat, check_heartbeat
    from bot.terminal.cli import main

    path = tmp_path / "hb"
    assert main(["health", "--file", str(path)]) == 1
    connected = {"now": True}
    beat = Heartbeat(path, lambda: connected["now"], every=0.05).start()
    time.sleep(0.2)
    assert main(["health", "--file", str(path)]) == 0
    assert check_heartbeat(path, max_age=60, now=time.time() + 120)[0] is False  # a stuck process
    connected["now"] = False
    assert beat.beat() is False  # a disconnected socket refreshes nothing
    beat.stop()
    assert not path.exists()
    assert main(["health", "--file", str(path)]) == 1


def test_the_http_liveness_check_probes_healthz(http_app):
    """`gauntlet health --url` exits 0 against /healthz of a running server and 1 against a closed port."""
    from bot.terminal.cli import main

    assert main(["health", "--url", f"http://127.0.0.1:{http_app}/healthz"]) == 0
    assert main(["health", "--url", "http://127.0.0.1:9/healthz"]) == 1


