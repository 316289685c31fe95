"""Interview glue shared by the listeners and the workers.

Two halves, so nothing Slack was told 200 for is lost and nothing is done twice:

- `record_*` run while the request is in the app, before its 200: the delivery goes into the inbox,
  unique on its event id and on (workspace, channel, ts), so a retry or another replica finds the row.
- `process` runs on a worker that claimed the row: it finds or starts the interview, records and grades
  the answer, and writes what the person is owed into the outbox, all committed together with the
  inbox row marked done. The outbox is delivered separately (`bot.slack.worker`).
"""

from __future__ import annotations

import logging
import uuid

from slack_sdk import WebClient
from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.boards import leaderboard
from bot.daily import channels, daily
from bot.interview.engine import COMMANDS, InterviewError, Question, Turn
from bot.pipeline import queue
from bot.pipeline.queue import InboxItem
from bot.slack import blocks as bk
from bot.slack.errors import explain, is_terminal, slack_error_code
from bot.slack.owed import dm_conv, owe_message, thread_conv
from bot.slack.post import open_dm, post
from bot.slack.text import readable
from bot.store.channels import as_utc
from bot.store.models import Answer

log = logging.getLogger("gauntlet.slack")

COHORT_SOURCE = "cohort"
NO_DRILL = ("No drill is running. Start one with `/gauntlet drill` (or `/gauntlet drill sql` for one "
            "round), or with the button on my Home tab.")
FILES_NOT_GRADED = ("I grade the words of your message only: the file you attached was not read. "
                    "If it holds part of your answer, type that part as a reply.")
FILE_ONLY = ("I can't grade a file on its own: type your answer as a message here (the file was not read).")
# A reply also sent to the channel, and a reply with a file attached, are still the person's answer.
ANSWER_SUBTYPES = (None, "thread_broadcast", "file_share")


# ---- before the 200: the inbox ------------------------------------------------------------------------

def record_message(g, *, workspace: str, event: dict, event_id: str | None) -> queue.Recorded | None:
    """Put a message the app will act on into the inbox; None when it is not one (someone else's thread,
    a bot, a join). Raises on a database failure, so the caller can ask the person to resend."""
    if event.get("subtype") == "message_changed":
        return _record_edit(g, workspace=workspace, event=event, event_id=event_id)
    text, user, channel = event.get("text") or "", event.get("user"), event.get("channel")
    subtype = event.get("subtype")
    has_files = subtype == "file_share" or bool(event.get("files"))
    well_formed = isinstance(text, str) and all(isinstance(v, str) and v.strip() for v in (user, channel))
    if subtype not in ANSWER_SUBTYPES or event.get("bot_id") or not well_formed:
        return None
    # Decoded here, at the edge: the grader and the database see what the person typed.
    text = readable(text)
    if not text.strip() and not has_files:
        return None
    ts, thread_ts = event.get("ts"), event.get("thread_ts")
    if not isinstance(ts, str) or not (thread_ts is None or isinstance(thread_ts, str)):
        return None  # Slack always sends a message's ts as a string: this is not a message from Slack
    payload = {"text": text, "user": user, "channel": channel, "ts": ts, "thread_ts": thread_ts,
               "has_files": has_files}
    if event.get("channel_type") == "im":
        conv = dm_conv(workspace, user)
        only_if = None
    elif thread_ts and thread_ts != ts:
        # Any thread in a channel that gets prompts: the worker checks it is a prompt's thread. Checking
        # here could miss a reply that arrives before a prompt's ts is written down.
        conv = thread_conv(workspace, channel, thread_ts, user)
        only_if = queue.PromptChannel(workspace, channel)
    else:
        return None  # a top-level message
    return queue.record(g.db, kind="answer", workspace=workspace, user_id=user, conv=conv, payload=payload,
                        event_id=event_id, channel=channel, ts=ts, only_if=only_if)


