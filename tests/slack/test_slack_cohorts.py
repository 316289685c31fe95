"""Cohorts in Slack against the fake Web API: commands, drills in each member's DM at their local time,
one reminder, weekly digests with an uploaded chart, a CSV export, boards, and forget-me. The long
scenario runs in-process on a simulated clock; a shorter one runs through `gauntlet serve --http`."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time as walltime
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import slack_requests as R
from answers import BY_ROUND, FOLLOW_UP, OPENING
from cohort_factories import graded, scripted_grader, stamp_interview
from conftest import InProcess, settings_for
from fake_slack import TEAM
from flows import response, send_command, send_event
from sqlmodel import Session, col, select

from bot.cohorts.cohorts import get_cohort, local_due_at, members
from bot.interview.engine import InterviewEngine
from bot.slack import cohorts as cohort_slack
from bot.slack.app import build_app
from bot.slack.cohort_blocks import COHORT_ACCEPT_ACTION, FORGET_CANCEL_ACTION, FORGET_CONFIRM_ACTION
from bot.store import privacy
from bot.store.models import GradeRecord, Interview
from bot.store.privacy import remaining_mentions

PNG = b"\x89PNG\r\n\x1a\n"
GRADED = "/100* —"  # the head of a grade message (a scorecard's header has no asterisk)
T0 = datetime(2026, 10, 12, 0, 0, tzinfo=UTC)  # a Monday
ZONES = {"ULA": "America/Los_Angeles", "UBE": "Europe/Berlin", "UIN": "Asia/Kolkata",
         "UBOSS": "Europe/London", "UNY": "America/New_York"}
MEMBERS = ("ULA", "UBE", "UIN")
_responses = itertools.count(1)


def dm(user: str) -> str:
    """The fake's DM channel id for a user (conversations.open answers D + the id without U)."""
    return "D" + user.lstrip("U")


def posts_to(fake, channel: str, marker: str) -> list:
    return [c for c in fake.of("chat.postMessage") if c.args.get("channel") == channel and marker in c.text]


def button(action_id: str, *, user: str, response_url: str | None, value: str = "x") -> str:
    """A block_actions payload for a button on a command's ephemeral answer."""
    payload = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "gauntlet-test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM}, "api_app_id": "AGAUNTLET",
        "trigger_id": "trigger.forget", "container": {"type": "message", "is_ephemeral": True},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "action_ts": str(walltime.time())}],
    }
    if response_url:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def press(slack, fake, action_id: str, *, user: str, value: str = "x"):
    """Press a button; returns the call that answered it on its response_url."""
    path = f"response/button-{next(_responses)}"
    body = button(action_id, user=user, response_url=fake.url + path, value=value)
    status, _ = slack.post(body, R.signed_headers(body, content_type=R.FORM))
    assert status == 200
    return response(fake, "/" + path)


def accept(slack, fake, db, cohort: str, *users: str) -> None:
    """Each invited person presses Accept on the invitation in their DM."""
    cohort_id = str(get_cohort(db, TEAM, cohort).id)
    for user in users:
        [invitation] = posts_to(fake, dm(user), f"invites you to the practice cohort *{cohort}*")
        [button_value] = [e["value"] for b in invitation.args["blocks"] if b["type"] == "actions"
                          for e in b["elements"] if e["action_id"] == COHORT_ACCEPT_ACTION]
        assert button_value == cohort_id
        assert "You joined" in press(slack, fake, COHORT_ACCEPT_ACTION, user=user, value=cohort_id).text


def say(slack, fake, text: str, *, user: str) -> str:
    """Send `/gauntlet TEXT` and return the text of its answer."""
    status, _, path = send_command(slack, fake, text, user=user)
    assert status == 200
    return response(fake, path).text


def answer_text(user_id: str, n: int) -> str:
    """Instructions for the scripted grader: Lía improves, Bea stays stuck on blameless framing."""
    if user_id == "ULA":
        return f"q={min(0.95, 0.25 + 0.05 * n):.2f} My story, attempt {n}, with a formula-looking =SUM(A1)."
    if user_id == "UBE":
        return f"q={min(0.9, 0.5 + 0.04 * n):.2f} blameless=0.2 Die Geschichte, Versuch {n}."
    return f"q=0.6 Attempt {n} from Bengaluru."


