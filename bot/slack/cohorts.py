"""Cohorts in Slack: the `/gauntlet cohort …`, `share`, `forget-me` and season-board commands, answers to
cohort drills in the DM, and the jobs that send due drills, reminders and weekly digests.

Thin glue: parsing, permissions, cadence and the digest's numbers are the domain's
(`bot.cohorts.cohorts`, `bot.cohorts.digest`, `bot.cohorts.export`, `bot.store.privacy`,
`bot.boards.seasons`). Job functions take the clock as an argument so tests run weeks of cadence in seconds.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.boards import seasons
from bot.cohorts import cohorts
from bot.cohorts.cohorts import (
    CohortCommand,
    CohortCommandError,
    CohortError,
    DueDigest,
    DueDrill,
    DueReminder,
)
from bot.cohorts.digest import build_digest
from bot.cohorts.export import export_cohort
from bot.rubric.config import rubric_from
from bot.slack import blocks as bk
from bot.slack import cohort_blocks as cb
from bot.slack import lifecycle
from bot.slack import peers as peer_slack
from bot.slack.errors import NotInstalled, is_terminal, slack_error_code
from bot.slack.post import open_dm, post
from bot.store import privacy

log = logging.getLogger("gauntlet.slack.cohorts")

SOURCE = "cohort"  # Interview.source of a cohort drill
COHORT_JOBS = "cohort-jobs"
BOARD_KINDS = ("cohort", "channel", "improvement", "season")
SLACK_FAILURES = (SlackApiError, SlackRequestError, OSError)


def _now() -> datetime:
    return datetime.now(UTC)


def user_tz(client: WebClient, user_id: str) -> str:
    """The person's IANA timezone from users.info (UTC when Slack has none or one we do not know)."""
    tz = (client.users_info(user=user_id)["user"] or {}).get("tz") or "UTC"
    try:
        return cohorts.check_tz(tz)
    except CohortError:
        return "UTC"


# ---- `/gauntlet cohort …` ---------------------------------------------------------------------------

def _say(req, text: str) -> None:
    """Text we composed from validated names and ids: mentions must stay mentions, so no escaping."""
    req.say(bk.sections(text), text)


def cohort_command(req) -> None:
    """Route `/gauntlet cohort ACTION …`; every refusal is the domain's own explanation."""
    if req.args and req.args[0].lower() == "pairs":
        peer_slack.pairs_command(req)
        return
    try:
        cmd = cohorts.parse_cohort_command(" ".join(req.args))
    except CohortCommandError as exc:
        req.tell(str(exc))  # it may quote what the person typed, so it is escaped
        return
    try:
        ACTIONS[cmd.action](req, cmd)
    except CohortError as exc:
        _say(req, str(exc))


def _help(req, cmd: CohortCommand) -> None:
    req.tell(cohorts.usage())


def _create(req, cmd: CohortCommand) -> None:
    assert cmd.name is not None
    cohort = cohorts.create_cohort(
        req.gauntlet.db, workspace=req.workspace, name=cmd.name, created_by=req.user, now=_now(),
        weekdays=cmd.weekdays, local_time=cmd.local_time, creator_tz=user_tz(req.client, req.user),
    )
    req.tell(f"Cohort {cohort.name} is ready. Drills go out {cohorts.describe_cadence(cohort)}; your digest "
             f"arrives in our DM on Mondays. Add people: /gauntlet cohort add {cohort.name} @person")