def record_peer_message(g, *, workspace: str, event: dict, event_id: str | None) -> queue.Recorded | None:
    """Put a reply in a peer mock's group-DM thread into the inbox (a worker checks it is the
    interviewee's); None when it is not a message to act on, or the thread is no peer mock's."""
    from bot.store.peers import PeerSession

    text, user, channel = event.get("text") or "", event.get("user"), event.get("channel")
    ts, thread_ts = event.get("ts"), event.get("thread_ts")
    well_formed = isinstance(text, str) and all(isinstance(v, str) and v.strip()
                                                for v in (user, channel, ts, thread_ts))
    if event.get("subtype") not in ANSWER_SUBTYPES or event.get("bot_id") or not well_formed:
        return None
    text = readable(text)
    if not text.strip():
        return None
    # The session's thread, or one still being opened in this group DM (its ts not written down yet:
    # the worker waits for it, as for a daily prompt's).
    session = exists().where(PeerSession.workspace == workspace, PeerSession.channel == channel,
                             (PeerSession.thread_ts == thread_ts) | (PeerSession.thread_ts.is_(None)))
    payload = {"text": text, "user": user, "channel": channel, "ts": ts, "thread_ts": thread_ts}
    return queue.record(g.db, kind="peer", workspace=workspace, user_id=user,
                        conv=thread_conv(workspace, channel, thread_ts, user), payload=payload,
                        event_id=event_id, channel=channel, ts=ts, only_if=session)


def _record_edit(g, *, workspace: str, event: dict, event_id: str | None) -> queue.Recorded | None:
    message, previous = event.get("message") or {}, event.get("previous_message") or {}
    user, channel, ts = message.get("user"), event.get("channel"), message.get("ts")
    unchanged = message.get("text") == previous.get("text")
    if message.get("bot_id") or not user or not channel or not ts or unchanged:
        return None  # bot messages, and changes that are not an edit of the words (reply counts, unfurls)
    # Only an edit of an answer, by its author, is taken.
    answer = exists().where(Answer.workspace == workspace, Answer.channel == channel, Answer.message_ts == ts,
                            Answer.user_id == user)
    edited_at = (message.get("edited") or {}).get("ts") or event.get("ts") or ""
    thread_ts = message.get("thread_ts")
    conv = (dm_conv(workspace, user) if event.get("channel_type") == "im" or not thread_ts
            else thread_conv(workspace, channel, thread_ts, user))
    return queue.record(g.db, kind="edit", workspace=workspace, user_id=user, conv=conv,
                        payload={"text": readable(message.get("text") or ""), "user": user,
                                 "channel": channel, "ts": ts},
                        event_id=event_id, channel=channel, ts=f"{ts}/{edited_at}", only_if=answer)


# ---- on a worker: the work, and what it owes --------------------------------------------------------

class PromptNotReady(Exception):
    """A reply arrived before its prompt's ts was written down: tried again in a moment."""


class Work:
    """One claimed inbox row being handled by `worker`."""

    def __init__(self, g, item: InboxItem, worker: str):
        self.g, self.item, self.worker = g, item, worker
        self.workspace = item.workspace
        self.p = item.payload

    def done(self, s: Session, turn: Turn | None = None) -> None:
        """Mark the row done inside the transaction that did its work (fenced on our lease)."""
        queue.finish_inbox(s, self.item.id, self.worker)

    def finish(self, owe=None) -> None:
        """Work that changed nothing: owe a message (optional) and mark the row done, together."""
        from bot.store.db import session_scope

        with session_scope(self.g.db) as s:
            if owe is not None:
                owe(s)
            self.done(s)


def process(g, item: InboxItem, worker: str) -> None:
    """Handle one claimed inbox row; raises (and rolls back) on failure so the row is tried again."""
    work = Work(g, item, worker)
    if item.kind == "edit":
        _edit(work)
    elif item.kind == "answer" and item.conv.startswith(f"{item.workspace}:dm:"):
        _dm_answer(work)
    elif item.kind == "answer":
        _thread_answer(work)
    elif item.kind == "drill":
        _drill(work)
    elif item.kind == "received":
        _received(work)
    elif item.kind == "peer":
        from bot.slack.peers import take_answer

        take_answer(work)
    else:
        raise ValueError(f"unknown inbox kind {item.kind!r}")


