"""The `/gauntlet` slash command. Every branch acks first; slow work (Slack calls, the database)
happens after the ack and answers through `respond` (the command's response_url)."""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.boards import leaderboard
from bot.daily import channels
from bot.daily.schedule import ScheduleError, describe, parse_schedule
from bot.interview.story import StoryError, assemble, choose_interview, to_markdown
from bot.rubric.types import LEVELS
from bot.slack import blocks as bk
from bot.slack import cohorts as cohort_slack
from bot.slack.interview import record_drill
from bot.slack.post import open_dm
from bot.slack.text import unescape

_CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$|^([CG][A-Z0-9]{6,})$")


class Request:
    """One `/gauntlet …` invocation, parsed."""

    def __init__(self, command: dict, context: BoltContext, client: WebClient, respond: Respond):
        self.workspace = context.team_id or command.get("team_id") or ""
        self.user = command["user_id"]
        self.channel = command.get("channel_id")
        # Slack escapes &, < and > in what was typed (should_escape); markup like <@U…> stays markup.
        words = [unescape(word) for word in (command.get("text") or "").split()]
        self.sub = words[0].lower() if words else "help"
        self.args = words[1:]
        self.gauntlet = context["gauntlet"]
        self.client = client
        self.respond = respond

    def say(self, blocks, text: str) -> None:
        self.respond(blocks=bk.messages(blocks)[0], text=text, response_type="ephemeral",
                     replace_original=False)

    def tell(self, text: str) -> None:
        """Plain text (it may quote what the person typed): escaped once, so it reads as typed."""
        self.say(bk.sections(bk.escape(text)), text)

    def tell_markup(self, text: str) -> None:
        """Text we composed as mrkdwn: our own channel and person links stay links. Anything the person
        typed must already be escaped with `bk.escape`."""
        self.say(bk.sections(text), text)


def on_gauntlet(ack: Ack, command: dict, context: BoltContext, client: WebClient, respond: Respond):
    """`/gauntlet SUBCOMMAND …`: unknown input gets the help text, never silence."""
    req = Request(command, context, client, respond)
    handler = SUBCOMMANDS.get(req.sub)
    if handler is None:
        ack(blocks=bk.messages(bk.help_blocks(f"I don't know `{req.sub}`."))[0], response_type="ephemeral",
            text="Incident Gauntlet help")
        return
    if req.sub == "help":
        ack(blocks=bk.messages(bk.help_blocks())[0], response_type="ephemeral", text="Incident Gauntlet help")
        return
    if req.sub == "drill":
        drill(req, ack, command)
        return
    ack()
    handler(req)


def drill(req: Request, ack: Ack, command: dict) -> None:
    """A new drill in the person's DM: on record before the acknowledgement, started by a worker, which
    answers through the command's response_url."""
    round_id, level, timed = None, "mid", False
    for word in req.args:
        if word.lower() in LEVELS:
            level = word.lower()
        elif word.lower() == "timed":
            timed = True
        elif round_id is None:
            round_id = word.lower()
        else:
            _refuse(ack, f"`/gauntlet drill` takes one round and an optional level, not '{word}'.")
            return
    rounds = req.gauntlet.engine.round_ids()
    if round_id in ("full", "all", "gauntlet"):
        round_id = None
    if round_id is not None and round_id not in rounds:
        _refuse(ack, f"There is no round '{round_id}'. Choose one of: {', '.join(rounds)} (or leave it out "
                "for the full gauntlet).")
        return
    record_drill(req.gauntlet, workspace=req.workspace, user_id=req.user, round_id=round_id, level=level,
                 timed=timed, request_id=command.get("trigger_id") or "",
                 response_url=command.get("response_url"))
    clock = " The clock will run: about two minutes an answer, 20 minutes in all." if timed else ""
    ack(text=f"Setting up your drill in our DM…{clock}", response_type="ephemeral")
    req.gauntlet.wake()


def _refuse(ack: Ack, text: str) -> None:
    ack(blocks=bk.messages(bk.sections(bk.escape(text)))[0], response_type="ephemeral", text=text)


def story(req: Request) -> None:
    """`/gauntlet story [ID]`: the person's STAR write-up, sent to their DM as a Markdown file."""
    if len(req.args) > 1 or (req.args and not req.args[0].lstrip("#").isdigit()):
        req.tell("`/gauntlet story` takes an optional interview number, e.g. `/gauntlet story 12`.")
        return
    wanted = int(req.args[0].lstrip("#")) if req.args else None
    try:
        interview = choose_interview(req.gauntlet.db, req.workspace, req.user, wanted)
        text = to_markdown(assemble(req.gauntlet.db, interview.id, req.gauntlet.engine.content))
    except StoryError as exc:
        req.tell(str(exc))
        return
    # The DM, not the channel: the story is the person's own, confidential incident.
    req.client.files_upload_v2(
        channel=open_dm(req.client, req.user), content=text.encode("utf-8"),
        filename=f"incident-story-{interview.id}.md",
        title=f"Your incident story (interview #{interview.id})",
        initial_comment="Your best answers, arranged as one STAR story: every sentence is yours, with what "
                        "the rubric credited and what is still missing beside each part.",
    )
    req.tell(f"Your story write-up (interview #{interview.id}) is in our DM.")


