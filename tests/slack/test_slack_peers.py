"""Peer mock interviews in Slack against the fake Web API: a cohort of five runs four weeks of pairs on a
simulated clock (one member is the odd one out each full week, one is paused for a week). Pairs never
repeat while a fresh grouping exists, roles swap, sessions start in group DMs, answers are graded
quietly, ratings come through the modal, side-by-side views are posted, and the manager's digest and
export carry the ratings."""

from __future__ import annotations

import csv
import io
import itertools
import json
import time as walltime
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations
from urllib.parse import urlencode

import slack_requests as R
from cohort_factories import groupings, scripted_grader
from conftest import InProcess, settings_for
from fake_slack import TEAM
from flows import response, send_command, send_event

from bot.cohorts.cohorts import get_cohort
from bot.cohorts.peers import DimensionView, SideBySide, groups_of, open_session_for, stored_comparisons
from bot.content import default_content
from bot.interview.engine import InterviewEngine
from bot.slack import cohorts as cohort_slack
from bot.slack import peers as peer_slack
from bot.slack.app import build_app
from bot.slack.blocks import messages
from bot.slack.cohort_blocks import COHORT_ACCEPT_ACTION
from bot.slack.peer_blocks import (
    DIMENSION_BLOCK,
    LEVEL_ACTION,
    PEER_RATE_ACTION,
    PEER_RATING_VIEW,
    PEER_START_ACTION,
    VERDICT_BLOCK,
    rating_modal,
    read_rating,
    side_by_side_blocks,
)

MEMBERS = ("UANA", "UBO", "UCY", "UDEV", "UEVE")
MANAGER = "UBOSS"
T0 = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)  # a Monday, before the cohort's 10:00 (London)
CONTENT = default_content()
_ids = itertools.count(1)


def dm(user: str) -> str:
    return "D" + user.lstrip("U")


def say(slack, fake, text: str, *, user: str) -> str:
    status, _, path = send_command(slack, fake, text, user=user)
    assert status == 200
    return response(fake, path).text


def posts(fake, channel: str, marker: str = "", thread_ts: str | None = None) -> list:
    return [c for c in fake.of("chat.postMessage") if c.args.get("channel") == channel and marker in c.text
            and (thread_ts is None or c.args.get("thread_ts") == thread_ts)]


def accept_invitations(slack, fake, cohort: str, *users: str) -> None:
    """Each person added to the cohort presses Accept on the invitation in their DM (consent: nobody is
    paired, sent anything or exported before they accept)."""
    for user in users:
        [invitation] = posts(fake, dm(user), f"invites you to the practice cohort *{cohort}*")
        [accept] = buttons(invitation, COHORT_ACCEPT_ACTION)
        press(slack, COHORT_ACCEPT_ACTION, accept["value"], user=user, channel=dm(user))
        fake.wait_for(lambda calls, user=user: posts(fake, dm(user), f"You joined *{cohort}*"),
                      what=f"{user} joining {cohort}")


def buttons(call, action_id: str) -> list[dict]:
    return [e for b in call.args.get("blocks") or [] if b.get("type") == "actions"
            for e in b["elements"] if e.get("action_id") == action_id]


def press(slack, action_id: str, value: str, *, user: str, channel: str) -> None:
    """Press a button on a message (a DM or a group DM thread)."""
    payload = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "gauntlet-test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM}, "api_app_id": "AGAUNTLET",
        "trigger_id": f"trigger.peer.{next(_ids)}", "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": "1700000000.000001"},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "action_ts": str(walltime.time())}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    status, _ = slack.post(body, R.signed_headers(body, content_type=R.FORM))
    assert status == 200


