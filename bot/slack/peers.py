"""Peer mock interviews in Slack: `/gauntlet cohort pairs …`, the pairing DMs, the Start button that
opens a group DM, answers graded quietly in its thread, the rating modal and the side-by-side view.

Thin glue: grouping, turns, consent and ratings are the domain's (`bot.cohorts.peers`). Grades of a peer
session are never posted before the interviewer has rated the round. Every message goes through the
outbox (below), written in the transaction of the step that owes it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.cohorts import cohorts, peers
from bot.cohorts.cohorts import CohortCommandError, CohortError
from bot.cohorts.peers import DuePairing, PeerError
from bot.interview.engine import COMMANDS, InterviewError, Turn
from bot.rubric.config import rubric_from
from bot.slack import blocks as bk
from bot.slack import peer_blocks as pb
from bot.store.peers import PeerSession

log = logging.getLogger("gauntlet.slack.peers")

SOURCE = "peer"  # Interview.source of a peer mock turn
SLACK_FAILURES = (SlackApiError, SlackRequestError, OSError)


def _now() -> datetime:
    return datetime.now(UTC)


def _labels(g) -> dict[str, str]:
    return rubric_from(g.engine.content.rubric).labels


# ---- `/gauntlet cohort pairs [NAME] on weekly|biweekly | off` -----------------------------------------

def pairs_command(req) -> None:
    """Turn a cohort's peer mocks on or off; the domain checks the person runs the cohort."""
    try:
        cmd = peers.parse_pairs_command(req.args[1:])
    except CohortCommandError as exc:
        req.tell(str(exc))
        return
    db = req.gauntlet.db
    try:
        cohort = cohorts.resolve_cohort(db, req.workspace, req.user, cmd.name)
        program = peers.set_pairs(db, cohort, req.user, cmd.cadence, now=_now())
    except CohortError as exc:
        req.say(bk.sections(str(exc)), str(exc))
        return
    if not program.enabled:
        req.tell(f"Peer mocks are off for {cohort.name}. Ratings given so far stay in the agreement figures.")
        return
    req.tell(f"Peer mocks are on for {cohort.name}: members are paired {program.cadence} on Mondays at "
             f"{cohort.local_time}, starting the week of {program.starts_on:%a %d %b}. Each gets a DM "
             "saying who they're paired with and who interviews first.")


# ---- what a peer mock owes, through the outbox -------------------------------------------------------
# Every message below is recorded in the outbox in the transaction of the work that produced it and
# delivered by a worker until Slack accepts it (`bot.slack.worker`): backoff on 5xx, 429 and lost
# connections, a lookup before a retry whose first attempt may have posted, so nothing posts twice.
# Keys: `peer-pairing:<group>:<user>`, `peer-intro:<session>:<interview>` (the turn's first message,
# whose ts is the turn's thread), `peer-script:<session>:<interview>`, `peer-rating:<rating>`,
# `peer-hint:<channel>:<ts>` and `peer-reply:<request>` for the answers to a button press. A terminal
# refusal of a pairing DM or of a turn's first message is settled by `refused` (whoever can act on it
# is told); the others fall back to the person's DM.

def _owe(s, *, key: str, workspace: str, mode: str, user: str, blocks, text: str, channel: str | None = None,
         thread_ts: str | None = None) -> None:
    from bot.pipeline import queue
    from bot.slack.owed import dm_conv, thread_conv

    if mode == "dm":
        conv = dm_conv(workspace, user)
    elif thread_ts:
        conv = thread_conv(workspace, channel or "", thread_ts, user)
    else:
        conv = f"{workspace}:{channel}:peer"
    for n, chunk in enumerate(bk.messages(blocks)):
        queue.owe(s, key=key if n == 0 else f"{key}#{n}", workspace=workspace, conv=conv, mode=mode,
                  channel=channel, thread_ts=thread_ts, user_id=user, text=text, blocks=chunk)


def _wake(g) -> None:
    wake = getattr(g, "wake", None)
    if wake is not None:
        wake()  # an in-process worker delivers it now, not at its next poll


def _reply_key(body: dict) -> str:
    """One reply per button press or submission: Slack's retry of the same request owes nothing new."""
    import uuid

    return f"peer-reply:{body.get('trigger_id') or uuid.uuid4().hex}"


def _workspace(body: dict, context) -> str:
    return getattr(context, "team_id", None) or (body.get("team") or {}).get("id") or \
        (body.get("user") or {}).get("team_id") or ""


# ---- the job: tell members who they are paired with ----------------------------------------------------