def answer_drill(slack, fake, engine: InterviewEngine, user: str, text: str) -> int:
    """Answer the open cohort drill in the DM (follow-ups too) until its scorecard; the interview id."""
    interview = engine.find_active(TEAM, user, source="cohort")
    assert interview is not None, f"{user} has no open cohort drill"
    cards = len(posts_to(fake, dm(user), "Scorecard"))
    for _ in range(6):
        before = len(posts_to(fake, dm(user), GRADED))
        send_event(slack, R.message(text, user=user, channel=dm(user), channel_type="im"))
        fake.wait_for(lambda calls, before=before: len(posts_to(fake, dm(user), GRADED)) > before,
                      what=f"feedback to {user}")
        if engine.get(interview.id).status != "active":
            # The scorecard is the turn's last message: once it is out, nothing of this turn is pending.
            fake.wait_for(lambda calls: len(posts_to(fake, dm(user), "Scorecard")) > cards,
                          what="the scorecard")
            return interview.id or 0
    raise AssertionError("the drill never finished")


# ---- the four-week run ------------------------------------------------------------------------------

def test_a_manager_runs_a_four_week_cohort_in_slack(db, fake, monkeypatch):
    """Create, add members in three timezones, drills at each member's 09:00 across DST, one reminder,
    weekly digests with a PNG chart upload, a CSV export with one row per graded answer, forget-me."""
    clock = [T0]
    fake.clock = lambda: clock[0]
    fake.user_tzs = dict(ZONES)
    monkeypatch.setattr(cohort_slack, "_now", lambda: clock[0])
    engine = InterviewEngine(db, grader=scripted_grader)
    app = build_app(settings_for(fake), db=db, engine=engine)
    slack, g = InProcess(app), app.gauntlet

    assert "is ready" in say(slack, fake, "cohort create sre-prep mon,wed,fri 09:00", user="UBOSS")
    added = say(slack, fake, "cohort add sre-prep <@ULA> <@UBE|bea> <@UIN>", user="UBOSS")
    assert "America/Los_Angeles" in added and "Europe/Berlin" in added and "Asia/Kolkata" in added
    cohort = get_cohort(db, TEAM, "sre-prep")
    assert members(db, cohort) == []  # invited: nobody is in before they accept
    accept(slack, fake, db, "sre-prep", *MEMBERS)
    assert {m.user_id: m.tz for m in members(db, cohort)} == {u: ZONES[u] for u in MEMBERS}
    assert "now runs sre-prep" in say(slack, fake, "cohort manager sre-prep <@UNY>", user="UBOSS")
    assert "Only the managers" in say(slack, fake, "cohort add sre-prep <@UX>", user="UIN")
    assert "sre-prep* (member)" in say(slack, fake, "cohort list", user="UBE")
    assert "can now read your answers" in say(slack, fake, "share on", user="ULA")

    end = datetime(2026, 11, 9, 18, 0, tzinfo=UTC)
    counts = dict.fromkeys(MEMBERS, 0)
    waiting: list[tuple[datetime, str]] = []  # (when the member answers, who)
    ignored = False
    digests_owed = 0
    while clock[0] <= end:
        now = clock[0]
        acted = False  # whether this tick owed anything: a quiet tick has nothing for the worker
        if now == datetime(2026, 10, 17, 12, 0, tzinfo=UTC):
            acted = True
            assert "before Wed 28 Oct 2026" in say(slack, fake, "cohort pause <@UIN> until 2026-10-28",
                                                  user="UNY")
        for d in cohort_slack.send_due_drills(g, app.client, now=now):
            acted = True
            counts[d.user_id] += 1
            if d.user_id == "UBE" and not ignored:
                ignored = True  # Bea misses her first drill: the reminder has to catch it
                continue
            waiting.append((now + timedelta(hours=1), d.user_id))
        for r in cohort_slack.send_reminders(g, app.client, now=now):
            acted = True
            waiting.append((now + timedelta(minutes=30), r.user_id))
        for when, user in [w for w in waiting if w[0] <= now]:
            acted = True
            waiting.remove((when, user))
            interview_id = answer_drill(slack, fake, engine, user, answer_text(user, counts[user]))
            stamp_interview(db, interview_id, now)  # the engine stamps real time; the digest reads these
        sent_digests = len(cohort_slack.send_digests(g, app.client, now=now))
        digests_owed += sent_digests
        if acted or sent_digests:
            g.worker.drain()  # what the jobs owed goes out through the outbox before the clock moves on
            fake.wait_for(lambda calls, owed=digests_owed: len([u for u in fake.uploads()
                                                                if u.filename.endswith(".png")]) >= owed,
                          what="each digest's chart, which follows its delivery")
        clock[0] = now + timedelta(minutes=15)

    # Drills arrive in each member's DM on Mon/Wed/Fri at 09:00 their time, across both DST changes.
    arrived = {u: [c.at for c in posts_to(fake, dm(u), "today's drill")] for u in MEMBERS}
    for user, times in arrived.items():
        for at in times:
            local = at.astimezone(ZoneInfo(ZONES[user]))
            assert local.time() == time(9, 0) and local.weekday() in (0, 2, 4), (user, local)
    la = {at.astimezone(ZoneInfo(ZONES["ULA"])).date(): at.hour for at in arrived["ULA"]}
    assert la[date(2026, 10, 30)] == 16 and la[date(2026, 11, 2)] == 17  # PDT → PST on 1 Nov
    berlin = {at.astimezone(ZoneInfo(ZONES["UBE"])).date(): at.hour for at in arrived["UBE"]}
    assert berlin[date(2026, 10, 23)] == 7 and berlin[date(2026, 10, 26)] == 8  # CEST → CET on 25 Oct
    expected = [date(2026, 10, 12) + timedelta(days=i) for i in range(29)]
    expected = [d for d in expected if d.weekday() in (0, 2, 4)]
    assert sorted(la) == expected
    kolkata = sorted(at.astimezone(ZoneInfo(ZONES["UIN"])).date() for at in arrived["UIN"])
    assert kolkata == [d for d in expected if not date(2026, 10, 19) <= d < date(2026, 10, 28)]

    # Exactly one reminder: Bea's ignored first drill, four hours after it arrived.
    reminders = [c for c in fake.of("chat.postMessage") if "A reminder from" in c.text]
    first_miss = arrived["UBE"][0]
    assert [(c.args["channel"], c.at) for c in reminders] == [(dm("UBE"), first_miss + timedelta(hours=4))]

    # Each manager's digest arrives every Monday at 09:00 their time, followed by its PNG chart.
    for manager in ("UBOSS", "UNY"):
        digests = posts_to(fake, dm(manager), "weekly digest")
        local = [c.at.astimezone(ZoneInfo(ZONES[manager])) for c in digests]
        assert [x.date() for x in local] == [date(2026, 10, 12) + timedelta(days=7 * w) for w in range(5)]
        assert all(x.time() == time(9, 0) for x in local)
        charts = [u for u in fake.uploads() if u.channel == dm(manager) and u.filename.endswith(".png")]
        assert [u.at for u in charts] == [c.at for c in digests]
        assert all(u.data.startswith(PNG) and len(u.data) > 10_000 for u in charts)
    final = posts_to(fake, dm("UBOSS"), "weekly digest")[-1].text
    assert "Participation" in final and "100%" in final
    assert "Biggest movers" in final and "<@ULA>" in final
    assert "<@UBE> on *Blameless*" in final  # stuck: who, and on what
    assert "Die Geschichte" not in final  # a digest carries scores, never transcripts

    # The export: refused to a member; a manager gets a CSV in their DM, one row per graded answer.
    assert "Only the managers" in say(slack, fake, "cohort export sre-prep", user="ULA")
    assert "in our DM" in say(slack, fake, "cohort export sre-prep", user="UNY")
    [upload] = [u for u in fake.uploads() if u.filename.endswith(".csv")]
    assert upload.channel == dm("UNY") and upload.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    with Session(db) as s:
        graded_answers = s.exec(select(GradeRecord).where(col(GradeRecord.user_id).in_(MEMBERS))).all()
    assert len(rows) == len(graded_answers) >= sum(counts.values())
    assert {r["person"] for r in rows} == set(MEMBERS)
    assert all(r["answer"].startswith("q=") for r in rows if r["person"] == "ULA")  # she shares
    assert all(r["answer"] == "" for r in rows if r["person"] != "ULA")

    # Forget-me: a confirmation first, then nothing of Bea remains anywhere.
    _, _, path = send_command(slack, fake, "forget-me", user="UBE")
    ask = response(fake, path)
    buttons = [e for b in ask.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b.get("style")) for b in buttons] == [
        (FORGET_CONFIRM_ACTION, "danger"), (FORGET_CANCEL_ACTION, None)]
    assert remaining_mentions(db, "UBE")  # asking deleted nothing
    done = press(slack, fake, FORGET_CONFIRM_ACTION, user="UBE")
    assert "everything about you is deleted" in done.text and done.args["replace_original"] is True
    assert remaining_mentions(db, "UBE") == {}
    assert {m.user_id for m in members(db, cohort)} == {"ULA", "UIN"}
    with Session(db) as s:
        assert {i.user_id for i in s.exec(select(Interview))} == {"ULA", "UIN"}