def submit(slack, view: dict, *, user: str, verdict: str | None, levels: dict[str, int]) -> dict:
    """Submit the rating modal as Slack would; returns the acknowledgement's body (errors, if any)."""
    values = {DIMENSION_BLOCK + k: {LEVEL_ACTION: {"type": "static_select",
                                                   "selected_option": {"value": str(v)}}}
              for k, v in levels.items()}
    if verdict is not None:
        values[VERDICT_BLOCK] = {LEVEL_ACTION: {"type": "static_select",
                                                "selected_option": {"value": verdict}}}
    payload = {
        "type": "view_submission", "team": {"id": TEAM, "domain": "gauntlet-test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM}, "api_app_id": "AGAUNTLET",
        "trigger_id": f"trigger.view.{next(_ids)}",
        "view": {"id": view["id"], "type": "modal", "team_id": TEAM, "callback_id": view["callback_id"],
                 "private_metadata": view["private_metadata"], "state": {"values": values}, "hash": "h"},
    }
    body = urlencode({"payload": json.dumps(payload)})
    status, text = slack.post(body, R.signed_headers(body, content_type=R.FORM))
    assert status == 200
    return json.loads(text) if text else {}


def repeats(grouping, met: Counter) -> int:
    return sum(1 for g in grouping for a, b in combinations(g, 2) if met[frozenset((a, b))])


class Turns:
    """Drives one turn of a group through Slack: Start, answers, Rate, the modal."""

    def __init__(self, slack, fake):
        self.slack, self.fake = slack, fake
        self.ratings = 0
        self.disagreements = 0

    def start(self, group_id: int, interviewer: str, channel_hint: str) -> tuple[str, str]:
        """Press Start; returns the group DM and the thread the turn runs in."""
        before = len([c for c in self.fake.of("chat.postMessage") if "Peer mock, turn" in c.text])
        scripts = len(posts(self.fake, dm(interviewer), "Your interviewer script"))
        press(self.slack, PEER_START_ACTION, str(group_id), user=interviewer, channel=channel_hint)
        intro = self.fake.wait_for(
            lambda calls: [c for c in calls if c.method == "chat.postMessage" and "Peer mock, turn" in c.text]
            [before:], what="the session's first message")[0]
        script = self.fake.wait_for(
            lambda calls: posts(self.fake, dm(interviewer), "Your interviewer script")[scripts:],
            what="the interviewer's script")[0]
        opening = CONTENT.rounds["opening"]
        assert " ".join(opening.prompt.split()) in script.text and "Follow-ups to choose from" in script.text
        assert "A strong answer has" in script.text and "Detection (15%)" in script.text
        assert f"<@{interviewer}> interviews" in intro.text
        return intro.args["channel"], intro.response["ts"]

    def answer(self, text: str, *, user: str, channel: str, thread_ts: str, marker: str):
        before = len(posts(self.fake, channel, marker, thread_ts))
        send_event(self.slack, R.message(text, user=user, channel=channel, thread_ts=thread_ts,
                                         channel_type="mpim"))
        return self.fake.wait_for(lambda calls: posts(self.fake, channel, marker, thread_ts)[before:],
                                  what=f"'{marker}' in the session thread")[0]

    def rate(self, recorded, *, interviewer: str, channel: str, thread_ts: str, low: bool) -> None:
        """Open the modal from the Rate button and submit it; the interviewer sees one dimension lower
        than the bot when `low`."""
        (rate,) = buttons(recorded, PEER_RATE_ACTION)
        opened = len(self.fake.of("views.open"))
        press(self.slack, PEER_RATE_ACTION, rate["value"], user=interviewer, channel=channel)
        view = self.fake.wait_for_call("views.open", count=opened + 1)[-1].response["view"]
        assert view["callback_id"] == PEER_RATING_VIEW
        keys = [b["block_id"][len(DIMENSION_BLOCK):] for b in view["blocks"]
                if b.get("block_id", "").startswith(DIMENSION_BLOCK)]
        round_id = rate["value"].split("|")[1]
        assert keys == list(CONTENT.rounds[round_id].weighs)  # each dimension the round weighs
        levels = dict.fromkeys(keys, 4) | ({keys[0]: 1} if low else {})
        shown = len(posts(self.fake, channel, "the interviewer's rating and my grade", thread_ts))
        assert submit(self.slack, view, user=interviewer, verdict="Hire", levels=levels) in ({}, None)
        marker = "the interviewer's rating and my grade"
        side = self.fake.wait_for(lambda calls: posts(self.fake, channel, marker, thread_ts)[shown:],
                                  what="the side-by-side view")[0]
        self.ratings += 1
        if low:
            assert ":warning:" in side.text and "two steps or more apart" in side.text
            self.disagreements += 1
        else:
            assert "No dimension is two or more steps apart" in side.text

    def run(self, group_id: int, interviewer: str, interviewee: str, channel_hint: str, *, low: bool) -> str:
        """One turn: the interviewee answers two rounds, each is rated, then they stop the turn."""
        channel, thread_ts = self.start(group_id, interviewer, channel_hint)
        for n in range(2):
            recorded = self.answer(f"q=0.9 My incident story, part {n + 1}.", user=interviewee,
                                   channel=channel, thread_ts=thread_ts, marker="Answer recorded")
            assert "/100" not in recorded.text  # the bot's grade stays hidden until the rating
            self.rate(recorded, interviewer=interviewer, channel=channel, thread_ts=thread_ts,
                      low=low and n == 0)
        self.answer("stop", user=interviewee, channel=channel, thread_ts=thread_ts,
                    marker="This turn is over")
        return channel


def test_a_cohort_of_five_runs_four_weeks_of_peer_mocks(db, fake, monkeypatch):
    """Four weekly pairings of five members (a trio when all five are in, one paused for a week): no pair
    repeats while a fresh grouping exists, roles swap, each turn runs in a group DM with a private script,
    grades stay hidden until the modal's rating, and the digest and export carry the human ratings."""
    clock = [T0]
    fake.clock = lambda: clock[0]
    fake.user_tzs = {MANAGER: "Europe/London", **dict.fromkeys(MEMBERS, "Europe/London")}
    monkeypatch.setattr(cohort_slack, "_now", lambda: clock[0])
    monkeypatch.setattr(peer_slack, "_now", lambda: clock[0])
    engine = InterviewEngine(db, grader=scripted_grader)
    app = build_app(settings_for(fake), db=db, engine=engine)
    slack, g = InProcess(app), app.gauntlet

    assert "is ready" in say(slack, fake, "cohort create mocks mon 10:00", user=MANAGER)
    say(slack, fake, "cohort add mocks " + " ".join(f"<@{u}>" for u in MEMBERS), user=MANAGER)
    accept_invitations(slack, fake, "mocks", *MEMBERS)
    assert "Only the managers" in say(slack, fake, "cohort pairs mocks on weekly", user="UANA")
    assert "How often" in say(slack, fake, "cohort pairs mocks on", user=MANAGER)
    assert "Peer mocks are on for mocks" in say(slack, fake, "cohort pairs mocks on weekly", user=MANAGER)
    cohort = get_cohort(db, TEAM, "mocks")

    turns = Turns(slack, fake)
    weeks = []
    met: Counter = Counter()
    last_first: dict[str, bool] = {}
    for week in range(4):
        clock[0] = T0 + timedelta(weeks=week, hours=4)  # Monday 12:00 UTC, after the cohort's 10:00
        if week == 1:
            assert "before Mon 26 Oct 2026" in say(slack, fake, "cohort pause mocks <@UEVE> until 2026-10-26",
                                                    user=MANAGER)
        cohort_slack.run_cohort_jobs(g, app.client, now=clock[0])
        g.worker.drain()  # what the jobs owed goes out through the outbox before the clock moves on
        groups = [members for period, members in groups_of(db, cohort) if period == week]
        active = sorted(p for members in groups for p in members)
        assert active == (sorted(set(MEMBERS) - {"UEVE"}) if week == 1 else sorted(MEMBERS))
        assert [len(m) for m in groups].count(3) == len(active) % 2  # the odd one out makes a trio
        # No pair repeats while some grouping of this week's members would avoid it.
        fewest = min(repeats(option, met) for option in groupings(active))
        assert repeats(groups, met) == fewest, f"week {week + 1}"
        for members in groups:
            # Whoever interviewed first in their last group does not go first now, unless all did.
            if any(not last_first.get(m, False) for m in members):
                assert not last_first.get(members[0], False), f"week {week + 1}: {members} did not swap"
            for m in members:
                last_first[m] = members[0] == m
                told = posts(fake, dm(m), "Peer mock interview")[-1]
                assert all(f"<@{o}>" in told.text for o in members if o != m)
                assert ("You interview first." in told.text) == (members[0] == m)
                assert told.at == clock[0]
            for a, b in combinations(members, 2):
                met[frozenset((a, b))] += 1
        weeks.append(groups)
        for members in groups:
            (start,) = buttons(posts(fake, dm(members[0]), "Peer mock interview")[-1], PEER_START_ACTION)
            channel = dm(members[0])
            for n, (interviewer, interviewee) in enumerate(zip(members, [*members[1:], members[0]],
                                                               strict=True)):
                channel = turns.run(int(start["value"]), interviewer, interviewee, channel, low=n == 0)
            assert channel == "G" + "".join(u.lstrip("U") for u in sorted(members))
            opened = [c.args["users"] for c in fake.of("conversations.open")
                      if "," in c.args.get("users", "")]
            assert ",".join(members) in opened

    # Everyone met everyone within the four weeks (10 pairs), with the repeats the trios forced.
    assert all(met[frozenset(p)] >= 1 for p in combinations(MEMBERS, 2))
    # Someone who is not the interviewer cannot open the rating modal; an incomplete rating is refused.
    first_turn = next(c for c in fake.of("chat.postMessage") if "Answer recorded" in c.text)
    (rate,) = buttons(first_turn, PEER_RATE_ACTION)
    interviewer = weeks[0][0][0]
    outsider = next(m for m in MEMBERS if m != interviewer)
    opened = len(fake.of("views.open"))
    press(slack, PEER_RATE_ACTION, rate["value"], user=outsider, channel=first_turn.args["channel"])
    fake.wait_for_call("chat.postEphemeral", where=lambda c: "Only <@" in c.text)
    assert len(fake.of("views.open")) == opened
    errors = submit(slack, {"id": "VX", "callback_id": PEER_RATING_VIEW, "private_metadata": rate["value"]},
                    user=interviewer, verdict=None, levels={})
    assert errors["response_action"] == "errors" and VERDICT_BLOCK in errors["errors"]

    # Every rating is stored beside the bot's grade of the same answer.
    stored = stored_comparisons(db, workspace=TEAM, cohort="mocks")
    assert len(stored) == turns.ratings == 2 * sum(len(m) for groups in weeks for m in groups)

    # The weekly digest reaches the manager with the agreement figures and their counts.
    clock[0] = T0 + timedelta(weeks=4, hours=4)
    cohort_slack.run_cohort_jobs(g, app.client, now=clock[0])
    g.worker.drain()
    digest = posts(fake, dm(MANAGER), "weekly digest")[-1]
    assert "Grader vs peer interviewers" in digest.text
    assert f"({turns.ratings} rated answers so far)" in digest.text
    assert f"Verdict: exact 100%, within one step 100%, kappa — (n={turns.ratings})" in digest.text

    # The export carries the human ratings next to the bot's.
    assert "in our DM" in say(slack, fake, "cohort export mocks", user=MANAGER)
    upload = next(u for u in reversed(fake.uploads()) if u.filename.startswith("mocks-"))
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    rated = [r for r in rows if r["peer_verdict"]]
    assert len(rated) == turns.ratings and all(r["peer_verdict"] == "Hire" for r in rated)
    assert sum(1 for r in rated if "=1" in r["peer_ratings"]) == turns.disagreements


def test_side_by_side_marks_two_step_disagreements_with_the_bots_quotes():
    """A dimension two steps apart comes first, marked, with what the bot quoted; one step apart is not."""
    view = SideBySide("opening", "Opening", "UANA", "UBO", "Lean Hire", "Hire", 78, [
        DimensionView("timeline", "Timeline", 3, 4, ["at 14:02 the alert fired"]),
        DimensionView("detection", "Detection", 1, 4, ["our latency alert paged me & the on-call"]),
    ])
    (chunk,) = messages(side_by_side_blocks(view))
    text = "\n".join(b["text"]["text"] for b in chunk if b["type"] == "section" and "text" in b)
    lines = text.splitlines()
    assert lines[0].startswith(":warning: *Detection: person 1 (missing) · bot 4 (strong)")
    assert "our latency alert paged me &amp; the on-call" in lines[1]  # quoted, escaped once
    assert lines[2] == "• Timeline: person 3 (solid) · bot 4 (strong)"
    modal = rating_modal(session_id=7, round_id="opening", title="A round with a very long title",
                         dimensions=[("detection", "Detection"), ("timeline", "Timeline")])
    assert len(modal["title"]["text"]) <= 24 and modal["private_metadata"] == "7|opening"
    options = modal["blocks"][1]["element"]["options"]
    assert [o["value"] for o in options] == ["1", "2", "3", "4"]
    state = {"dim:detection": {"level": {"selected_option": {"value": "2"}}},
             "verdict": {"level": {"selected_option": {"value": "No Hire"}}},
             "dim:timeline": {"level": {"selected_option": None}}}
    assert read_rating(state) == ("No Hire", {"detection": 2})


def test_a_refused_group_dm_and_a_misplaced_answer_each_get_a_clear_word(db, fake, monkeypatch):
    """When Slack refuses the group DM, Start says so and works when pressed again; an answer posted
    outside the thread gets a pointer to it, not silence."""
    app, slack, clock = _duo(db, fake, monkeypatch)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    app.gauntlet.worker.drain()
    first, second = due.members
    (start,) = buttons(posts(fake, dm(first), "Peer mock interview")[-1], PEER_START_ACTION)

    real = fake.respond
    refusals = [{"ok": False, "error": "cannot_open_mpim"}]

    def refuse_group_once(method, args, token=None):
        if method == "conversations.open" and "," in str(args.get("users")) and refusals:
            return refusals.pop()
        return real(method, args, token)

    monkeypatch.setattr(fake, "respond", refuse_group_once)
    press(slack, PEER_START_ACTION, start["value"], user=first, channel=dm(first))
    fake.wait_for(lambda calls: posts(fake, dm(first), "couldn't open the group DM"), what="the refusal")
    turns = Turns(slack, fake)
    channel, thread_ts = turns.start(due.group_id, first, dm(first))
    send_event(slack, R.message("q=0.9 my answer, but not in the thread", user=second, channel=channel,
                                channel_type="mpim"))
    hint = fake.wait_for_call("chat.postEphemeral", where=lambda c: "in the thread" in c.text)[-1]
    assert hint.args["user"] == second and not posts(fake, channel, "Answer recorded")
    recorded = turns.answer("q=0.9 my answer", user=second, channel=channel, thread_ts=thread_ts,
                            marker="Answer recorded")
    assert "/100" not in recorded.text and f"<@{first}>" in recorded.text


def test_an_answer_posted_before_the_turns_thread_is_on_record_still_gets_the_pointer(db, fake, monkeypatch):
    """The turn's thread ts is stored when Slack accepts its first message, a moment after people can
    see it; an answer posted outside the thread in that moment gets the pointer, not silence."""
    from sqlmodel import Session

    from bot.store.peers import PeerSession

    app, slack, clock = _duo(db, fake, monkeypatch)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    app.gauntlet.worker.drain()
    first, second = due.members
    channel, _thread_ts = Turns(slack, fake).start(due.group_id, first, dm(first))
    with Session(db) as s:  # as if the first message's delivery had not committed yet
        turn = s.get(PeerSession, open_session_for(db, TEAM, channel, second).id)
        turn.thread_ts = None
        s.add(turn)
        s.commit()
    send_event(slack, R.message("q=0.9 my answer, posted too early", user=second, channel=channel,
                                channel_type="mpim"))
    hint = fake.wait_for_call("chat.postEphemeral", where=lambda c: "in the thread" in c.text)[-1]
    assert hint.args["user"] == second


def test_a_peer_answer_is_on_record_before_its_ack_and_answered_once_across_a_crash_and_a_replica(
        db, fake, monkeypatch):
    """A reply in a session's thread goes through the inbox: a web process that records it and dies
    before any work leaves it on record; Slack's retry reaching another replica finds that row; the
    worker that takes it grades it once and posts "Answer recorded" once, with the grade still hidden."""
    from sqlmodel import Session, select

    from bot.store.inbox import InboxItem
    from bot.store.models import Answer, GradeRecord

    clock = [T0 + timedelta(hours=4)]
    fake.clock = lambda: clock[0]
    fake.user_tzs = {MANAGER: "Europe/London", "UANA": "Europe/London", "UBO": "Europe/London"}
    monkeypatch.setattr(cohort_slack, "_now", lambda: clock[0])
    monkeypatch.setattr(peer_slack, "_now", lambda: clock[0])
    engine = InterviewEngine(db, grader=scripted_grader)
    app = build_app(settings_for(fake), db=db, engine=engine)
    slack, g = InProcess(app), app.gauntlet
    say(slack, fake, "cohort create mocks mon 10:00", user=MANAGER)
    say(slack, fake, "cohort add mocks <@UANA> <@UBO>", user=MANAGER)
    accept_invitations(slack, fake, "mocks", "UANA", "UBO")
    say(slack, fake, "cohort pairs mocks on weekly", user=MANAGER)
    cohort_slack.run_cohort_jobs(g, app.client, now=clock[0])
    g.worker.drain()
    [members] = [m for period, m in groups_of(db, get_cohort(db, TEAM, "mocks")) if period == 0]
    interviewer, interviewee = members
    (start,) = buttons(posts(fake, dm(interviewer), "Peer mock interview")[-1], PEER_START_ACTION)
    channel, thread_ts = Turns(slack, fake).start(int(start["value"]), interviewer, dm(interviewer))

    # A web process (no worker) acknowledges the answer, then dies before anything else happens.
    web = build_app(settings_for(fake), db=db, engine=engine, worker_threads=0)
    app.gauntlet.worker.stop()
    body = R.event(R.message("q=0.9 My incident story.", user=interviewee, channel=channel,
                             thread_ts=thread_ts, channel_type="mpim"))
    assert InProcess(web).post(body, R.signed_headers(body))[0] == 200
    with Session(db) as s:
        [row] = s.exec(select(InboxItem).where(InboxItem.kind == "peer")).all()
    assert row.status == "pending" and not posts(fake, channel, "Answer recorded", thread_ts)
    # Slack retries the same delivery; it reaches another replica, whose worker takes the row.
    replica = build_app(settings_for(fake), db=db, engine=engine)
    assert InProcess(replica).post(body, R.signed_headers(body, retry_num=1))[0] == 200
    [recorded] = fake.wait_for(lambda calls: posts(fake, channel, "Answer recorded", thread_ts),
                               what="the answer recorded in the session thread")
    walltime.sleep(1.0)
    assert len(posts(fake, channel, "Answer recorded", thread_ts)) == 1
    assert "/100" not in recorded.text and buttons(recorded, PEER_RATE_ACTION)
    with Session(db) as s:
        assert len(s.exec(select(InboxItem).where(InboxItem.kind == "peer")).all()) == 1
        assert len(s.exec(select(Answer).where(Answer.user_id == interviewee)).all()) == 1
        assert len(s.exec(select(GradeRecord).where(GradeRecord.user_id == interviewee)).all()) == 1


# ---- every peer-mock message goes through the outbox --------------------------------------------------

def _duo(db, fake, monkeypatch):
    """A cohort of two who accepted, with peer mocks on; the app and the simulated clock."""
    clock = [T0 + timedelta(hours=4)]
    fake.user_tzs = {MANAGER: "Europe/London"}
    monkeypatch.setattr(cohort_slack, "_now", lambda: clock[0])
    monkeypatch.setattr(peer_slack, "_now", lambda: clock[0])
    app = build_app(settings_for(fake), db=db, engine=InterviewEngine(db, grader=scripted_grader))
    slack = InProcess(app)
    say(slack, fake, "cohort create duo mon 10:00", user=MANAGER)
    say(slack, fake, "cohort add duo <@UANA> <@UBO>", user=MANAGER)
    accept_invitations(slack, fake, "duo", "UANA", "UBO")
    say(slack, fake, "cohort pairs duo on weekly", user=MANAGER)
    return app, slack, clock


def _outbox(db, prefix: str) -> list:
    from sqlmodel import Session, select

    from bot.store.inbox import OutboxItem

    with Session(db) as s:
        rows = s.exec(select(OutboxItem).order_by(OutboxItem.id)).all()
    return [o for o in rows if o.key.startswith(prefix)]


def test_pairing_dms_are_owed_with_the_group_marked_told_and_ride_out_a_500_that_posted(db, fake,
                                                                                        monkeypatch):
    """The pairing DMs are outbox entries written with the group's "told" mark: a 500 after Slack took
    the first one is looked up instead of posted again, each member gets one DM, and a later run owes
    nothing more."""
    app, _, clock = _duo(db, fake, monkeypatch)
    fake.fail_http("chat.postMessage", status=500, times=1, posted_anyway=True)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    assert [o.key for o in _outbox(db, "peer-pairing:")] == [f"peer-pairing:{due.group_id}:{u}"
                                                             for u in due.members]
    app.gauntlet.worker.drain()
    for user in due.members:
        assert len(posts(fake, dm(user), "Peer mock interview")) == 1, user
    assert fake.of("conversations.history"), "the retry after an unknown outcome looked first"
    assert all(o.status == "sent" for o in _outbox(db, "peer-pairing:"))
    assert peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0] + timedelta(minutes=1)) == []