def _thread_answer(w: Work) -> None:
    g, p = w.g, w.p
    user, channel, thread_ts = p["user"], p["channel"], p["thread_ts"]
    prompt = daily.prompt_post_for_thread(g.db, w.workspace, channel, thread_ts)
    if prompt is None and daily.prompt_being_posted(g.db, w.workspace, channel):
        raise PromptNotReady(f"inbox #{w.item.id}: the channel's prompt is still being posted")
    if prompt is None:
        w.finish()  # a thread the gauntlet did not start
        return
    mode = _feedback_mode(g, w.workspace, channel)
    where = {"mode": mode, "channel": channel, "thread_ts": thread_ts, "user": user, "mention": True}
    latest = g.engine.find_latest(w.workspace, user, source="thread", channel=channel, thread_ts=thread_ts)
    if latest is not None and latest.status != "active":
        answer = g.engine.answer_for_event(w.item.event_id) if w.item.event_id else None
        if answer is not None and answer.status == "graded":
            w.finish()  # this very message finished the interview; its replies went with its grade
            return
        # One interview per person per prompt; more replies get a pointer, not a new interview.
        blocks = bk.sections(bk.interview_over_text(latest.status, latest.score))
        w.finish(lambda s: owe_message(s, w, key=f"inbox:{w.item.id}:over", mode="ephemeral",
                                       channel=channel, thread_ts=thread_ts, user=user,
                                       blocks=blocks, text="Your interview in this thread is over."))
        return
    if latest is None and not p["text"].strip():
        # A file with no words starts nothing: the person hears how to answer instead.
        w.finish(lambda s: owe_message(s, w, key=f"inbox:{w.item.id}:file-only", mode="ephemeral",
                                       channel=channel, thread_ts=thread_ts, user=user,
                                       blocks=bk.sections(FILE_ONLY), text=FILE_ONLY))
        return
    interview_id = latest.id if latest is not None else _start_thread(g, w, prompt.prompt_id)
    _take(w, interview_id, where)


def _start_thread(g, w: Work, prompt_id: str | None) -> int:
    p = w.p
    try:
        return g.engine.start(workspace=w.workspace, user_id=p["user"], source="thread", channel=p["channel"],
                              thread_ts=p["thread_ts"], prompt_id=prompt_id).interview_id
    except IntegrityError:
        # Someone else started it a moment ago (the database allows one active interview here).
        active = g.engine.find_active(w.workspace, p["user"], source="thread", channel=p["channel"],
                                      thread_ts=p["thread_ts"])
        if active is None:
            raise
        return active.id


def _dm_answer(w: Work) -> None:
    g, p = w.g, w.p
    user, channel = p["user"], p["channel"]
    where = {"mode": "thread", "channel": channel, "thread_ts": None, "user": user, "mention": False}
    # A cohort drill takes the message when it is the person's newest open interview in the DM.
    drill = g.engine.find_active(w.workspace, user, source=COHORT_SOURCE)
    own = g.engine.find_active(w.workspace, user, source="dm")
    target = drill if drill is not None and (own is None or own.id < drill.id) else own
    if target is None:
        thread = _thread_answered_in_dm(g, w.workspace, user)
        if thread is not None:
            # Its questions come to the DM (feedback mode dm), so a reply here answers it, and its
            # feedback comes here too.
            _take(w, thread.id, {"mode": "dm", "channel": thread.channel, "thread_ts": thread.thread_ts,
                                 "user": user, "mention": False})
            return
        answer = g.engine.answer_for_event(w.item.event_id) if w.item.event_id else None
        if answer is not None and answer.status == "graded":
            w.finish()  # this message ended the drill; its replies went out with its grade
            return
        w.finish(lambda s: owe_message(s, w, key=f"inbox:{w.item.id}:nodrill", mode="channel",
                                       channel=channel, thread_ts=None, user=user,
                                       blocks=bk.sections(NO_DRILL), text="No drill is running."))
        return
    _take(w, target.id, where)


def adopt_received(g) -> int:
    """Answers the synchronous path before the inbox recorded and never graded (the process died
    between the two) are taken into the inbox, one row each (`received:<answer id>`, so however many
    processes start at once, each is taken once); a worker grades each once and owes its reply.
    Answers recorded through the inbox are left alone: their own row is still there to be retried.
    Returns how many rows this call added."""
    from sqlalchemy import and_, or_, select

    from bot.store.models import Interview

    a, i = Answer.__table__, InboxItem.__table__
    covered = exists().where(or_(
        and_(a.c.event_id.is_not(None), i.c.event_id == a.c.event_id),
        and_(i.c.workspace == a.c.workspace, i.c.channel == a.c.channel, i.c.ts == a.c.message_ts)))
    with g.db.connect() as conn:
        rows = conn.execute(
            select(a.c.id, a.c.workspace, Interview.user_id, Interview.source, Interview.channel,
                   Interview.thread_ts)
            .join(Interview, Interview.id == a.c.interview_id)
            .where(a.c.status == "received", ~covered).order_by(a.c.id)).all()
    added = 0
    for answer_id, workspace, user, source, channel, thread_ts in rows:
        in_thread = source in ("thread", "peer") and channel and thread_ts
        conv = thread_conv(workspace, channel, thread_ts, user) if in_thread else dm_conv(workspace, user)
        recorded = queue.record(g.db, kind="received", workspace=workspace, user_id=user, conv=conv,
                                payload={"answer_id": answer_id}, event_id=f"received:{answer_id}")
        added += bool(recorded is not None and recorded.new)
    if added:
        log.info("took %d answer(s) recorded before the inbox, never graded, into the inbox", added)
    return added


