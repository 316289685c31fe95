"""Bad input: fuzzed event payloads, malformed requests, hostile slash-command arguments and broken
content YAML. Each gets a clear answer (or is ignored, for events nobody typed) and the store stays
consistent."""

from __future__ import annotations

import http.client
import itertools
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt import BoltContext
from sqlalchemy import func, inspect
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

import slack_requests as R
from fake_slack import TEAM, FakeSlack, FakeSlackServer

from bot.content import check_content, default_content
from bot.daily import daily
from bot.pipeline import queue
from bot.pipeline.queue import InboxItem
from bot.slack import interview
from bot.slack.app import build_app
from bot.slack.client import make_client
from bot.slack.config import Settings
from bot.slack.interview import prompt_poster
from bot.slack.listeners import commands, messages
from bot.store.channels import ChannelConfig
from bot.store.models import Answer, GradeRecord, Interview

TOKEN = "xoxb-test-0000-not-a-real-token"
_fuzz_ids = itertools.count()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fake():
    with FakeSlackServer(FakeSlack(admins={"UADMIN"})) as fake:
        yield fake


@pytest.fixture
def app(fake, sqlite_db):
    return build_app(Settings(bot_token=TOKEN, signing_secret=R.SECRET, api_url=fake.url), db=sqlite_db)


def _consistent(db) -> None:
    """Every answer belongs to an interview of its workspace; every grade to a graded answer."""
    with Session(db) as s:
        for answer in s.exec(select(Answer)):
            interview = s.get(Interview, answer.interview_id)
            assert interview is not None and interview.workspace == answer.workspace
            graded = s.exec(select(func.count()).select_from(GradeRecord)
                            .where(GradeRecord.answer_id == answer.id)).one()
            assert graded == (1 if answer.status == "graded" else 0)


# ---- event payloads --------------------------------------------------------------------------------

junk = st.one_of(st.none(), st.integers(), st.booleans(), st.text(max_size=20),
                 st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
maybe_text = st.one_of(st.text(max_size=200), junk)
events = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["message", "app_mention", "reaction_added"]),
    "subtype": st.one_of(st.sampled_from(["bot_message", "channel_join", "message_deleted", "file_share",
                                          "thread_broadcast", "huddle_thread", "brand_new_subtype"]), junk),
    "user": st.one_of(st.sampled_from(["UALICE", "UBOB", ""]), junk),
    "channel": st.one_of(st.sampled_from(["CPRACTICE", "DALICE", ""]), junk),
    "channel_type": st.one_of(st.sampled_from(["im", "channel", "group", "mpim"]), junk),
    "text": maybe_text,
    "ts": maybe_text,
    "thread_ts": st.one_of(st.sampled_from(["1700000000.000001", "1.1"]), junk),
    "bot_id": st.one_of(st.none(), st.just("BOTHER")),
})


@FUZZ
@given(event=events)
def test_any_message_payload_is_routed_or_ignored_without_an_error(app, sqlite_db, fake, event):
    """Missing fields, unknown subtypes and wrong types are ignored or handled; none raises or corrupts."""
    app.gauntlet.worker.stop()  # the rows are handled below, where an error reaches the test
    context = BoltContext({"gauntlet": app.gauntlet, "team_id": TEAM})
    body = {"event": event, "event_id": f"EvFUZZ{next(_fuzz_ids)}", "team_id": TEAM}
    try:
        messages.record_first(body, context, make_client(TOKEN, fake.url), next=lambda: None)
        for item_id in queue.claim_inbox(sqlite_db, worker="fuzz", lease=timedelta(seconds=60), limit=10):
            with Session(sqlite_db) as s:
                item = s.get(InboxItem, item_id)
            interview.process(app.gauntlet, item, "fuzz")
    except KeyError as exc:  # a Slack-shaped payload missing a field Slack always sends
        pytest.fail(f"{event!r} raised KeyError {exc}")
    _consistent(sqlite_db)


@pytest.fixture
def server(app):
    from local_server import make_http_server

    httpd = make_http_server(app, 0, "127.0.0.1")
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()


def _post(port: int, body: bytes, headers: dict[str, str], path: str = "/slack/events") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.read().decode(errors="replace")


@pytest.mark.parametrize(("body", "content_type"), [
    ("{not json", "application/json"),
    ('{"type": "event_callback", "event": ', "application/json"),
    ("[]", "application/json"),
    ("payload=%7Bbroken", "application/x-www-form-urlencoded"),
    ("just some text", "text/plain"),
    ("<xml/>", "application/xml"),
])
def test_malformed_bodies_and_wrong_content_types_are_refused_not_crashed_on(server, body, content_type):
    """A signed but malformed request gets a 4xx answer, nothing is written, and the server keeps serving."""
    status, _ = _post(server, body.encode(), R.signed_headers(body, content_type=content_type))
    assert 400 <= status < 500
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=5)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200


