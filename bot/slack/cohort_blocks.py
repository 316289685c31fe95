"""Block Kit for cohorts: drills and reminders in a member's DM, the manager's weekly digest, cohort
lists, boards, and the forget-me confirmation. Small functions from domain results to slack_sdk models."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.boards.seasons import BoardRow, Season
from bot.cohorts.cohorts import CohortSummary, DueDrill
from bot.cohorts.digest import DigestData, MemberDigest
from bot.interview.engine import Question
from bot.slack.blocks import context, escape, header, mention, question_blocks, sections
from bot.slack.peer_blocks import agreement_blocks

FORGET_CONFIRM_ACTION = "forget_me_confirm"
FORGET_CANCEL_ACTION = "forget_me_cancel"
COHORT_ACCEPT_ACTION = "cohort_accept"
COHORT_DECLINE_ACTION = "cohort_decline"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def _change(value: float | None) -> str:
    if value is None:
        return ""
    if round(value) == 0:
        return " (→ 0)"
    return f" ({'▲' if value > 0 else '▼'} {abs(value):.0f})"


def dimension_label(key: str | None, labels: dict[str, str]) -> str:
    if key is None:
        return "the whole story"
    return labels.get(key) or key.replace("_", " ")


# ---- a member's DM --------------------------------------------------------------------------------

def drill_blocks(question: Question, due: DueDrill, labels: dict[str, str]) -> list[Block]:
    """The drill a cohort member gets on their cadence, saying which weakness it works on."""
    if due.target_dimension is None:
        why = "Your first drill: tell the whole story."
    else:
        why = (f"This one works on *{escape(dimension_label(due.target_dimension, labels))}*, "
               "your weakest dimension lately.")
    return [
        *sections(f"*Cohort {escape(due.cohort)}* — today's drill. {why}"),
        *question_blocks(question),
        context("Reply here to answer · `skip` · `retry` · `stop`"),
    ]


def drill_text(question: Question, cohort: str) -> str:
    return f"Cohort {cohort}: {question.title}"


def reminder_blocks(question: Question, cohort: str) -> list[Block]:
    """The one nudge for a drill still unanswered a few hours later: the question again."""
    return [
        *sections(f"A reminder from *cohort {escape(cohort)}*: your drill is still waiting for you. "
                  "A short answer is better than none."),
        *question_blocks(question),
        context("Reply here to answer · `skip` · `stop`"),
    ]


def invitation_blocks(cohort_id: int, cohort: str, cadence: str, manager: str) -> list[Block]:
    """The invitation a manager's `cohort add` sends: what joining means, and Accept / Decline."""
    value = str(cohort_id)
    return [
        *sections(
            f"{mention(manager)} invites you to the practice cohort *{escape(cohort)}*. If you join, drills "
            f"arrive here {escape(cadence)}, each targeting your weakest rubric dimension so far.\n"
            "The cohort's managers would see your scores for cohort drills and daily-prompt answers from "
            "the day you join, never before. Your answers, and drills you do on your own, stay private "
            f"unless you choose `/gauntlet share on {escape(cohort)}`. You can leave at any time with "
            f"`/gauntlet cohort leave {escape(cohort)}`."
        ),
        ActionsBlock(elements=[
            ButtonElement(text=PlainTextObject(text="Accept"), action_id=COHORT_ACCEPT_ACTION, value=value,
                          style="primary"),
            ButtonElement(text=PlainTextObject(text="Decline"), action_id=COHORT_DECLINE_ACTION, value=value),
        ]),
    ]


def joined_text(cohort: str, cadence: str) -> str:
    return (f"You joined *{escape(cohort)}*. Drills arrive here {escape(cadence)}. Its managers see your "
            f"scores from today; `/gauntlet share on {escape(cohort)}` lets them read your answers too, and "
            f"`/gauntlet cohort leave {escape(cohort)}` takes you out.")


# ---- the manager's weekly digest ------------------------------------------------------------------

def _member_line(m: MemberDigest) -> str:
    drills = f"{m.drills_answered}/{m.drills_sent} drills" if m.drills_sent else "no drills"
    paused = f" · paused until {m.paused_until}" if m.paused_until else ""
    return (f"{mention(m.user_id)} — {drills}, {m.answers} answers, average {_pct(m.average)}"
            f"{_change(m.change)}{paused}")


def digest_text(data: DigestData) -> str:
    share = f"{data.participation:.0%}" if data.participation is not None else "no drills"
    return f"Cohort {data.cohort} weekly digest: participation {share}, average {_pct(data.average)}"