def _received(w: Work) -> None:
    """Grade an answer recorded before the inbox (`adopt_received`) and owe its reply where the
    interview's replies go."""
    from bot.store.models import Answer as AnswerRow

    g = w.g
    with Session(g.db) as s:
        answer = s.get(AnswerRow, w.p["answer_id"])
    if answer is None or answer.status != "received":
        w.finish()  # graded meanwhile, or forgotten
        return
    interview = g.engine.get(answer.interview_id)
    user = interview.user_id
    if interview.source == "peer":
        from sqlmodel import select as sm_select

        from bot.slack import peers as peer_slack
        from bot.store.peers import PeerSession

        with Session(g.db) as s:
            session = s.exec(sm_select(PeerSession).where(PeerSession.interview_id == interview.id)).first()
        if session is None:
            w.finish()
            return
        then = peer_slack.replies_owed(w, session, channel=interview.channel, thread_ts=interview.thread_ts,
                                       user=user)
    else:
        if interview.source == "thread":
            where = {"mode": _feedback_mode(g, w.workspace, interview.channel), "channel": interview.channel,
                     "thread_ts": interview.thread_ts, "user": user, "mention": True}
        else:  # a drill in the DM (own or a cohort's)
            where = {"mode": "thread", "channel": interview.channel, "thread_ts": None, "user": user,
                     "mention": False}

        def then(s: Session, turn: Turn) -> None:
            owe_turn(s, w, turn, **where)
            w.done(s)

    if g.engine.grade_answer(answer.id, then=then).duplicate:
        w.finish()


def _thread_answered_in_dm(g, workspace: str, user: str):
    """The person's open thread interview whose channel sends feedback (and so its questions) to their
    DM: a reply in the DM answers it."""
    interview = g.engine.find_active(workspace, user, source="thread")
    if interview is not None and _feedback_mode(g, workspace, interview.channel) == "dm":
        return interview
    return None


def _take(w: Work, interview_id: int, where: dict) -> None:
    """Record (once) and grade the message, or run the command; the turn's replies are owed in the same
    transaction that marks the inbox row done. Files are never graded, and the person is told so."""
    g, p = w.g, w.p
    text = p["text"]
    # an ephemeral note in a channel thread, else where the turn's feedback goes
    note_mode = "ephemeral" if where["mode"] == "thread" and where["thread_ts"] else where["mode"]
    if not text.strip():
        w.finish(lambda s: owe_message(s, w, key=f"inbox:{w.item.id}:file-only", mode=note_mode,
                                       channel=where["channel"], thread_ts=where["thread_ts"],
                                       user=where["user"], blocks=bk.sections(FILE_ONLY), text=FILE_ONLY))
        return

    def then(s: Session, turn: Turn) -> None:
        owe_turn(s, w, turn, **where)
        if p.get("has_files"):
            owe_message(s, w, key=f"inbox:{w.item.id}:files", mode=note_mode, channel=where["channel"],
                        thread_ts=where["thread_ts"], user=where["user"],
                        blocks=bk.sections(FILES_NOT_GRADED), text=FILES_NOT_GRADED)
        w.done(s)

    if text.strip().lower().lstrip("!/") in COMMANDS:
        command = text.strip().lower().lstrip("!/")
        try:
            getattr(g.engine, command)(interview_id, then=then)
        except InterviewError:
            w.finish()  # the interview ended meanwhile: nothing left to skip or stop
        return
    answer_id = g.engine.record_answer(interview_id, text, event_id=w.item.event_id, message_ts=p.get("ts"))
    if answer_id is None:  # recorded by an earlier attempt at this row
        answer = g.engine.answer_for_event(w.item.event_id)
        if answer is None:
            raise RuntimeError(f"inbox #{w.item.id}: answer neither new nor on record")
        answer_id = answer.id
    turn = g.engine.grade_answer(answer_id, then=then)
    if turn.duplicate:
        w.finish()  # graded before: its replies were committed with that grade