def _add(req, cmd: CohortCommand) -> None:
    """Managers invite; people join only by pressing Accept in the invitation sent to their DM."""
    db = req.gauntlet.db
    cohort = cohorts.resolve_cohort(db, req.workspace, req.user, cmd.name)
    cohorts.require_manager(db, cohort, req.user)  # before asking Slack about anyone
    zones = {uid: user_tz(req.client, uid) for uid in cmd.user_ids}
    invited = cohorts.invite_members(db, cohort, req.user, zones, now=_now())
    for uid in cmd.user_ids:
        if uid not in invited:
            cohorts.update_timezone(db, req.workspace, uid, zones[uid])  # a re-add refreshes the timezone
    cadence = cohorts.describe_cadence(cohort)
    unreachable = []
    for uid in invited:
        try:
            post(req.client, channel=open_dm(req.client, uid), text=f"Invitation to the cohort {cohort.name}",
                 blocks=cb.invitation_blocks(cohort.id or 0, cohort.name, cadence, req.user), paced=False)
        except SLACK_FAILURES as exc:
            log.warning("could not invite %s: %s", uid, slack_error_code(exc))
            unreachable.append(uid)
    lines = []
    reached = [u for u in invited if u not in unreachable]
    if reached:
        lines.append(f"Invited {', '.join(bk.mention(u) + f' ({zones[u]})' for u in reached)} to "
                     f"{cohort.name}; they join "
                     "when they accept in our DM.")
    if unreachable:
        lines.append(f"I couldn't send the invitation to {', '.join(bk.mention(u) for u in unreachable)} "
                     "(Slack refused the DM); they are not in the cohort.")
        for uid in unreachable:
            cohorts.decline_invitation(db, cohort.id or 0, uid)
    already = [u for u in cmd.user_ids if u not in invited]
    if already:
        lines.append(f"Already in or invited to {cohort.name}: {', '.join(bk.mention(u) for u in already)} "
                     "(timezone refreshed).")
    lines.append(f"Drills: {cadence}.")
    _say(req, " ".join(lines))


def _leave(req, cmd: CohortCommand) -> None:
    assert cmd.name is not None
    cohort = cohorts.leave_cohort(req.gauntlet.db, req.workspace, cmd.name, req.user)
    req.tell(f"You left {cohort.name}: no more drills from it, and its managers no longer see anything "
             "of yours. Your history stays yours.")


def on_invitation(ack, body: dict, action: dict, context, client: WebClient, respond) -> None:
    """Accept or Decline in an invitation: it answers for whoever pressed it, never anyone else."""
    ack()
    g = context["gauntlet"]
    user = body["user"]["id"]
    try:
        cohort_id = int(action.get("value") or "")
    except ValueError:
        cohort_id = 0
    try:
        if action.get("action_id") == cb.COHORT_ACCEPT_ACTION:
            cohort = cohorts.accept_invitation(g.db, cohort_id, user, now=_now())
            text = cb.joined_text(cohort.name, cohorts.describe_cadence(cohort))
        else:
            cohort = cohorts.decline_invitation(g.db, cohort_id, user)
            text = (f"You declined {bk.escape(cohort.name)}; nothing of yours is shared with it."
                    if cohort is not None else "That invitation is no longer open.")
    except CohortError as exc:
        text = bk.escape(str(exc))
    _answer_button(body, client, respond, text)


def _remove(req, cmd: CohortCommand) -> None:
    cohort = cohorts.resolve_cohort(req.gauntlet.db, req.workspace, req.user, cmd.name)
    (uid,) = cmd.user_ids
    if cohorts.remove_member(req.gauntlet.db, cohort, req.user, uid):
        _say(req, f"Removed {bk.mention(uid)} from {cohort.name}; no more drills for them. Their history "
                  "stays theirs.")
    else:
        _say(req, f"{bk.mention(uid)} is not in {cohort.name}.")


def _pause(req, cmd: CohortCommand) -> None:
    cohort = cohorts.resolve_cohort(req.gauntlet.db, req.workspace, req.user, cmd.name)
    (uid,) = cmd.user_ids
    cohorts.pause_member(req.gauntlet.db, cohort, req.user, uid, cmd.until)
    if cmd.until is None:
        _say(req, f"{bk.mention(uid)} gets {cohort.name} drills again from the next one.")
    else:
        _say(req, f"No {cohort.name} drills for {bk.mention(uid)} before {cmd.until:%a %d %b %Y} "
                  "(their local date).")