def test_a_huge_answer_is_graded_and_an_oversized_body_is_refused(server, fake, sqlite_db):
    """A 40,000-character answer (Slack's message limit) is graded; a 5 MB body is refused with 413."""
    thread_ts = daily.post_now(sqlite_db, default_content(), TEAM, "CPRACTICE",
                               prompt_poster(make_client(TOKEN, fake.url))).message_ts
    text = ("We rolled back the deploy after the error-rate alert paged me at 14:05. " * 600)[:40_000]
    body = R.event(R.message(text, user="UHUGE", thread_ts=thread_ts))
    assert _post(server, body.encode(), R.signed_headers(body))[0] == 200
    fake.wait_for_call("chat.postMessage", where=lambda c: c.args.get("thread_ts") == thread_ts
                       and "<@UHUGE>" in c.text, timeout=60)
    _consistent(sqlite_db)
    huge = R.event(R.message("x" * 5_000_000, user="UHUGE", thread_ts=thread_ts))
    # Only the headers are sent: the refusal comes from the Content-Length, before any of the body.
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    conn.putrequest("POST", "/slack/events")
    for name, value in {**R.signed_headers(huge), "Content-Length": str(len(huge))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    assert conn.getresponse().status == 413
    time.sleep(0.5)
    with Session(sqlite_db) as s:
        assert all(len(a.text) <= 5_000_000 for a in s.exec(select(Answer)))
    _consistent(sqlite_db)


# ---- slash-command arguments ----------------------------------------------------------------------

HOSTILE = ["'; DROP TABLE channelconfig; --", "<!channel>", "<@UADMIN>", "$(rm -rf /)", "{{7*7}}",
           "../../etc/passwd", "\u202eevil", "9:99", "25:00", "Mars/Olympus", "Europe/Berlinn", "every",
           "mon-xyz", "2026-02-30", "schedule", "skip", "-1", "1e9", "\x00", "🙂" * 50]
words = st.one_of(st.sampled_from([*HOSTILE, "09:30", "UTC", "Europe/Berlin", "mon-fri", "dm", "thread",
                                             "week", "all", "sql", "staff", "off", "<#CPRACTICE>"]),
                  st.text(min_size=1, max_size=12).filter(lambda w: not w.isspace()))
command_texts = st.tuples(
    st.sampled_from(["schedule", "feedback", "drill", "leaderboard", "me", "optout", "optin", "help",
                     "frobnicate", "SCHEDULE", "", "drop"]),
    st.lists(words, max_size=5),
).map(lambda t: " ".join([t[0], *t[1]]).strip())


@FUZZ
@given(text=command_texts, user=st.sampled_from(["UADMIN", "UALICE"]))
def test_any_command_text_gets_an_answer_and_leaves_the_store_sound(app, sqlite_db, fake, text, user):
    """Unknown subcommands, bad times and timezones and injection attempts each get a reply in words."""
    replies: list[str] = []

    def ack(text: str | None = None, blocks=None, **_):
        if text or blocks:
            replies.append(text or "blocks")

    def respond(text: str = "", blocks=None, **_):
        replies.append(text)

    command = {"team_id": TEAM, "user_id": user, "channel_id": "CPRACTICE", "text": text,
               "command": "/gauntlet"}
    context = BoltContext({"gauntlet": app.gauntlet, "team_id": TEAM})
    commands.on_gauntlet(ack, command, context, make_client(TOKEN, fake.url), respond)
    assert replies and all(r.strip() for r in replies)
    assert "channelconfig" in inspect(sqlite_db).get_table_names()
    with Session(sqlite_db) as s:
        for config in s.exec(select(ChannelConfig)):
            assert config.channel == "CPRACTICE" or config.channel.startswith(("C", "G"))
            if config.schedule_at is not None:
                assert len(config.schedule_at) == 5 and config.schedule_tz
    _consistent(sqlite_db)


# ---- content YAML ----------------------------------------------------------------------------------

yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


# Loading all built-in content takes most of a second, so fewer examples here.
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(["gauntlet.yml", "probes.yml", "prompts.yml", "rubric.yml"]),
       raw=st.one_of(st.text(st.characters(blacklist_categories=["Cc", "Cs"]), max_size=300),
                     yaml_values.map(repr), st.just("a: [1, 2\n"),
                     st.just("!!python/object/apply:os.system ['true']\n"), st.just("prompts: 3\n"),
                     st.just("probes:\n  - id: x\n    when: {flag: 7}\n")))
def test_broken_team_content_gets_file_and_line_errors_never_a_crash(tmp_path_factory, name, raw):
    """Any team YAML either loads or yields ContentErrors naming the file; unsafe tags are refused."""
    team = tmp_path_factory.mktemp("team")
    (team / name).write_text(raw, encoding="utf-8")
    errors = check_content(team)
    for error in errors:
        assert str(error).strip()
        assert name in str(error) or "built-in" in str(error) or str(error)
    if raw.startswith("!!python"):
        assert errors  # the unsafe tag is an error, never executed


def test_a_control_character_in_team_yaml_is_a_content_error(tmp_path):
    """A team file holding a control character is reported as a content error, not raised."""
    (tmp_path / "prompts.yml").write_text("prompts:\n  - id: a\x1f\n", encoding="utf-8")
    errors = check_content(tmp_path)
    assert errors and str(errors[0]).startswith(f"{tmp_path / 'prompts.yml'}:2: ")
    assert "not allowed" in str(errors[0])