def test_a_pairing_dm_refused_for_good_stops_and_the_cohort_manager_is_told(db, fake, monkeypatch):
    """user_disabled for one member: their entry stops after one attempt, the other member is told as
    usual, and the cohort's manager hears who could not be told, once."""
    app, _, clock = _duo(db, fake, monkeypatch)
    fake.refusals[dm("UBO")] = "user_disabled"
    peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    told = fake.wait_for(lambda calls: posts(fake, dm(MANAGER), "couldn't tell <@UBO>"),
                         what="the manager told")
    app.gauntlet.worker.drain()
    walltime.sleep(0.3)
    assert len(told) == 1 and "user_disabled" in told[0].text
    assert len(posts(fake, dm("UANA"), "Peer mock interview")) == 1
    [refused] = [o for o in _outbox(db, "peer-pairing:") if o.user_id == "UBO"]
    assert (refused.status, refused.error, refused.attempts) == ("failed", "user_disabled", 1)
    assert len([c for c in fake.of("chat.postMessage") if c.args.get("channel") == dm("UBO")
                and "Peer mock interview" in c.text]) == 1  # one attempt, refused


def test_start_owes_the_turns_first_message_and_script_and_a_retry_never_posts_them_twice(
        db, fake, monkeypatch):
    """Start records the turn with its first message and the interviewer's script owed: a 500 after Slack
    took the first message and a 429 on the script cost retries, each is posted once, the turn's thread
    is the message that was posted, and an answer in it is recorded."""
    app, slack, clock = _duo(db, fake, monkeypatch)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    app.gauntlet.worker.drain()
    first, second = due.members
    (start,) = buttons(posts(fake, dm(first), "Peer mock interview")[-1], PEER_START_ACTION)
    fake.fail_http("chat.postMessage", status=500, times=1, posted_anyway=True)
    fake.rate_limit("chat.postMessage", retry_after=1, times=1)
    press(slack, PEER_START_ACTION, start["value"], user=first, channel=dm(first))
    fake.wait_for(lambda calls: _outbox(db, "peer-") and all(o.status == "sent" for o in _outbox(db, "peer-"))
                  and len(_outbox(db, "peer-")) == 4, what="the turn's messages delivered")
    walltime.sleep(0.3)
    [intro] = [c for c in fake.of("chat.postMessage") if "Peer mock, turn" in c.text]
    scripts = posts(fake, dm(first), "Your interviewer script")
    assert len(scripts) == 1, ([(c.method, c.args.get("channel"), c.text[:40]) for c in fake.calls],
                               [(o.key, o.status, o.sent_ts) for o in _outbox(db, "")])
    [script] = scripts
    assert len(fake.of("chat.postMessage:500")) == 1 and len(fake.of("chat.postMessage:429")) == 1
    assert script.response.get("ok")
    session = peer_slack.peers.open_session_for(db, TEAM, intro.args["channel"], second)
    assert session.thread_ts == intro.response["ts"]
    recorded = Turns(slack, fake).answer("q=0.9 my answer", user=second, channel=intro.args["channel"],
                                         thread_ts=intro.response["ts"], marker="Answer recorded")
    assert "/100" not in recorded.text


