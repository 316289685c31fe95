"""Many workspaces: the OAuth install flow stores each workspace's bot token, requests are answered with
the token of the workspace they came from, and no workspace sees another's data."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import slack_requests as R
import yaml
from answers import OPENING
from fake_slack import FakeSlack, FakeSlackServer
from local_server import make_http_server
from sqlmodel import Session, select

from bot.slack.app import build_app
from bot.slack.config import Settings, SettingsError, load_settings
from bot.slack.oauth import BOT_SCOPES
from bot.store.models import Interview, PointEntry

TEAMS = ("TALPHA", "TBRAVO")
MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "manifest.yml"


class InstallingSlack(FakeSlack):
    """The fake Web API plus oauth.v2.access: the code names the workspace being installed."""

    def respond(self, method: str, args: dict, token: str | None = None) -> dict:
        if method == "oauth.v2.access":
            # code-TEAM, or code-TEAM@ENTERPRISE for a workspace in an Enterprise Grid org.
            team, _, enterprise = args["code"].removeprefix("code-").partition("@")
            self.tokens[token_of(team)] = team
            return {"ok": True, "app_id": "AGAUNTLET", "authed_user": {"id": "UINSTALLER"},
                    "scope": ",".join(BOT_SCOPES), "token_type": "bot", "access_token": token_of(team),
                    "bot_user_id": f"UBOT{team}", "team": {"id": team, "name": team},
                    "enterprise": {"id": enterprise, "name": enterprise} if enterprise else None,
                    "is_enterprise_install": False}
        return super().respond(method, args, token)


def token_of(team: str) -> str:
    return f"xoxb-{team.lower()}-installed-token"


@pytest.fixture
def installing():
    with FakeSlackServer(InstallingSlack()) as fake:
        yield fake


@pytest.fixture
def server(installing, slack_db):
    settings = Settings(bot_token=None, signing_secret=R.SECRET, api_url=installing.url,
                        client_id="111.222", client_secret="oauth-client-secret-value")
    app = build_app(settings, db=slack_db)
    httpd = make_http_server(app, 0, "127.0.0.1")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield app, httpd.server_port
    httpd.shutdown()
    httpd.server_close()


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    return resp


def _install(port: int, team: str, enterprise: str | None = None) -> None:
    start = _get(port, "/slack/install")
    assert start.status == 302
    authorize = urlparse(start.getheader("Location"))
    query = parse_qs(authorize.query)
    assert authorize.netloc == "slack.com" and query["client_id"] == ["111.222"]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    cookie = start.getheader("Set-Cookie").split(";")[0]
    code = f"code-{team}@{enterprise}" if enterprise else f"code-{team}"
    done = _get(port, f"/slack/oauth_redirect?code={code}&state={query['state'][0]}",
                headers={"Cookie": cookie})
    assert done.status == 200


def _post(port: int, body: str, content_type: str = "application/json") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/slack/events", body=body.encode(),
                 headers=R.signed_headers(body, content_type=content_type))
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _command(port: int, fake, team: str, text: str, path: str, user: str = "UALICE") -> None:
    body = urlencode({"team_id": team, "team_domain": team.lower(), "channel_id": "CPRACTICE",
                      "user_id": user, "command": "/gauntlet", "text": text, "api_app_id": "AGAUNTLET",
                      "response_url": fake.url + path.lstrip("/"), "trigger_id": f"t.{time.time()}"})
    assert _post(port, body, R.FORM) == 200


def _dm_answer(port: int, team: str, text: str, user: str = "UALICE") -> None:
    body = json.dumps({
        "team_id": team, "api_app_id": "AGAUNTLET", "type": "event_callback",
        "event_id": f"Ev{team}{time.monotonic_ns()}", "event_time": int(time.time()),
        "event": {"type": "message", "user": user, "text": text, "channel": "D" + user.lstrip("U"),
                  "channel_type": "im", "ts": f"{time.time():.6f}", "team": team},
        "authorizations": [{"team_id": team, "user_id": f"UBOT{team}", "is_bot": True}],
    })
    assert _post(port, body) == 200


def _bearer(call) -> str:
    return {k.lower(): v for k, v in call.headers.items()}.get("authorization", "")


def test_each_installed_workspace_is_answered_with_its_own_token(server, installing):
    """Two workspaces install through /slack/install; a drill started in each is posted with that
    workspace's bot token, stored by Bolt's SQLAlchemy installation store."""
    app, port = server
    for team in TEAMS:
        _install(port, team)
    store = app.oauth_flow.settings.installation_store
    assert {t: store.find_bot(enterprise_id=None, team_id=t).bot_token for t in TEAMS} == {
        t: token_of(t) for t in TEAMS}
    for team in TEAMS:
        _command(port, installing, team, "drill", f"/response/drill-{team}")
        installing.wait_for_call("response_url", where=lambda c, t=team: c.path == f"/response/drill-{t}")
    questions = installing.wait_for_call("chat.postMessage", count=2)
    assert sorted(_bearer(c) for c in questions) == sorted(f"Bearer {token_of(t)}" for t in TEAMS)


def test_data_never_leaks_across_workspaces(server, installing, slack_db):
    """The same user id practising in one workspace shows up on that workspace's board only."""
    _, port = server
    for team in TEAMS:
        _install(port, team)
    alpha, bravo = TEAMS
    _command(port, installing, alpha, "drill opening", "/response/drill")
    installing.wait_for_call("chat.postMessage")
    _dm_answer(port, alpha, OPENING)
    installing.wait_for(lambda calls: any("/100" in c.text for c in calls if c.method == "chat.postMessage"),
                        what="the graded answer")
    for team in TEAMS:
        _command(port, installing, team, "leaderboard all", f"/response/board-{team}")
    boards = {t: installing.wait_for_call("response_url",
                                          where=lambda c, t=t: c.path == f"/response/board-{t}")[-1].text
              for t in TEAMS}
    assert "<@UALICE>" in boards[alpha]
    assert "<@UALICE>" not in boards[bravo]
    with Session(slack_db) as s:
        assert {i.workspace for i in s.exec(select(Interview))} == {alpha}
        assert {p.workspace for p in s.exec(select(PointEntry))} == {alpha}