def send_pairings(g, client: WebClient, *, now: datetime) -> list[DuePairing]:
    """Owe every member of every new group a DM, in the transaction that marks the group told."""
    sent = []
    for due in peers.due_pairings(g.db, now):

        def owe(s, due=due) -> None:
            for user in due.members:
                _owe(s, key=f"peer-pairing:{due.group_id}:{user}", workspace=due.workspace, mode="dm",
                     user=user, blocks=pb.pairing_blocks(due, user), text=pb.pairing_text(due, user))

        if peers.mark_notified(g.db, due.group_id, now=now, then=owe):
            sent.append(due)
    _wake(g)
    return sent


# ---- Start: a group DM, the thread, the interviewer's script ---------------------------------------------

def _tell(g, workspace: str, user: str, text: str, *, key: str) -> None:
    from bot.store.db import session_scope

    with session_scope(g.db) as s:
        _owe(s, key=key, workspace=workspace, mode="dm", user=user, blocks=bk.sections(bk.escape(text)),
             text=text)
    _wake(g)


def on_start(ack, body: dict, action: dict, context, client: WebClient) -> None:
    """Start the group's next turn (accepting the pairing), or point to the one already open."""
    ack()
    g, user = context["gauntlet"], body["user"]["id"]
    workspace, key = _workspace(body, context), _reply_key(body)
    try:
        turn = peers.start_turn(g.db, int(action.get("value") or 0), user, now=_now())
    except (PeerError, ValueError) as exc:
        _tell(g, workspace, user, str(exc) if isinstance(exc, PeerError) else "That button is out of date.",
              key=key)
        return
    if turn.resumed:
        where = "is being opened right now" if turn.thread_ts is None else "is open in your group DM"
        _tell(g, turn.workspace, user, f"Turn {turn.turn + 1} of {turn.total} {where}: answer or rate in its "
                                       "thread.", key=key)
        return
    try:
        # Finding the group DM posts nothing: asked now, so the turn's messages know where they go.
        channel = client.conversations_open(users=",".join(turn.members))["channel"]["id"]
    except SLACK_FAILURES as exc:
        log.warning("group DM for peer group %s not opened: %s", turn.group_id, exc)
        peers.abandon_turn(g.db, turn.session_id)
        _tell(g, turn.workspace, user, "I couldn't open the group DM with your partner just now; press Start "
                                       "again in a minute.", key=key)
        return
    question = g.engine.start(workspace=turn.workspace, user_id=turn.interviewee, source=SOURCE,
                              channel=channel)
    script = peers.interviewer_script(g.engine.content, rubric_from(g.engine.content.rubric))

    def owe(s) -> None:
        # The turn's thread is its first message: the worker writes its ts when Slack accepts it.
        # Keyed by the interview too: a turn forgotten after a refusal may come back with the same id.
        _owe(s, key=f"peer-intro:{turn.session_id}:{question.interview_id}", workspace=turn.workspace,
             mode="channel", user=user, channel=channel, blocks=pb.session_intro_blocks(turn),
             text=pb.session_intro_text(turn))
        _owe(s, key=f"peer-script:{turn.session_id}:{question.interview_id}", workspace=turn.workspace,
             mode="dm", user=turn.interviewer, blocks=pb.script_blocks(script, turn),
             text=f"Your interviewer script for turn {turn.turn + 1}")

    try:
        peers.attach_session(g.db, turn.session_id, channel=channel, thread_ts=None,
                             interview_id=question.interview_id, then=owe)
    except PeerError as exc:  # another press took this turn over meanwhile: it owes the turn's messages
        g.engine.stop(question.interview_id)
        _tell(g, turn.workspace, user, str(exc), key=key)
        return
    _wake(g)


def refused(g, item, exc: BaseException, *, terminal: bool) -> None:
    """A pairing DM or a turn's first message stopped (`bot.slack.scheduled.refused`): the pairing's
    cohort managers hear that a member could not be told; whoever pressed Start hears the turn did not
    open (it was forgotten in the transaction that stopped the entry, so Start works again)."""
    from bot.slack import lifecycle
    from bot.slack.errors import INSTALL_GONE, slack_error_code

    code = slack_error_code(exc) or exc.__class__.__name__
    if not terminal:
        log.error("peer mock message %s was not delivered: %s", item.key, exc)
    if code in INSTALL_GONE:
        log.error("peer mock message %s stopped: %s", item.key, code)
        return
    if item.key.startswith("peer-intro:"):
        lifecycle.tell_once(g.client_for, item.workspace, item.user_id,
                            f"I couldn't open your peer mock turn in the group DM (Slack answered `{code}`). "
                            "Press Start again to try once more.")
        return
    group_id = int(item.key.split(":")[1])
    found = peers.group_cohort(g.db, group_id)
    if found is None:
        log.error("peer mock message %s stopped (%s); its pairing is gone", item.key, code)
        return
    cohort, told = found
    for manager in told:
        lifecycle.tell_once(g.client_for, item.workspace, manager,
                            f"I couldn't tell {bk.mention(item.user_id or '')} about their "
                            f"{bk.escape(cohort)} peer mock pairing: Slack answered `{code}` (the account "
                            "may be deactivated or unable to get DMs). Their partner can still press Start.")


