"""Interview glue shared by the listeners: find or start the person's interview, hand the message to
the engine, render the turn and deliver it where the channel wants feedback."""

from __future__ import annotations

import threading

from slack_sdk import WebClient

from bot import channels, daily, leaderboard
from bot.engine import Question, Turn
from bot.slack import blocks as bk
from bot.slack.post import deliver, open_dm, post

# One person's messages in one conversation are handled one at a time, so a retried delivery that
# arrives while the first is still being graded sees the first's interview instead of starting another.
# A fixed set of striped locks keeps memory flat however many people and threads there are.
_LOCKS = tuple(threading.Lock() for _ in range(64))


def _lock(*key: str | None) -> threading.Lock:
    return _LOCKS[hash(key) % len(_LOCKS)]


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
        turn = g.engine.handle(active.id, event["text"], event_id=event_id, message_ts=event.get("ts"))
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
        turn = g.engine.handle(interview_id, event["text"], event_id=event_id, message_ts=event.get("ts"))
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


def resume_pending(g, client: WebClient) -> int:
    """Grade answers recorded but never graded (the process stopped in between) and answer them."""
    done = 0
    for answer in g.engine.pending_answers():
        interview = g.engine.get(answer.interview_id)
        if interview.source not in ("thread", "dm") or interview.channel is None:
            continue  # the terminal drill's leftovers are its own to resume
        turn = g.engine.grade_answer(answer.id)
        if turn.duplicate:
            continue
        in_thread = interview.source == "thread"
        mode = _feedback_mode(g, interview.workspace, interview.channel) if in_thread else "thread"
        _say_turn(g, client, turn, mode=mode, channel=interview.channel,
                  thread_ts=interview.thread_ts if in_thread else None, user=interview.user_id,
                  workspace=interview.workspace, mention=in_thread)
        done += 1
    return done


def prompt_poster(client: WebClient):
    """The poster the daily-prompt code calls: post the prompt text to a channel, return its ts."""

    def poster(channel: str, prompt) -> str:
        return post(client, channel=channel, blocks=bk.prompt_blocks(prompt.text), text=prompt.text)[0]

    return poster
