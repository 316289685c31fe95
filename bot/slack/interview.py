"""Interview glue shared by the listeners: find or start the person's interview, hand the message to
the engine, render the turn and deliver it where the channel wants feedback."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import channels, daily, leaderboard
from bot.engine import COMMANDS, Question, Turn
from bot.slack import blocks as bk
from bot.slack.post import deliver, open_dm, post
from bot.store.channels import as_utc
from bot.store.models import utcnow

# One person's messages in one conversation are handled one at a time, so a retried delivery that
# arrives while the first is still being graded sees the first's interview instead of starting another.
# A fixed set of striped locks keeps memory flat however many people and threads there are.
_LOCKS = tuple(threading.Lock() for _ in range(64))


log = logging.getLogger("gauntlet.slack")


def _lock(*key: str | None) -> threading.Lock:
    return _LOCKS[hash(key) % len(_LOCKS)]


class AnswerSaved(Exception):
    """The answer is on record but grading it failed (the database went away in between): it is graded
    and answered by the pending-answer sweep once the database is back, so the person need not resend."""

    def __init__(self, answer_id: int):
        super().__init__(f"answer #{answer_id} recorded, grading deferred")
        self.answer_id = answer_id


def _take(g, interview_id: int, text: str, *, event_id: str | None, message_ts: str | None) -> Turn:
    """The engine's handle(), split so a failure after the answer is recorded is told apart."""
    if text.strip().lower().lstrip("!/") in COMMANDS:
        return g.engine.handle(interview_id, text, event_id=event_id, message_ts=message_ts)
    answer_id = g.engine.record_answer(interview_id, text, event_id=event_id, message_ts=message_ts)
    if answer_id is None:
        return Turn(interview_id=interview_id, duplicate=True)
    try:
        return g.engine.grade_answer(answer_id)
    except DBAPIError as exc:
        raise AnswerSaved(answer_id) from exc


# ---- drills in a DM -------------------------------------------------------------------------------

def start_drill(g, client: WebClient, *, workspace: str, user_id: str, round_id: str | None = None,
                level: str = "mid") -> Question:
    """Open (or reuse) the DM with the person and ask the first question there."""
    dm = open_dm(client, user_id)
    with _lock(workspace, user_id, "dm"):
        previous = g.engine.find_active(workspace, user_id, source="dm")
        question = g.engine.start(workspace=workspace, user_id=user_id, source="dm", level=level,
                                  only_round=round_id, channel=dm)
        if previous is not None:
            # A new drill replaces the unfinished one; its answers stay on record.
            g.engine.stop(previous.id)
    intro = "A new drill. Reply here to answer; `skip`, `retry` and `stop` work at any time."
    post(client, channel=dm,
         blocks=[*bk.sections(intro), *bk.question_blocks(question)],
         text=bk.question_title(question))
    return question


def on_dm_answer(g, client: WebClient, *, workspace: str, event: dict, event_id: str | None) -> None:
    user, channel = event["user"], event["channel"]
    with _lock(workspace, user, "dm"):
        active = g.engine.find_active(workspace, user, source="dm")
        if active is None:
            post(client, channel=channel, blocks=bk.sections(
                "No drill is running. Start one with `/gauntlet drill` (or `/gauntlet drill sql` "
                "for one round), or with the button on my Home tab."), text="No drill is running.")
            return
        turn = _take(g, active.id, event["text"], event_id=event_id, message_ts=event.get("ts"))
    if turn.duplicate:
        return
    _say_turn(g, client, turn, mode="thread", channel=channel, thread_ts=None, user=user,
              workspace=workspace, mention=False)


# ---- threaded interviews under a daily prompt -----------------------------------------------------

def on_thread_reply(g, client: WebClient, *, workspace: str, event: dict, event_id: str | None) -> None:
    user, channel, thread_ts = event["user"], event["channel"], event["thread_ts"]
    prompt = daily.prompt_post_for_thread(g.db, workspace, channel, thread_ts)
    if prompt is None:
        return  # a thread the gauntlet did not start
    with _lock(workspace, user, channel, thread_ts):
        latest = g.engine.find_latest(workspace, user, source="thread", channel=channel, thread_ts=thread_ts)
        if latest is not None and latest.status != "active":
            if not (event_id and g.engine.seen_event(event_id)):
                # One interview per person per prompt; more replies get a pointer, not a new interview.
                deliver(client, mode="ephemeral", channel=channel, user=user, thread_ts=thread_ts,
                        blocks=bk.sections(bk.interview_over_text(latest.status, latest.score)),
                        text="Your interview in this thread is over.")
            return
        active = latest
        if active is None:
            question = g.engine.start(workspace=workspace, user_id=user, source="thread", channel=channel,
                                      thread_ts=thread_ts, prompt_id=prompt.prompt_id)
            interview_id = question.interview_id
        else:
            interview_id = active.id
        turn = _take(g, interview_id, event["text"], event_id=event_id, message_ts=event.get("ts"))
    if turn.duplicate:
        return
    _say_turn(g, client, turn, mode=_feedback_mode(g, workspace, channel), channel=channel,
              thread_ts=thread_ts, user=user, workspace=workspace, mention=True)