def _manager(req, cmd: CohortCommand) -> None:
    db = req.gauntlet.db
    cohort = cohorts.resolve_cohort(db, req.workspace, req.user, cmd.name)
    cohorts.require_manager(db, cohort, req.user)
    done = []
    for uid in cmd.user_ids:
        if cohorts.add_manager(db, cohort, req.user, uid, now=_now(), tz=user_tz(req.client, uid)):
            done.append(bk.mention(uid))
    _say(req, f"{', '.join(done)} now run{'s' if len(done) == 1 else ''} {cohort.name} and get its weekly "
             "digest." if done else f"They already run {cohort.name}.")


def _cadence(req, cmd: CohortCommand) -> None:
    assert cmd.weekdays is not None and cmd.local_time is not None
    cohort = cohorts.resolve_cohort(req.gauntlet.db, req.workspace, req.user, cmd.name)
    cohort = cohorts.set_cadence(req.gauntlet.db, cohort, req.user, cmd.weekdays, cmd.local_time)
    req.tell(f"{cohort.name} drills now go out {cohorts.describe_cadence(cohort)}.")


def _list(req, cmd: CohortCommand) -> None:
    summaries = cohorts.list_cohorts(req.gauntlet.db, req.workspace, req.user)
    req.say(cb.cohort_list_blocks(summaries), "Your cohorts")


def _export(req, cmd: CohortCommand) -> None:
    db = req.gauntlet.db
    cohort = cohorts.resolve_cohort(db, req.workspace, req.user, cmd.name)
    cohorts.require_manager(db, cohort, req.user)
    now = _now()
    payload = export_cohort(db, req.workspace, cohort.name, "csv", now=now, viewer=req.user)
    rows = sum(1 for _ in csv.reader(io.StringIO(payload.decode("utf-8-sig")))) - 1
    # The file goes to the manager's DM, not the channel: it can hold shared transcripts.
    req.client.files_upload_v2(
        channel=open_dm(req.client, req.user), content=payload, filename=f"{cohort.name}-{now:%Y-%m-%d}.csv",
        title=f"Cohort {cohort.name}: graded answers to {now:%d %b %Y}",
        initial_comment=f"Cohort {cohort.name}: {rows} graded answers, one per row. Answer text only for "
                        "members who agreed to share it.",
    )
    req.tell(f"The export of {cohort.name} ({rows} graded answers, CSV) is in our DM.")


ACTIONS = {
    "help": _help, "create": _create, "add": _add, "remove": _remove, "pause": _pause, "resume": _pause,
    "manager": _manager, "cadence": _cadence, "list": _list, "export": _export, "leave": _leave,
}


# ---- privacy commands -------------------------------------------------------------------------------

def share(req) -> None:
    """`/gauntlet share on|off COHORT`: the member's consent, per cohort, to let that cohort's managers
    read their answers and see the drills they did on their own."""
    db = req.gauntlet.db
    choice = req.args[0].lower() if req.args else ""
    mine = [c for c in cohorts.list_cohorts(db, req.workspace, req.user) if c.role == "member"]
    if choice not in ("on", "off"):
        shared = privacy.shares_transcripts(db, req.workspace, req.user)
        now = (f"Managers of {', '.join(shared)} can read your answers." if shared
               else "No cohort's managers can read your answers.")
        req.tell(f"{now} Change it per cohort with `/gauntlet share on COHORT` or `/gauntlet share off "
                 "COHORT`; managers always see your cohort and channel scores.")
        return
    if len(req.args) > 1:
        name = req.args[1].lower()
    elif len(mine) == 1:
        name = mine[0].name
    else:
        names = ", ".join(c.name for c in mine) or "none yet"
        req.tell(f"Say which cohort: `/gauntlet share {choice} COHORT` (your cohorts: {names}).")
        return
    try:
        cohort = cohorts.set_share_answers(db, req.workspace, name, req.user, choice == "on")
    except CohortError as exc:
        req.tell(str(exc))
        return
    if choice == "on":
        req.tell(f"The managers of {cohort.name} can now read your answers and see your own drills (in "
                 f"exports and digests). `/gauntlet share off {cohort.name}` stops it.")
    else:
        req.tell(f"Your answers are private from {cohort.name} again: its managers see your cohort and "
                 "channel scores only.")