def digest_blocks(data: DigestData) -> list[Block]:
    """Participation, averages, dimension averages against last week, biggest movers, who is stuck."""
    share = f"{data.participation:.0%}" if data.participation is not None else "no drills sent"
    period = f"{data.period_start:%a %d %b} – {data.period_end:%a %d %b}"
    moved = (None if data.average is None or data.previous_average is None
             else data.average - data.previous_average)
    out: list[Block] = [
        header(f"Cohort {data.cohort} — weekly digest"),
        context(f"{period} (UTC) · scores only; answers appear only for members who share them"),
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*Participation*\n{share} ({data.drills_answered} of "
                                    f"{data.drills_sent} drills answered)"),
            MarkdownTextObject(text=f"*Active members*\n{data.active_members} of {len(data.members)}"),
            MarkdownTextObject(text=f"*Average score*\n{_pct(data.average)}/100{_change(moved)}"),
            MarkdownTextObject(text=f"*Last week*\n{_pct(data.previous_average)}/100"),
        ]),
    ]
    dims = [f"• {escape(d.label)}: {_pct(d.average)}%{_change(d.change)}"
            for d in data.dimensions if d.average is not None]
    if dims:
        out.extend(sections("*Dimensions this week* (weakest first)\n" + "\n".join(dims)))
    movers = [f"▲ {_member_line(m)}" for m in data.movers_up]
    movers += [f"▼ {_member_line(m)}" for m in data.movers_down]
    if movers:
        out.extend(sections("*Biggest movers*\n" + "\n".join(movers)))
    if data.stuck:
        stuck = [f"• {mention(s.user_id)} on *{escape(s.label)}*: {round(100 * s.latest)}% after "
                 f"{s.attempts} attempts without improving (best {round(100 * s.best_since)}%)"
                 for s in data.stuck]
        out.extend(sections("*Stuck*\n" + "\n".join(stuck)))
    else:
        out.append(context("Nobody is stuck on a dimension this week."))
    out.append(DividerBlock())
    out.extend(sections("*Members*\n" + ("\n".join(_member_line(m) for m in data.members)
                                          or "_No members yet: `/gauntlet cohort add @person`._")))
    out.extend(agreement_blocks(data.agreement, data.labels))
    out.append(context("The chart below shows each dimension's weekly average."))
    return out


# ---- lists and boards ---------------------------------------------------------------------------

def cohort_list_blocks(summaries: Sequence[CohortSummary]) -> list[Block]:
    if not summaries:
        return sections("You are not in a cohort and do not run one. "
                        "Start one: `/gauntlet cohort create NAME`")
    lines = []
    for c in summaries:
        paused = f" · you are paused until {c.paused_until}" if c.paused_until else ""
        people = "member" if c.members == 1 else "members"
        lines.append(f"• *{escape(c.name)}* ({c.role}) — {c.members} {people} · {escape(c.cadence)}{paused}")
    return [header("Your cohorts"), *sections("\n".join(lines))]


def season_board_blocks(title: str, rows: Sequence[BoardRow], *, improvement: bool = False,
                        you: str | None = None, past: Sequence[Season] = ()) -> list[Block]:
    lines = []
    for row in rows:
        marker = " ← you" if you and row.user_id == you else ""
        rounds = "round" if row.rounds == 1 else "rounds"
        if improvement:
            value = f"{row.value:+.0f} pts over baseline ({_pct(row.baseline)} → {_pct(row.current)})"
        else:
            value = f"{row.value:.0f} pts"
        lines.append(f"{row.rank}. {mention(row.user_id)} — {value} ({row.rounds} {rounds}){marker}")
    out: list[Block] = [header(title)]
    out.extend(sections("\n".join(lines) if lines else "_Nobody on this board yet._"))
    if improvement:
        out.append(context("Ranked by how much each person improved on their own first rounds."))
    if past:
        out.append(context("Past seasons: " + ", ".join(s.key for s in past[:12])
                           + " · `/gauntlet board season YYYY-MM`"))
    return out


# ---- forget-me ------------------------------------------------------------------------------------

def forget_confirm_blocks() -> list[Block]:
    """Asks before deleting: a danger button (with Slack's own confirm dialog) and a cancel."""
    return [
        *sections("*Forget me?* This deletes every answer, grade, point, streak, cohort membership and "
                  "setting the bot holds about you in this workspace. It cannot be undone."),
        ActionsBlock(elements=[
            ButtonElement(
                text=PlainTextObject(text="Delete everything about me"), action_id=FORGET_CONFIRM_ACTION,
                value="forget", style="danger",
                confirm=ConfirmObject(title="Delete everything?", text="Your history is gone for good.",
                                      confirm="Delete", deny="Keep it", style="danger"),
            ),
            ButtonElement(text=PlainTextObject(text="Cancel"), action_id=FORGET_CANCEL_ACTION,
                          value="cancel"),
        ]),
    ]


def forgotten_text(counts: dict[str, int]) -> str:
    """What was deleted, in the person's words rather than table names."""
    names = {"answer": "answers", "graderecord": "grades", "pointentry": "point entries",
             "interview": "interviews", "cohortmember": "cohort memberships", "cohortdrill": "cohort drills"}
    total = sum(counts.values())
    if not total:
        return "Done. The bot held nothing about you."
    parts = [f"{counts[t]} {label}" for t, label in names.items() if counts.get(t)]
    others = total - sum(counts.get(t, 0) for t in names)
    if others:
        parts.append(f"{others} other records")
    return "Done: everything about you is deleted (" + ", ".join(parts) + ")."