def test_a_turn_whose_first_message_is_refused_is_forgotten_and_the_presser_told(db, fake, monkeypatch):
    """is_archived for the group DM: the turn's first message stops after one attempt, the turn is
    forgotten (its interview stopped), whoever pressed Start is told, and Start works again."""
    app, slack, clock = _duo(db, fake, monkeypatch)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    app.gauntlet.worker.drain()
    first, _ = due.members
    group_dm = "G" + "".join(u.lstrip("U") for u in sorted(due.members))
    fake.refusals[group_dm] = "is_archived"
    (start,) = buttons(posts(fake, dm(first), "Peer mock interview")[-1], PEER_START_ACTION)
    press(slack, PEER_START_ACTION, start["value"], user=first, channel=dm(first))
    told = fake.wait_for(lambda calls: posts(fake, dm(first), "couldn't open your peer mock turn"),
                         what="the presser told")
    app.gauntlet.worker.drain()
    assert len(told) == 1 and "is_archived" in told[0].text
    [intro] = _outbox(db, "peer-intro:")
    assert (intro.status, intro.attempts) == ("failed", 1)
    assert peer_slack.peers.open_session_for(db, TEAM, group_dm, due.members[1]) is None
    del fake.refusals[group_dm]
    channel, thread_ts = Turns(slack, fake).start(due.group_id, first, dm(first))
    assert channel == group_dm and thread_ts


