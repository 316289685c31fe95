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
from bot.slack.errors import is_terminal, slack_error_code
from bot.slack.post import deliver, open_dm, post
from bot.slack.text import readable
from bot.store.channels import as_utc
from bot.store.models import utcnow

# One person's messages in one conversation are handled one at a time, so a retried delivery that
# arrives while the first is still being graded sees the first's interview instead of starting another.
# A fixed set of striped locks keeps memory flat however many people and threads there are.
_LOCKS = tuple(threading.Lock() for _ in range(64))


log = logging.getLogger("gauntlet.slack")

FILES_NOT_GRADED = ("I grade the words of your message only: the file you attached was not read. "
                    "If it holds part of your answer, type that part as a reply.")
FILE_ONLY = ("I can't grade a file on its own: type your answer as a message here (the file was not read).")
NO_DRILL = ("No drill is running. Start one with `/gauntlet drill` (or `/gauntlet drill sql` "
            "for one round), or with the button on my Home tab.")


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
                level: str = "mid", timed: bool = False) -> Question:
    """Open (or reuse) the DM with the person and ask the first question there."""
    dm = open_dm(client, user_id)
    with _lock(workspace, user_id, "dm"):
        previous = g.engine.find_active(workspace, user_id, source="dm")
        question = g.engine.start(workspace=workspace, user_id=user_id, source="dm", level=level,
                                  only_round=round_id, channel=dm, timed=timed)
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
            thread = _thread_answered_in_dm(g, workspace, user)
            if thread is None:
                # A retried delivery of the same message does not get the direction twice.
                if event_id is None or g.engine.claim_event(event_id):
                    post(client, channel=channel, blocks=bk.sections(NO_DRILL), text="No drill is running.",
                         paced=False)
                return
        elif not event["text"].strip():
            _say_files_only(g, client, event_id, mode="thread", channel=channel, user=user)
            return
        else:
            turn = _take(g, active.id, event["text"], event_id=event_id, message_ts=event.get("ts"))
    if active is None:
        _answer_thread_from_dm(g, client, thread, workspace=workspace, event=event, event_id=event_id)
        return
    if turn.duplicate:
        return
    _say_turn(g, client, turn, mode="thread", channel=channel, thread_ts=None, user=user,
              workspace=workspace, mention=False)
    if event.get("has_files"):
        deliver(client, mode="thread", channel=channel, user=user, blocks=bk.sections(FILES_NOT_GRADED),
                text=FILES_NOT_GRADED)


def _thread_answered_in_dm(g, workspace: str, user: str):
    """The person's open thread interview whose channel sends feedback (and so its questions) to their
    DM: a reply in the DM answers it."""
    interview = g.engine.find_active(workspace, user, source="thread")
    if interview is not None and _feedback_mode(g, workspace, interview.channel) == "dm":
        return interview
    return None


def _answer_thread_from_dm(g, client: WebClient, interview, *, workspace: str, event: dict,
                           event_id: str | None) -> None:
    user, dm = event["user"], event["channel"]
    if not event["text"].strip():
        _say_files_only(g, client, event_id, mode="thread", channel=dm, user=user)
        return
    with _lock(workspace, user, interview.channel, interview.thread_ts):
        turn = _take(g, interview.id, event["text"], event_id=event_id, message_ts=event.get("ts"))
    if turn.duplicate:
        return
    # Feedback goes where the channel wants it: the person's DM, where they answered.
    _say_turn(g, client, turn, mode="dm", channel=interview.channel, thread_ts=interview.thread_ts,
              user=user, workspace=workspace, mention=False)
    if event.get("has_files"):
        deliver(client, mode="dm", channel=interview.channel, user=user,
                blocks=bk.sections(FILES_NOT_GRADED), text=FILES_NOT_GRADED)


def _say_files_only(g, client: WebClient, event_id: str | None, *, mode: str, channel: str, user: str,
                    thread_ts: str | None = None) -> None:
    if event_id is None or g.engine.claim_event(event_id):
        deliver(client, mode=mode, channel=channel, user=user, thread_ts=thread_ts,
                blocks=bk.sections(FILE_ONLY), text=FILE_ONLY)