def _edit(w: Work) -> None:
    g, p = w.g, w.p

    def then(s: Session, turn: Turn) -> None:
        interview = g.engine.get(turn.interview_id)
        if interview.source == "peer":
            w.done(s)  # a peer mock's grades stay hidden until the interviewer rates (bot.slack.peers)
            return
        in_thread = interview.source == "thread"
        mode = _feedback_mode(g, interview.workspace, interview.channel) if in_thread else "thread"
        blocks = bk.grade_blocks(turn.grade, user_id=interview.user_id if in_thread else None,
                                 best_score=turn.best_score, attempt=turn.attempt, notice=turn.notice)
        owe_message(s, w, key=f"inbox:{w.item.id}:regrade", mode=mode,
                    channel=interview.channel or p["channel"], user=interview.user_id,
                    thread_ts=interview.thread_ts if in_thread else None, blocks=blocks,
                    text=bk.turn_text(turn))
        w.done(s)

    turn = g.engine.regrade_edit(p["ts"], p["text"], workspace=w.workspace, channel=p["channel"],
                                 user_id=p["user"], then=then)
    if turn is None or turn.grade is None:
        w.finish()  # the round has closed (its grade stands), or the answer is gone


def _drill(w: Work) -> None:
    """Start a drill in the person's DM (from `/gauntlet drill` or the Home tab's button)."""
    g, p = w.g, w.p
    user, timed = p["user"], bool(p.get("timed"))
    client = g.client_for(w.workspace) if g.client_for is not None else g.client
    try:
        dm = open_dm(client, user)
    except Exception as exc:
        if slack_error_code(exc) is None:
            raise  # a bug: retried, then the person is told
        # Slack refused (their Messages tab is off, the app is gone) or stayed down through the client's
        # retries: the person hears why and what to do, and asks again; no drill starts behind their back.
        log.info("inbox #%d: could not open the DM for a drill (%s)", w.item.id, slack_error_code(exc))
        problem = explain(exc)
        if p.get("response_url"):
            w.finish(lambda s: _owe_response(s, w, problem))
        else:
            # The Home tab's button has no response_url and the DM is what failed: the Home tab itself
            # is republished with the reason at the top, so the press is not met with silence.
            notice = _home_notice(problem)
            w.finish(lambda s: _owe_home(s, w, notice))
        return
    previous = g.engine.find_active(w.workspace, user, source="dm")
    try:
        if previous is not None and as_utc(previous.created_at) >= as_utc(w.item.created_at):
            question = g.engine.current_question(previous.id)  # started by an earlier attempt at this row
        else:
            if previous is not None:
                g.engine.stop(previous.id)  # a new drill replaces the unfinished one; answers stay on record
            question = g.engine.start(workspace=w.workspace, user_id=user, source="dm",
                                      level=p.get("level") or "mid", only_round=p.get("round"), channel=dm,
                                      timed=timed)
    except InterviewError as exc:
        problem = str(exc)
        w.finish(lambda s: _owe_response(s, w, problem))
        return
    intro = "A new drill. Reply here to answer; `skip`, `retry` and `stop` work at any time."

    def owe(s: Session) -> None:
        owe_message(s, w, key=f"inbox:{w.item.id}:question", mode="channel", channel=dm, thread_ts=None,
                    user=user, blocks=[*bk.sections(intro), *bk.question_blocks(question)],
                    text=bk.question_title(question))
        clock = " The clock is running: about two minutes an answer, 20 minutes in all." if timed else ""
        _owe_response(s, w, f"Your drill is waiting in our DM: {question.title}.{clock}")

    w.finish(owe)


def _home_notice(problem: str) -> str:
    return (f"*I couldn't start your drill:* I could not open our direct messages. {bk.escape(problem)} "
            "Once that is fixed, press *Start a drill* again (or type `/gauntlet drill` in any channel).")


def _owe_home(s: Session, w: Work, notice: str) -> None:
    from bot.slack.listeners.events import home_view_for

    view = home_view_for(w.g, w.workspace, w.item.user_id, notice=notice)
    queue.owe(s, key=f"inbox:{w.item.id}:home", workspace=w.workspace,
              conv=f"{w.workspace}:home:{w.item.user_id}", mode="home", user_id=w.item.user_id,
              text=notice, blocks=view["blocks"])