# ---- answers in the group DM thread ---------------------------------------------------------------------
# A reply in a session's thread goes through the inbox like any answer (`bot.slack.interview`): on record
# before the acknowledgement, taken by one worker, graded once, and what the thread is owed is written to
# the outbox in the grading transaction. A crash or a second replica neither loses nor doubles it.

class SessionNotReady(Exception):
    """A reply arrived before its session's thread ts was written down: tried again in a moment."""


def take_answer(w) -> None:
    """Handle a claimed reply in a peer mock's thread. Only the interviewee's replies are answers; the
    interviewer's questions and chat are left alone."""
    from bot.slack.owed import owe_message

    g, p = w.g, w.p
    channel, thread_ts, user = p["channel"], p["thread_ts"], p["user"]
    session = peers.session_in_thread(g.db, w.workspace, channel, thread_ts)
    if session is None:
        opening = peers.open_session_for(g.db, w.workspace, channel, user)
        if opening is not None and opening.thread_ts is None:
            raise SessionNotReady(f"inbox #{w.item.id}: the turn's thread is still being opened")
        w.finish()  # a thread that is no peer mock's
        return
    if user != session.user_id or session.interview_id is None:
        w.finish()
        return
    peers.accept(g.db, session.group_id, user)  # answering in the session accepts the pairing
    interview = g.engine.get(session.interview_id)
    if interview.status != "active":
        answer = g.engine.answer_for_event(w.item.event_id) if w.item.event_id else None
        if answer is not None and answer.status == "graded":
            w.finish()  # this very message ended the turn; its replies went with its grade
            return
        text = "This turn is over; the next one starts with Start."
        w.finish(lambda s: owe_message(s, w, key=f"inbox:{w.item.id}:over", mode="ephemeral", channel=channel,
                                       thread_ts=thread_ts, user=user, blocks=bk.sections(text),
                                       text="This turn is over."))
        return
    then = replies_owed(w, session, channel=channel, thread_ts=thread_ts, user=user)
    text = p["text"]
    command = text.strip().lower().lstrip("!/")
    if command in COMMANDS:
        try:
            getattr(g.engine, command)(session.interview_id, then=then)
        except InterviewError:
            w.finish()  # the turn ended meanwhile: nothing left to skip or stop
        return
    answer_id = g.engine.record_answer(session.interview_id, text, event_id=w.item.event_id,
                                       message_ts=p.get("ts"))
    if answer_id is None:  # recorded by an earlier attempt at this row
        answer = g.engine.answer_for_event(w.item.event_id) if w.item.event_id else None
        if answer is None:
            raise RuntimeError(f"inbox #{w.item.id}: answer neither new nor on record")
        answer_id = answer.id
    if g.engine.grade_answer(answer_id, then=then).duplicate:
        w.finish()  # graded before: its replies were committed with that grade


def replies_owed(w, session, *, channel: str, thread_ts: str, user: str):
    """The `then` of a peer turn's step: what its thread is owed (never the grade, which waits for the
    interviewer's rating), written with the step and the inbox row marked done."""
    from bot.slack.owed import owe_message

    g = w.g
    more = session.turn + 1 < peers.turns_in_group(g.db, session.group_id)

    def then(s, turn: Turn) -> None:
        from bot.store.models import Interview

        now = s.get(Interview, session.interview_id)
        finished = turn.scorecard is not None or (now is not None and now.status != "active")
        where = {"mode": "thread", "channel": channel, "thread_ts": thread_ts, "user": user}
        if turn.grade is None:  # skip or stop: nothing to rate
            text = "Turn stopped." if finished else (
                f"OK: the next answer counts for *{bk.escape(turn.next.title)}*." if turn.next else "OK.")
            owe_message(s, w, key=f"inbox:{w.item.id}:turn", blocks=bk.sections(text), text=text, **where)
        else:
            title = g.engine.content.rounds[turn.grade.round].title
            owe_message(s, w, key=f"inbox:{w.item.id}:turn", text=f"Answer recorded for {title}", **where,
                        blocks=pb.answer_recorded_blocks(
                            session_id=session.id or 0, round_id=turn.grade.round, title=title,
                            interviewer=session.interviewer_user, next_question=turn.next,
                            finished=finished))
        if finished:
            owe_message(s, w, key=f"inbox:{w.item.id}:turn-over", text="This turn is over.", **where,
                        blocks=pb.turn_over_blocks(session.group_id, more=more))
        w.done(s)

    return then