# ---- the same story, shorter, through `gauntlet serve --http` -------------------------------------

def test_cohort_drill_answer_export_and_forget_me_through_the_http_server(served, fake, slack_db, db_url):
    """Over HTTP: create and fill a cohort, a drill at a member's 09:00 is answered in the DM with the
    real grader, the manager's export arrives as a CSV upload, and forget-me leaves no trace."""
    fake.user_tzs = dict(ZONES)
    # Three days out: never today's or yesterday's local date anywhere, so the server's own
    # every-minute job has nothing to send while the test runs.
    day = datetime.now(UTC).date() + timedelta(days=3)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    assert "is ready" in say(served, fake, f"cohort create http-prep {weekday} 09:00", user="UBOSS")
    added = say(served, fake, "cohort add <@ULA> <@UBE> <@UIN>", user="UBOSS")
    assert "America/Los_Angeles" in added
    accept(served, fake, slack_db, "http-prep", "ULA", "UBE", "UIN")

    # The job runs here on a controlled clock, against the server's database and the same fake.
    jobs = build_app(settings_for(fake, db_url), db=slack_db)
    due = local_due_at(day, "09:00", "America/Los_Angeles")
    sent = cohort_slack.send_due_drills(jobs.gauntlet, jobs.client, now=due)
    assert [(d.user_id, d.target_round) for d in sent] == [("ULA", "opening")]
    assert fake.wait_for(lambda calls: posts_to(fake, dm("ULA"), "today's drill"))  # through the outbox

    engine = InterviewEngine(slack_db)
    text = OPENING
    for _ in range(6):
        before = len(posts_to(fake, dm("ULA"), GRADED))
        send_event(served, R.message(text, user="ULA", channel=dm("ULA"), channel_type="im"))
        fake.wait_for(lambda calls, before=before: len(posts_to(fake, dm("ULA"), GRADED)) > before,
                      what="feedback on the drill")
        active = engine.find_active(TEAM, "ULA", source="cohort")
        if active is None:
            break
        text = FOLLOW_UP if active.probe_id else BY_ROUND[active.round]
    assert engine.find_active(TEAM, "ULA", source="cohort") is None

    assert "in our DM" in say(served, fake, "cohort export http-prep", user="UBOSS")
    [upload] = fake.wait_for(lambda calls: [u for u in fake.uploads() if u.filename.endswith(".csv")],
                             what="the CSV upload")
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    with Session(slack_db) as s:
        assert len(rows) == len(s.exec(select(GradeRecord).where(GradeRecord.user_id == "ULA")).all()) >= 1
    assert {r["answer"] for r in rows} == {""}  # she never agreed to share

    assert "Forget me?" in say(served, fake, "forget-me", user="ULA")
    assert "deleted" in press(served, fake, FORGET_CONFIRM_ACTION, user="ULA").text
    assert remaining_mentions(slack_db, "ULA") == {}