def on_edit(g, client: WebClient, event: dict) -> None:
    """An edited answer is graded again while its round is open; older edits are left alone."""
    message, previous = event.get("message") or {}, event.get("previous_message") or {}
    if message.get("bot_id") or not message.get("user") or message.get("text") == previous.get("text"):
        return  # bot messages, and changes that are not an edit of the words (reply counts, unfurls)
    turn = g.engine.regrade_edit(message["ts"], message.get("text") or "")
    if turn is None or turn.grade is None:
        return
    interview = g.engine.get(turn.interview_id)
    if interview.source == "peer":
        return  # a peer mock's grades stay hidden until the interviewer rates (bot.slack.peers)
    in_thread = interview.source == "thread"
    mode = _feedback_mode(g, interview.workspace, interview.channel) if in_thread else "thread"
    blocks = bk.grade_blocks(turn.grade, user_id=interview.user_id if in_thread else None,
                             best_score=turn.best_score, attempt=turn.attempt, notice=turn.notice)
    deliver(client, mode=mode, channel=interview.channel or event["channel"], user=interview.user_id,
            blocks=blocks, text=bk.turn_text(turn), thread_ts=interview.thread_ts if in_thread else None)


# ---- shared ---------------------------------------------------------------------------------------

def _say_turn(g, client: WebClient, turn: Turn, *, mode: str, channel: str, thread_ts: str | None,
              user: str, workspace: str, mention: bool) -> None:
    who = user if mention else None
    deliver(client, mode=mode, channel=channel, user=user, blocks=bk.turn_blocks(turn, user_id=who),
            text=bk.turn_text(turn), thread_ts=thread_ts)
    if turn.scorecard is not None:
        change = leaderboard.rank_change(g.db, workspace, user, turn.interview_id, period="week")
        deliver(client, mode=mode, channel=channel, user=user, thread_ts=thread_ts,
                blocks=bk.scorecard_blocks(turn.scorecard, user_id=user, rank_note=change.describe()),
                text=f"Scorecard: {turn.scorecard.score:02d}/100")


def _feedback_mode(g, workspace: str, channel: str | None) -> str:
    if channel is None:
        return "thread"
    return channels.feedback_mode(g.db, workspace, channel)


def resume_pending(g, client: WebClient, *, older_than: timedelta | None = None) -> int:
    """Grade answers recorded but never graded (the process stopped in between) and answer them.

    `older_than` leaves alone answers a listener may be grading right now."""
    done = 0
    cutoff = utcnow() - older_than if older_than is not None else None
    for answer in g.engine.pending_answers():
        if cutoff is not None and as_utc(answer.created_at) > cutoff:
            continue
        interview = g.engine.get(answer.interview_id)
        if interview.source not in ("thread", "dm", "cohort") or interview.channel is None:
            continue  # the terminal drill's leftovers are its own to resume
        try:
            turn = g.engine.grade_answer(answer.id)
        except IntegrityError:
            continue  # another replica graded it at the same moment (the grade is unique per answer)
        if turn.duplicate:
            continue
        client_here = g.client_for(interview.workspace) if getattr(g, "client_for", None) else client
        in_thread = interview.source == "thread"  # DM and cohort drills answer in their DM
        mode = _feedback_mode(g, interview.workspace, interview.channel) if in_thread else "thread"
        _say_turn(g, client_here, turn, mode=mode, channel=interview.channel,
                  thread_ts=interview.thread_ts if in_thread else None, user=interview.user_id,
                  workspace=interview.workspace, mention=in_thread)
        done += 1
    return done


def start_pending_sweep(g, client: WebClient, *, every: float = 60.0,
                        older_than: timedelta = timedelta(seconds=30)) -> threading.Event:
    """Every `every` seconds, grade answers left ungraded by a database outage; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                resumed = resume_pending(g, client, older_than=older_than)
            except Exception:
                log.exception("grading left-over answers failed; trying again in %.0f s", every)
                continue
            if resumed:
                log.info("Graded %d answer(s) left over from a database outage", resumed)

    threading.Thread(target=loop, name="pending-sweep", daemon=True).start()
    return stop


def prompt_poster(client: WebClient):
    """The poster the daily-prompt code calls: post the prompt text to a channel, return its ts."""

    def poster(workspace: str, channel: str, prompt) -> str:
        return post(client, channel=channel, blocks=bk.prompt_blocks(prompt.text), text=prompt.text)[0]

    return poster