def forget_me(req) -> None:
    """`/gauntlet forget-me`: nothing is deleted until the person presses the danger button."""
    req.say(cb.forget_confirm_blocks(), "Forget me? Confirm with the button.")


def on_forget_confirm(ack, body: dict, context, client: WebClient, respond) -> None:
    """Delete everything about the person who pressed the button (never anyone named in the payload)."""
    ack()
    g = context["gauntlet"]
    workspace = context.team_id or (body.get("team") or {}).get("id") or ""
    counts = privacy.forget_person(g.db, workspace, body["user"]["id"])
    text = cb.forgotten_text(counts)
    _answer_button(body, client, respond, text)


def on_forget_cancel(ack, body: dict, client: WebClient, respond) -> None:
    ack()
    _answer_button(body, client, respond, "Nothing was deleted.")


def _answer_button(body: dict, client: WebClient, respond, text: str) -> None:
    if body.get("response_url"):
        respond(text=text, replace_original=True, response_type="ephemeral")
    else:
        post(client, channel=open_dm(client, body["user"]["id"]), blocks=bk.sections(text), text=text)


# ---- season boards ----------------------------------------------------------------------------------

def board(req) -> None:
    """`/gauntlet board cohort NAME | channel | improvement | season [YYYY-MM]`."""
    kind, rest = req.args[0].lower(), req.args[1:]
    db, now = req.gauntlet.db, _now()
    name = None
    if kind == "cohort":
        if not rest:
            req.tell("Which cohort? `/gauntlet board cohort NAME [YYYY-MM]`")
            return
        name, rest = rest[0].lower(), rest[1:]
    try:
        season = seasons.season_by_key(rest[0]) if rest else seasons.season_of(now)
        if kind == "improvement":
            rows = seasons.improvement_board(db, req.workspace, season)
            title = f"Most improved — {season.title}"
        elif kind == "channel":
            rows = seasons.season_board(db, req.workspace, season, channel=req.channel)
            title = f"This channel — {season.title}"
        else:
            rows = seasons.season_board(db, req.workspace, season, cohort=name)
            title = f"Cohort {name} — {season.title}" if name else f"Season {season.title}"
    except (ValueError, CohortError) as exc:
        req.tell(str(exc))
        return
    past = seasons.past_seasons(db, req.workspace, now) if kind == "season" else ()
    req.say(cb.season_board_blocks(title, rows, improvement=kind == "improvement", you=req.user, past=past),
            title)


# (Answers in the DM go through the inbox: `bot.slack.interview` gives a DM message to the person's
# cohort drill when that is their newest open interview there.)


# ---- jobs -------------------------------------------------------------------------------------------

def _client(g, default: WebClient, workspace: str) -> WebClient:
    """The workspace's own client (its installation's token with OAuth): one way for every job."""
    return g.client_for(workspace) if getattr(g, "client_for", None) else default