def on_group_message(g, client: WebClient, *, workspace: str, event: dict) -> None:
    """A top-level message in a group DM from someone due to answer there: point them to the thread."""
    session = peers.open_session_for(g.db, workspace, event["channel"], event["user"])
    # the turn's thread ts is written when Slack accepts its first message, a moment after people see
    # it: an answer posted in that moment still gets the pointer, not silence
    if session is None or session.interview_id is None:
        return
    if g.engine.get(session.interview_id).status != "active":
        return
    text = "Reply *in the thread* of this turn so I take it as your answer (open the thread above)."
    from bot.store.db import session_scope

    with session_scope(g.db) as s:
        _owe(s, key=f"peer-hint:{event['channel']}:{event.get('ts') or ''}", workspace=workspace,
             mode="ephemeral", user=event["user"], channel=event["channel"], blocks=bk.sections(text),
             text=text)
    _wake(g)


# ---- rating ---------------------------------------------------------------------------------------------

def _parse_target(value: str) -> tuple[int, str]:
    session_id, _, round_id = (value or "").partition("|")
    return int(session_id), round_id


def on_rate(ack, body: dict, action: dict, context, client: WebClient) -> None:
    """The Rate button: the interviewer gets the modal; anyone else is told why not."""
    ack()
    g, user = context["gauntlet"], body["user"]["id"]
    workspace, key = _workspace(body, context), _reply_key(body)
    channel = (body.get("channel") or {}).get("id")
    try:
        session_id, round_id = _parse_target(action.get("value") or "")
        session = peers.get_session(g.db, session_id)
        rnd = g.engine.content.rounds[round_id]
    except (PeerError, ValueError, KeyError):
        _tell(g, workspace, user, "That Rate button is out of date.", key=key)
        return
    problem = None
    if user != session.interviewer_user:
        problem = f"Only {bk.mention(session.interviewer_user)}, the interviewer of this turn, rates it."
    elif round_id in peers.rated_rounds(g.db, session_id):
        problem = f"You already rated {rnd.title}; my view is next to yours in the thread."
    if problem is not None:
        if channel:
            from bot.store.db import session_scope

            with session_scope(g.db) as s:
                _owe(s, key=key, workspace=session.workspace, mode="ephemeral", user=user, channel=channel,
                     thread_ts=session.thread_ts, blocks=bk.sections(problem), text=problem)
            _wake(g)
        else:
            _tell(g, session.workspace, user, problem, key=key)
        return
    labels = _labels(g)
    # A modal needs the request's trigger_id within seconds: it is opened now, not owed.
    client.views_open(trigger_id=body["trigger_id"], view=pb.rating_modal(
        session_id=session_id, round_id=round_id, title=rnd.title,
        dimensions=[(key, labels.get(key, key)) for key in rnd.weighs]))


def on_rating_submitted(ack, body: dict, view: dict, context, client: WebClient) -> None:
    """Store the rating (problems go back into the modal) and owe both views in the thread with it."""
    g, user = context["gauntlet"], body["user"]["id"]
    try:
        session_id, round_id = _parse_target(view.get("private_metadata") or "")
    except ValueError:
        ack(response_action="errors",
            errors={pb.VERDICT_BLOCK: "This form is out of date; press Rate again."})
        return
    verdict, dims = pb.read_rating((view.get("state") or {}).get("values") or {})
    labels = _labels(g)

    def owe(s, rating) -> None:
        session = s.get(PeerSession, session_id)
        shown = peers.side_by_side_in(s, rating, g.engine.content, labels)
        where = {"mode": "thread", "channel": session.channel, "thread_ts": session.thread_ts} \
            if session.channel and session.thread_ts else {"mode": "dm"}
        _owe(s, key=f"peer-rating:{rating.id}", workspace=session.workspace, user=user,
             blocks=pb.side_by_side_blocks(shown), text=pb.side_by_side_text(shown), **where)

    try:
        peers.record_rating(g.db, session_id, round_id, user, verdict or "", dims, g.engine.content,
                            now=_now(), then=owe)
    except PeerError as exc:
        ack(response_action="errors", errors={pb.VERDICT_BLOCK: str(exc)[:150]})
        return
    ack()
    _wake(g)