def test_an_uninstalled_workspace_gets_nothing(server, installing):
    """A signed request from a workspace that never installed the app is refused without a Slack call."""
    _, port = server
    _install(port, TEAMS[0])
    _command(port, installing, "TSTRANGER", "drill", "/response/stranger")
    time.sleep(0.5)
    assert installing.of("chat.postMessage") == []
    assert installing.of("conversations.open") == []


def test_the_oauth_scopes_are_the_manifests():
    """The install flow asks for exactly the bot scopes the app manifest declares."""
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])


def test_oauth_settings_come_in_pairs_and_need_http():
    """Client id without secret is refused; OAuth stands in for the bot token in HTTP mode only."""
    both = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "oauthsecretvalue", "SLACK_SIGNING_SECRET": "x"}
    with pytest.raises(SettingsError, match="go together"):
        load_settings(http=True, env={"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "x"})
    with pytest.raises(SettingsError, match="--http"):
        load_settings(socket_mode=True, env={**both, "SLACK_APP_TOKEN": "xapp-1"})
    settings = load_settings(http=True, env=both)
    assert settings.oauth and settings.bot_token is None
    assert "oauthsecretvalue" not in repr(settings)
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        load_settings(env=both)  # posting from the command line still needs a token


def test_background_jobs_carry_each_workspaces_token_including_a_grid_workspace(server, installing, slack_db):
    """Cohort drills and daily prompts go out with the token of their workspace, found by team and
    enterprise id (a workspace in an Enterprise Grid org too), never with the app's token-less client."""
    from datetime import UTC, datetime, timedelta

    from bot.cohorts.cohorts import add_members, create_cohort, local_due_at
    from bot.content import default_content
    from bot.daily import channels
    from bot.daily.schedule import next_run, parse_schedule
    from bot.daily.scheduler import run_due_posts
    from bot.slack import cohorts as cohort_slack
    from bot.slack.interview import scheduled_poster

    app, port = server
    _install(port, "TALPHA")
    _install(port, "TGRID", enterprise="EORG")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for team in ("TALPHA", "TGRID"):
        cohort = create_cohort(slack_db, workspace=team, name="sre", created_by="UBOSS", now=start,
                               weekdays=tuple(range(7)), local_time="09:00")
        add_members(slack_db, cohort, "UBOSS", {"ULA": "UTC"}, now=start)
    due = local_due_at(datetime(2026, 10, 12).date(), "09:00", "UTC")
    sent = cohort_slack.send_due_drills(app.gauntlet, app.client, now=due)
    assert sorted(d.workspace for d in sent) == ["TALPHA", "TGRID"]
    opened = installing.of("conversations.open")
    assert sorted(_bearer(c) for c in opened) == sorted(f"Bearer {token_of(t)}" for t in ("TALPHA", "TGRID"))
    assert all(c.response.get("ok") for c in installing.calls if c.method != "oauth.v2.access")

    channels.set_schedule(slack_db, "TGRID", "CGRID", parse_schedule("09:30 UTC mon-sun"), set_by="UBOSS",
                          now=start)
    at = next_run(channels.schedule_of(channels.get_config(slack_db, "TGRID", "CGRID")),
                  datetime.now(UTC)) + timedelta(minutes=1)
    [posted] = run_due_posts(slack_db, default_content(), scheduled_poster(app.gauntlet), now=at,
                             grace=timedelta(minutes=30), workspace="TGRID")
    assert posted.status == "posted"
    # The drills go out through the outbox, on the worker's own time: the prompt is the post to CGRID.
    drills = installing.wait_for(lambda calls: len([c for c in calls if c.method == "chat.postMessage"
                                                    and c.args.get("channel") != "CGRID"]) >= 2 or None,
                                 what="both drills delivered")
    assert drills
    [prompt] = [c for c in installing.of("chat.postMessage") if c.args.get("channel") == "CGRID"]
    assert _bearer(prompt) == f"Bearer {token_of('TGRID')}"
    # Each drill went out with its own workspace's token.
    drill_tokens = [_bearer(c) for c in installing.of("chat.postMessage") if c.args.get("channel") != "CGRID"]
    assert sorted(drill_tokens) == sorted(f"Bearer {token_of(t)}" for t in ("TALPHA", "TGRID"))


def test_app_uninstalled_deletes_the_installation_and_stops_background_work(server, installing, slack_db):
    """With OAuth, app_uninstalled removes the workspace's installation (Bolt's revocation listener) and
    its jobs turn off; background work for it then finds no client instead of posting without a token."""
    from bot.daily import channels
    from bot.daily.schedule import parse_schedule
    from bot.slack.errors import NotInstalled

    app, port = server
    _install(port, "TALPHA")
    channels.set_schedule(slack_db, "TALPHA", "CPRACTICE", parse_schedule("09:30 UTC mon-fri"), set_by="U1")
    body = json.dumps({"team_id": "TALPHA", "api_app_id": "AGAUNTLET", "type": "event_callback",
                       "event_id": "EvUNINSTALL1", "event_time": int(time.time()),
                       "event": {"type": "app_uninstalled"}})
    assert _post(port, body) == 200
    store = app.oauth_flow.settings.installation_store
    installing.wait_for(lambda calls: store.find_bot(enterprise_id=None, team_id="TALPHA") is None or None,
                        what="the installation deleted")
    installing.wait_for(lambda calls: not channels.list_schedules(slack_db, "TALPHA") or None,
                        what="the schedule turned off")
    with pytest.raises(NotInstalled):
        app.gauntlet.client_for("TALPHA")