# ---- smaller behaviours ------------------------------------------------------------------------------

@pytest.fixture
def slack_app(fake, slack_db, db_url, monkeypatch):
    fake.user_tzs = dict(ZONES)
    return build_app(settings_for(fake, db_url), db=slack_db)


def test_cohort_command_mistakes_are_explained_with_an_example(slack_app, fake):
    """A command the parser cannot read is answered with the problem and the usage, safely escaped."""
    slack = InProcess(slack_app)
    _, _, path = send_command(slack, fake, "cohort add sre-prep @<!here>", user="UBOSS")
    shown = json.dumps(response(fake, path).args["blocks"])
    assert "is not a mention" in shown and "/gauntlet cohort add" in shown
    assert "<!here>" not in shown  # what the person typed is escaped, never a live mention
    assert "Cohort commands" in say(slack, fake, "cohort", user="UBOSS")
    assert "do not run a cohort yet" in say(slack, fake, "cohort add <@ULA>", user="UBOSS")


def test_share_consent_is_the_members_own_switch_per_cohort(slack_app, fake, slack_db):
    """`share on NAME` and `share off NAME` set the member's consent for that cohort only; bare `share`
    reports it; sharing with a cohort one is not in is refused."""
    slack = InProcess(slack_app)
    for name in ("alpha", "beta"):
        say(slack, fake, f"cohort create {name}", user="UBOSS")
        say(slack, fake, f"cohort add {name} <@ULA>", user="UBOSS")
    assert "not in 'alpha'" in say(slack, fake, "share on alpha", user="ULA")  # invited is not in
    accept(slack, fake, slack_db, "alpha", "ULA")
    accept(slack, fake, slack_db, "beta", "ULA")
    assert "No cohort's managers can read your answers" in say(slack, fake, "share", user="ULA")
    assert "Say which cohort" in say(slack, fake, "share on", user="ULA")
    say(slack, fake, "share on alpha", user="ULA")
    assert privacy.shares_transcripts(slack_db, TEAM, "ULA") == ["alpha"]
    say(slack, fake, "share off alpha", user="ULA")
    assert privacy.shares_transcripts(slack_db, TEAM, "ULA") == []