def _owe_response(s: Session, w: Work, text: str) -> None:
    url = w.p.get("response_url")
    if url:
        queue.owe(s, key=f"inbox:{w.item.id}:response", workspace=w.workspace,
                  conv=f"{w.workspace}:response:{w.item.user_id}", mode="response", response_url=url,
                  user_id=w.item.user_id, text=text,
                  blocks=[b.to_dict() for b in bk.sections(bk.escape(text))])


# ---- what is owed -------------------------------------------------------------------------------------

def owe_turn(s: Session, w: Work, turn: Turn, *, mode: str, channel: str, thread_ts: str | None, user: str,
             mention: bool) -> None:
    """A turn's reply (and its scorecard when the interview ended), keyed on the inbox row."""
    key = f"inbox:{w.item.id}"
    owe_message(s, w, key=f"{key}:turn", mode=mode, channel=channel, thread_ts=thread_ts, user=user,
                blocks=bk.turn_blocks(turn, user_id=user if mention else None), text=bk.turn_text(turn))
    if turn.scorecard is not None:
        change = leaderboard.rank_change(w.g.db, w.workspace, user, turn.interview_id, period="week",
                                         session=s)
        owe_message(s, w, key=f"{key}:scorecard", mode=mode, channel=channel, thread_ts=thread_ts, user=user,
                    blocks=bk.scorecard_blocks(turn.scorecard, user_id=user, rank_note=change.describe()),
                    text=f"Scorecard: {turn.scorecard.score}/100")


def _feedback_mode(g, workspace: str, channel: str | None) -> str:
    if channel is None:
        return "thread"
    return channels.feedback_mode(g.db, workspace, channel)


def start_drill(g, client: WebClient, *, workspace: str, user_id: str, round_id: str | None = None,
                level: str = "mid", timed: bool = False) -> Question:
    """Open (or reuse) the DM with the person and ask the first question there, at once.

    For callers outside a request (tools, tests); requests go through the inbox (`record_drill`)."""
    dm = open_dm(client, user_id)
    previous = g.engine.find_active(workspace, user_id, source="dm")
    if previous is not None:
        g.engine.stop(previous.id)
    question = g.engine.start(workspace=workspace, user_id=user_id, source="dm", level=level,
                              only_round=round_id, channel=dm, timed=timed)
    intro = "A new drill. Reply here to answer; `skip`, `retry` and `stop` work at any time."
    post(client, channel=dm, blocks=[*bk.sections(intro), *bk.question_blocks(question)],
         text=bk.question_title(question))
    return question


def record_drill(g, *, workspace: str, user_id: str, round_id: str | None, level: str,
                 request_id: str, response_url: str | None = None, timed: bool = False) -> queue.Recorded:
    """Put a request for a new drill into the inbox (before the command or button is acknowledged)."""
    return queue.record(g.db, kind="drill", workspace=workspace, user_id=user_id,
                        conv=dm_conv(workspace, user_id),
                        event_id=f"drill:{request_id or uuid.uuid4().hex}",
                        payload={"user": user_id, "round": round_id, "level": level, "timed": timed,
                                 "response_url": response_url})


def scheduled_poster(g):
    """The poster background work uses: each workspace's own client, and a channel that refuses for
    good (archived, deleted, the app removed or uninstalled) turns its schedule off, tells whoever set
    it once, and fails in one line instead of a traceback on every catch-up."""
    from bot.daily.daily import PostRefused
    from bot.slack import lifecycle

    def poster(workspace: str, channel: str, prompt) -> str:
        try:
            return prompt_poster(g.client_for(workspace))(workspace, channel, prompt)
        except Exception as exc:
            if slack_error_code(exc) is None:
                raise  # a bug, not Slack: logged with its traceback
            if is_terminal(exc):
                lifecycle.schedule_refused(g.db, g.client_for, workspace, channel, exc)
            raise PostRefused(explain(exc)) from None

    return poster


def prompt_poster(client: WebClient):
    """The poster the daily-prompt code calls: post the prompt text to a channel, return its ts."""

    def poster(workspace: str, channel: str, prompt) -> str:
        return post(client, channel=channel, blocks=bk.prompt_blocks(prompt.text), text=prompt.text)[0]

    return poster