def send_due_drills(g, default_client: WebClient, *, now: datetime) -> list[DueDrill]:
    """Start every drill whose local time has come and owe its question (through the outbox, in the
    transaction that marks the drill sent); returns the drills owed.

    A drill whose DM cannot be opened for a passing reason stays claimed but unsent, so the domain
    hands it out again later; one Slack refuses for good turns the member's drills off."""
    from bot.slack import scheduled
    from bot.store.db import session_scope

    labels = rubric_from(None).labels
    sent = []
    for due in cohorts.due_drills(g.db, now, content=g.engine.content):
        try:
            client = _client(g, default_client, due.workspace)
            dm = open_dm(client, due.user_id)
        except (*SLACK_FAILURES, NotInstalled) as exc:
            if is_terminal(exc):
                lifecycle.drill_refused(g.db, g.client_for, due.workspace, due.cohort, due.user_id, exc)
            else:
                log.warning("cohort drill for %s not sent, will retry: %s", due.user_id,
                            slack_error_code(exc))
            continue
        previous = g.engine.find_active(due.workspace, due.user_id, source=SOURCE)
        question = g.engine.start(workspace=due.workspace, user_id=due.user_id, source=SOURCE,
                                  only_round=due.target_round, channel=dm)
        if previous is not None:
            g.engine.stop(previous.id)  # the new drill replaces an unanswered older one
        with session_scope(g.db) as s:
            scheduled.owe_drill(s, drill_id=due.drill_id, workspace=due.workspace, user=due.user_id, dm=dm,
                                interview_id=question.interview_id,
                                blocks=cb.drill_blocks(question, due, labels),
                                text=cb.drill_text(question, due.cohort), now=now)
        sent.append(due)
    _wake(g)
    return sent


def send_reminders(g, default_client: WebClient, *, now: datetime) -> list[DueReminder]:
    """One nudge per drill still unanswered after the cohort's reminder delay, owed through the outbox."""
    from bot.slack import scheduled
    from bot.store.db import session_scope

    sent = []
    for due in cohorts.due_reminders(g.db, now):
        if due.interview_id is None:
            continue
        interview = g.engine.get(due.interview_id)
        if interview.status != "active":
            continue  # stopped by the member or replaced by a newer drill: nothing to nudge
        question = g.engine.current_question(interview.id)
        with session_scope(g.db) as s:
            scheduled.owe_reminder(s, drill_id=due.drill_id, workspace=due.workspace, user=due.user_id,
                                   channel=interview.channel, blocks=cb.reminder_blocks(question, due.cohort),
                                   text=f"Reminder: {question.title}")
        sent.append(due)
    _wake(g)
    return sent


def send_digests(g, default_client: WebClient, *, now: datetime) -> list[DueDigest]:
    """Each manager's weekly digest, owed to their DM through the outbox in the transaction that marks
    it sent: the Block Kit summary, then (once it is delivered) the chart as a PNG upload."""
    from bot.slack import scheduled
    from bot.store.db import session_scope

    sent = []
    for due in cohorts.due_digests(g.db, now):
        try:
            data = build_digest(g.db, due.workspace, due.cohort, now=now)
        except CohortError as exc:
            log.warning("digest of %s for %s failed: %s", due.cohort, due.manager_id, exc.__class__.__name__)
            continue
        with session_scope(g.db) as s:
            scheduled.owe_digest(s, digest_id=due.digest_id, workspace=due.workspace, manager=due.manager_id,
                                 blocks=cb.digest_blocks(data), text=cb.digest_text(data), now=now)
        sent.append(due)
    _wake(g)
    return sent


def _wake(g) -> None:
    wake = getattr(g, "wake", None)
    if wake is not None:
        wake()  # an in-process worker delivers what was just owed now, not at its next poll


def run_cohort_jobs(g, client: WebClient, *, now: datetime | None = None) -> None:
    """The every-minute job: drills, then reminders, then digests, then peer-mock pairings."""
    at = now or _now()
    send_due_drills(g, client, now=at)
    send_reminders(g, client, now=at)
    send_digests(g, client, now=at)
    peer_slack.send_pairings(g, client, now=at)


def schedule_jobs(scheduler, g, client: WebClient) -> None:
    """Add the cohort job to an APScheduler scheduler: every minute, once at start, never overlapping."""
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler.add_job(run_cohort_jobs, IntervalTrigger(minutes=1, timezone=UTC), args=(g, client),
                      id=COHORT_JOBS, next_run_time=_now(), coalesce=True, max_instances=1,
                      replace_existing=True)