def test_forget_me_cancel_deletes_nothing(slack_app, fake, slack_db):
    """Pressing Cancel on the forget-me question leaves the person's history in place."""
    slack = InProcess(slack_app)
    graded(slack_db, TEAM, "ULA", at=datetime.now(UTC), dims={"timeline": 0.5})
    say(slack, fake, "forget-me", user="ULA")
    assert "Nothing was deleted" in press(slack, fake, FORGET_CANCEL_ACTION, user="ULA").text
    assert remaining_mentions(slack_db, "ULA")


def test_season_cohort_channel_and_improvement_boards(slack_app, fake, slack_db):
    """`board cohort NAME`, `board channel`, `board improvement` and `board season YYYY-MM` rank people."""
    slack = InProcess(slack_app)
    now = datetime.now(UTC)
    say(slack, fake, "cohort create board-prep", user="UBOSS")
    say(slack, fake, "cohort add board-prep <@ULA>", user="UBOSS")
    accept(slack, fake, slack_db, "board-prep", "ULA")
    for i, q in enumerate((0.2, 0.3, 0.3, 0.9)):
        graded(slack_db, TEAM, "ULA", at=now + timedelta(seconds=i), dims={"timeline": q},
               channel="CPRACTICE")
    graded(slack_db, TEAM, "UBE", at=now, dims={"timeline": 0.5}, channel="COTHER")

    cohort_board = say(slack, fake, "board cohort board-prep", user="UBE")
    assert "1. <@ULA>" in cohort_board and "<@UBE>" not in cohort_board
    channel_board = say(slack, fake, "board channel", user="UBE")  # the command came from CPRACTICE
    assert "<@ULA>" in channel_board and "<@UBE>" not in channel_board
    improved = say(slack, fake, "board improvement", user="UBE")
    assert "1. <@ULA>" in improved and "over baseline" in improved
    season = say(slack, fake, f"board season {now:%Y-%m}", user="UBE")
    assert "<@ULA>" in season and "<@UBE>" in season
    assert "not a season" in say(slack, fake, "board season last-month", user="UBE")
    assert "Leaderboard" in say(slack, fake, "board week", user="UBE")  # the period boards still work


def test_a_dm_answer_goes_to_the_newest_open_interview(slack_app, fake, slack_db):
    """With a cohort drill open, a drill the member starts later takes their DM replies; once it is
    stopped, replies go to the cohort drill again."""
    slack = InProcess(slack_app)
    engine = slack_app.gauntlet.engine
    cohort_drill = engine.start(workspace=TEAM, user_id="ULA", source="cohort", only_round="opening",
                                channel=dm("ULA"))
    assert "waiting in our DM" in say(slack, fake, "drill sql", user="ULA")
    own = engine.find_active(TEAM, "ULA", source="dm")
    send_event(slack, R.message("stop", user="ULA", channel=dm("ULA"), channel_type="im"))
    fake.wait_for(lambda calls: posts_to(fake, dm("ULA"), "Scorecard"), what="the stopped drill's card")
    assert engine.get(own.id).status == "stopped"
    assert engine.get(cohort_drill.interview_id).status == "active"

    send_event(slack, R.message(OPENING, user="ULA", channel=dm("ULA"), channel_type="im"))
    fake.wait_for(lambda calls: posts_to(fake, dm("ULA"), GRADED), what="the cohort drill's grade")
    with Session(slack_db) as s:
        graded_in = {r.interview_id for r in s.exec(select(GradeRecord))}
    assert graded_in == {cohort_drill.interview_id}