def show_leaderboard(req: Request) -> None:
    period = (req.args[0].lower() if req.args else "week")
    if period not in leaderboard.PERIODS:
        req.tell(f"Choose a period: {', '.join(leaderboard.PERIODS)} (not '{period}').")
        return
    rows = leaderboard.board(req.gauntlet.db, req.workspace, period)
    req.say(bk.leaderboard_blocks(rows, period=period, you=req.user), f"Leaderboard ({period})")


def board(req: Request) -> None:
    """`board cohort NAME|channel|improvement|season …` are season boards; anything else a period board."""
    if req.args and req.args[0].lower() in cohort_slack.BOARD_KINDS:
        cohort_slack.board(req)
    else:
        show_leaderboard(req)


def me(req: Request) -> None:
    stats = leaderboard.person_stats(req.gauntlet.db, req.workspace, req.user)
    req.say(bk.stats_blocks(stats), "Your practice")


def optout(req: Request) -> None:
    leaderboard.set_opt_out(req.gauntlet.db, req.workspace, req.user, True)
    req.tell("You are off the leaderboards. Your interviews still get feedback; `/gauntlet optin` to rejoin.")


def optin(req: Request) -> None:
    leaderboard.set_opt_out(req.gauntlet.db, req.workspace, req.user, False)
    req.tell("You are back on the leaderboards.")


def _is_workspace_admin(client: WebClient, user: str) -> bool:
    info = client.users_info(user=user)["user"]
    return bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))


def _may_manage(req: Request, channel: str) -> bool:
    admin = _is_workspace_admin(req.client, req.user)
    if channels.can_manage(req.gauntlet.db, req.workspace, channel, req.user, is_workspace_admin=admin):
        return True
    req.tell_markup(f"Only workspace admins and this channel's managers can change <#{channel}>'s "
                    "settings.")
    return False


def _channel_arg(args: list[str]) -> tuple[str | None, list[str]]:
    if args:
        m = _CHANNEL_REF.match(args[0])
        if m:
            return m.group(1) or m.group(2), args[1:]
    return None, args


def schedule(req: Request) -> None:
    channel, rest = _channel_arg(req.args)
    if not rest and channel is None:
        _list_schedules(req)
        return
    channel = channel or req.channel
    if rest and rest[0].lower() in ("off", "stop", "none"):
        if not _may_manage(req, channel):
            return
        removed = channels.remove_schedule(req.gauntlet.db, req.workspace, channel)
        _schedules_changed(req)
        req.tell_markup(f"No more daily prompts in <#{channel}>." if removed
                        else f"<#{channel}> had no schedule.")
        return
    if not rest:
        config = channels.get_config(req.gauntlet.db, req.workspace, channel)
        current = channels.schedule_of(config) if config is not None else None
        req.tell_markup(f"<#{channel}>: {bk.escape(describe(current))}." if current
                        else f"<#{channel}> has no daily prompt.")
        return
    if not _may_manage(req, channel):
        return
    user_tz = req.client.users_info(user=req.user)["user"].get("tz") or "UTC"
    try:
        parsed = parse_schedule(" ".join(rest), default_tz=user_tz)
    except ScheduleError as exc:
        req.tell(str(exc))
        return
    channels.set_schedule(req.gauntlet.db, req.workspace, channel, parsed, set_by=req.user)
    _schedules_changed(req)
    req.tell_markup(f"Daily prompt in <#{channel}>: {bk.escape(describe(parsed))}. Make sure I'm in the "
                    "channel (`/invite @Incident Gauntlet`).")


def _list_schedules(req: Request) -> None:
    configs = channels.list_schedules(req.gauntlet.db, req.workspace)
    lines = []
    for config in configs:
        sched = channels.schedule_of(config)
        if sched is not None:
            lines.append(f"• <#{config.channel}>: {describe(sched)} · feedback: {config.feedback_mode}")
    text = "\n".join(lines) if lines else (
        "No daily prompts yet. Set one with `/gauntlet schedule #channel 09:30 Europe/Berlin mon-fri`.")
    req.say(bk.sections(text), "Daily prompt schedules")


def _schedules_changed(req: Request) -> None:
    notify = req.gauntlet.schedules_changed
    if notify is not None:
        notify()


def feedback(req: Request) -> None:
    channel, rest = _channel_arg(req.args)
    channel = channel or req.channel
    if not rest:
        mode = channels.feedback_mode(req.gauntlet.db, req.workspace, channel)
        req.tell_markup(f"Feedback in <#{channel}> goes to: {mode}. Change it with "
                        f"`/gauntlet feedback {'|'.join(channels.FEEDBACK_MODES)}`.")
        return
    if not _may_manage(req, channel):
        return
    try:
        channels.set_feedback_mode(req.gauntlet.db, req.workspace, channel, rest[0])
    except ValueError as exc:
        req.tell(str(exc))
        return
    req.tell_markup(f"Feedback in <#{channel}> now goes to: {bk.escape(rest[0].lower())}.")


SUBCOMMANDS: dict[str, Callable[[Request], None]] = {
    "help": lambda req: None,
    "drill": lambda req: None,  # recorded before the ack: see on_gauntlet
    "story": story,
    "leaderboard": show_leaderboard,
    "board": board,
    "me": me,
    "stats": me,
    "optout": optout,
    "optin": optin,
    "schedule": schedule,
    "feedback": feedback,
    "cohort": cohort_slack.cohort_command,
    "share": cohort_slack.share,
    "forget-me": cohort_slack.forget_me,
    "forgetme": cohort_slack.forget_me,
}


def register(app: App) -> None:
    app.command("/gauntlet")(on_gauntlet)