def test_the_side_by_side_view_is_owed_with_the_rating_and_posted_once_through_a_503(db, fake, monkeypatch):
    """The rating and its side-by-side view commit together; a 503 while posting it costs a retry, not a
    second view in the thread."""
    app, slack, clock = _duo(db, fake, monkeypatch)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    app.gauntlet.worker.drain()
    first, second = due.members
    turns = Turns(slack, fake)
    channel, thread_ts = turns.start(due.group_id, first, dm(first))
    recorded = turns.answer("q=0.9 my answer", user=second, channel=channel, thread_ts=thread_ts,
                            marker="Answer recorded")
    fake.fail_http("chat.postMessage", status=503, times=1, posted_anyway=True)
    turns.rate(recorded, interviewer=first, channel=channel, thread_ts=thread_ts, low=False)
    app.gauntlet.worker.drain()
    walltime.sleep(0.3)
    assert len(posts(fake, channel, "the interviewer's rating and my grade", thread_ts)) == 1
    [entry] = _outbox(db, "peer-rating:")
    assert (entry.status, entry.attempts) == ("sent", 2)


def test_a_start_that_died_before_its_turn_was_attached_is_taken_over_by_the_next_press(
        db, fake, monkeypatch):
    """A process that recorded the turn and died before owing its messages leaves the turn to be taken
    over: two minutes on, Start opens it (one first message, one script) instead of "being opened"."""
    app, slack, clock = _duo(db, fake, monkeypatch)
    (due,) = peer_slack.send_pairings(app.gauntlet, app.client, now=clock[0])
    app.gauntlet.worker.drain()
    first, _ = due.members
    peer_slack.peers.start_turn(db, due.group_id, first, now=clock[0])  # … and the process died here
    (start,) = buttons(posts(fake, dm(first), "Peer mock interview")[-1], PEER_START_ACTION)
    press(slack, PEER_START_ACTION, start["value"], user=first, channel=dm(first))
    fake.wait_for(lambda calls: posts(fake, dm(first), "is being opened right now"))
    clock[0] += timedelta(minutes=3)
    channel, thread_ts = Turns(slack, fake).start(due.group_id, first, dm(first))
    walltime.sleep(0.5)
    assert len([c for c in fake.of("chat.postMessage") if "Peer mock, turn" in c.text]) == 1
    assert len(posts(fake, dm(first), "Your interviewer script")) == 1
    assert peer_slack.peers.session_in_thread(db, TEAM, channel, thread_ts) is not None