# ---- threaded interviews under a daily prompt -----------------------------------------------------

def on_thread_reply(g, client: WebClient, *, workspace: str, event: dict, event_id: str | None) -> None:
    user, channel, thread_ts = event["user"], event["channel"], event["thread_ts"]
    prompt = daily.prompt_post_for_thread(g.db, workspace, channel, thread_ts)
    if prompt is None:
        return  # a thread the gauntlet did not start
    with _lock(workspace, user, channel, thread_ts):
        latest = g.engine.find_latest(workspace, user, source="thread", channel=channel, thread_ts=thread_ts)
        if latest is not None and latest.status != "active":
            # One interview per person per prompt; more replies get a pointer, not a new interview. A
            # retried delivery (of the last answer, or of this reply) gets nothing a second time.
            first = event_id is None or (not g.engine.seen_event(event_id) and g.engine.claim_event(event_id))
            if first:
                deliver(client, mode="ephemeral", channel=channel, user=user, thread_ts=thread_ts,
                        blocks=bk.sections(bk.interview_over_text(latest.status, latest.score)),
                        text="Your interview in this thread is over.")
            return
        active = latest
        if not event["text"].strip():
            _say_files_only(g, client, event_id, mode="ephemeral", channel=channel, user=user,
                            thread_ts=thread_ts)
            return
        if active is None:
            question = g.engine.start(workspace=workspace, user_id=user, source="thread", channel=channel,
                                      thread_ts=thread_ts, prompt_id=prompt.prompt_id)
            interview_id = question.interview_id
        else:
            interview_id = active.id
        turn = _take(g, interview_id, event["text"], event_id=event_id, message_ts=event.get("ts"))
    if turn.duplicate:
        return
    mode = _feedback_mode(g, workspace, channel)
    _say_turn(g, client, turn, mode=mode, channel=channel, thread_ts=thread_ts, user=user,
              workspace=workspace, mention=True)
    if event.get("has_files"):
        deliver(client, mode="ephemeral" if mode == "thread" else mode, channel=channel, user=user,
                thread_ts=thread_ts, blocks=bk.sections(FILES_NOT_GRADED), text=FILES_NOT_GRADED)


def on_edit(g, client: WebClient, event: dict) -> None:
    """An edited answer is graded again while its round is open; older edits are left alone."""
    message, previous = event.get("message") or {}, event.get("previous_message") or {}
    if message.get("bot_id") or not message.get("user") or message.get("text") == previous.get("text"):
        return  # bot messages, and changes that are not an edit of the words (reply counts, unfurls)
    if not isinstance(message.get("text"), str) or not isinstance(message.get("ts"), str):
        return
    turn = g.engine.regrade_edit(message["ts"], readable(message["text"]))
    if turn is None or turn.grade is None:
        return
    interview = g.engine.get(turn.interview_id)
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
                text=f"Scorecard: {turn.scorecard.score}/100")


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
        in_thread = interview.source == "thread"  # DM and cohort drills answer in their DM
        mode = _feedback_mode(g, interview.workspace, interview.channel) if in_thread else "thread"
        try:
            client_here = g.client_for(interview.workspace) if getattr(g, "client_for", None) else client
            _say_turn(g, client_here, turn, mode=mode, channel=interview.channel,
                      thread_ts=interview.thread_ts if in_thread else None, user=interview.user_id,
                      workspace=interview.workspace, mention=in_thread)
        except Exception as exc:
            if not is_terminal(exc):
                raise
            # The answer is graded and kept; its feedback can never arrive (the channel was archived,
            # the workspace uninstalled the app). Start-up and the sweep carry on with the rest.
            log.warning("feedback for answer #%s could not be delivered: %s", answer.id,
                        slack_error_code(exc))
            continue
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


def scheduled_poster(g):
    """The poster background work uses: each workspace's own client, and a channel that refuses for
    good (archived, deleted, the app removed or uninstalled) turns its schedule off, tells whoever set
    it once, and fails in one line instead of a traceback on every catch-up."""
    from bot.daily import PostRefused
    from bot.slack import lifecycle
    from bot.slack.errors import explain

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
