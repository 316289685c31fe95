"""Block Kit for peer mock interviews: the pairing DM, the session thread, the interviewer's script,
the rating modal and the side-by-side view, and the agreement lines of the weekly digest."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.cohorts.calibration import LEVELS, Agreement, CalibrationReport
from bot.cohorts.peers import DuePairing, ScriptRound, SideBySide, TurnStart
from bot.interview.engine import Question
from bot.rubric.types import VERDICTS
from bot.slack.blocks import context, escape, header, mention, sections
from bot.terminal.textview import quote

PEER_START_ACTION = "peer_start"
PEER_RATE_ACTION = "peer_rate"
PEER_RATING_VIEW = "peer_rating"
LEVEL_ACTION = "level"
VERDICT_BLOCK = "verdict"
DIMENSION_BLOCK = "dim:"  # + the dimension key

SHARING = ("What is shared: the interviewer's ratings and my grades of the answers are shown to both of "
           "you once the interviewer has rated, kept, and counted (without names) in how well my grading "
           "agrees with people. Cohort managers see the ratings next to the scores in the cohort export; "
           "answer text only for members who turned on `/gauntlet share on`. Starting (or answering in "
           "the session) accepts this.")


def _names(users: Sequence[str]) -> str:
    named = [mention(u) for u in users]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def start_button(group_id: int, label: str = "Start") -> ButtonElement:
    return ButtonElement(text=label, action_id=PEER_START_ACTION, value=str(group_id), style="primary")


def pairing_text(due: DuePairing, user: str) -> str:
    others = [m for m in due.members if m != user]
    return f"Peer mock ({due.cohort}): you're paired with {', '.join(mention(o) for o in others)}"


def pairing_blocks(due: DuePairing, user: str) -> list[Block]:
    """The DM each member gets: who they practise with, who interviews first, the Start button."""
    others = [m for m in due.members if m != user]
    order = "; then ".join(f"{mention(a)} interviews {mention(b)}" for a, b in due.turns)
    first = ("You interview first." if due.members[0] == user
             else f"{mention(due.members[0])} interviews first.")
    trio = " You're a trio this time, so each of you interviews once and answers once." if len(
        due.members) == 3 else ""
    return [
        header(f"Peer mock interview — {due.cohort}"),
        *sections(f"This week you're paired with {_names(others)}. {first}{trio}\n*Order:* {order}.\n"
                  "Press *Start* when you're together (a call, or just the chat): I open a group DM with "
                  "you both, send the interviewer a private script, and grade the answers quietly."),
        ActionsBlock(elements=[start_button(due.group_id)]),
        context(SHARING),
    ]


def session_intro_text(turn: TurnStart) -> str:
    return f"Peer mock, turn {turn.turn + 1} of {turn.total}: {mention(turn.interviewer)} interviews " \
           f"{mention(turn.interviewee)}"


def session_intro_blocks(turn: TurnStart) -> list[Block]:
    """The thread's first message in the group DM."""
    return [
        *sections(f"*{session_intro_text(turn)}.*\n{mention(turn.interviewee)}: answer each question as a "
                  "reply *in this thread* (typed, or pasted after you said it on a call). `skip` moves on, "
                  f"`stop` ends the turn.\n{mention(turn.interviewer)}: your script is in our DM. I grade "
                  "each answer quietly and show my view only after you've rated it, so your rating is your "
                  "own."),
        context(SHARING),
    ]


def script_blocks(script: Sequence[ScriptRound], turn: TurnStart) -> list[Block]:
    """The interviewer's private script: per round the question, follow-ups to choose from, and what a
    strong answer contains."""
    out: list[Block] = [
        header(f"Your interviewer script — turn {turn.turn + 1}"),
        *sections(f"You're interviewing {mention(turn.interviewee)}. Ask each round's question in the group "
                  "DM thread (or on your call), pick a follow-up if the answer needs one, and rate each "
                  "round with the *Rate* button that appears after each answer."),
    ]
    for n, rnd in enumerate(script, 1):
        lines = [f"*Round {n} of {len(script)} — {escape(rnd.title)}*", f"> {escape(rnd.question)}",
                 f"_What it tests:_ {escape(rnd.tests)}"]
        if rnd.probes:
            lines.append("*Follow-ups to choose from:*")
            lines += [f"• {escape(p)}" for p in rnd.probes]
        lines.append("*A strong answer has:*")
        lines += [f"• {escape(s)}" for s in rnd.strong]
        out.append(DividerBlock())
        out.extend(sections("\n".join(lines)))
    return out


def answer_recorded_blocks(*, session_id: int, round_id: str, title: str, interviewer: str,
                           next_question: Question | None, finished: bool) -> list[Block]:
    """After each answer: no grade, only a nudge to the interviewer and the Rate button."""
    if finished:
        after = "That was the last round of this turn."
    elif next_question is None:
        after = ""
    elif next_question.probe_id:
        after = f"The next answer still counts for *{escape(next_question.title)}* (a follow-up)."
    else:
        after = f"The next answer counts for *{escape(next_question.title)}*: ask it from your script."
    return [
        *sections(f"Answer recorded for *{escape(title)}*. {mention(interviewer)}, rate it when you're "
                  f"ready; my grade stays hidden until you do. {after}".strip()),
        ActionsBlock(elements=[ButtonElement(text=f"Rate {title}"[:75], action_id=PEER_RATE_ACTION,
                                             value=f"{session_id}|{round_id}")]),
    ]


def turn_over_blocks(group_id: int, *, more: bool) -> list[Block]:
    text = "This turn is over. Rate any round you haven't rated yet; " + (
        "then press *Start* for the next turn, roles swapped." if more
        else "that was the last turn. Thank you both!")
    out = sections(text)
    if more:
        out.append(ActionsBlock(elements=[start_button(group_id, "Start the next turn")]))
    return out


def _level_options() -> list[Option]:
    return [Option(value=str(n), text=f"{n} · {name}") for n, name in LEVELS.items()]


def rating_modal(
    *, session_id: int, round_id: str, title: str, dimensions: Sequence[tuple[str, str]]
) -> dict:
    """Each dimension the round weighs on the 1–4 scale, and a verdict."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"Rate the answer to *{escape(title)}* as you heard it. "
                                                  "My grade is shown next to yours after you submit.")),
    ]
    for key, label in dimensions:
        blocks.append(InputBlock(block_id=DIMENSION_BLOCK + key, label=label[:2000],
                                 element=StaticSelectElement(action_id=LEVEL_ACTION, options=_level_options(),
                                                             placeholder="missing … strong")))
    verdicts = [Option(value=v, text=v) for v in VERDICTS]
    blocks.append(InputBlock(block_id=VERDICT_BLOCK, label="Verdict",
                             element=StaticSelectElement(action_id=LEVEL_ACTION, placeholder="Choose",
                                                         options=verdicts)))
    view = View(type="modal", callback_id=PEER_RATING_VIEW, private_metadata=f"{session_id}|{round_id}",
                title=PlainTextObject(text=f"Rate: {title}"[:24]),
                submit=PlainTextObject(text="Submit rating"), close=PlainTextObject(text="Cancel"),
                blocks=blocks)
    return view.to_dict()


def read_rating(values: dict) -> tuple[str | None, dict[str, int]]:
    """(verdict, {dimension: level}) from a submitted modal's state values."""
    verdict = None
    dims: dict[str, int] = {}
    for block_id, actions in values.items():
        chosen = ((actions.get(LEVEL_ACTION) or {}).get("selected_option") or {}).get("value")
        if chosen is None:
            continue
        if block_id == VERDICT_BLOCK:
            verdict = chosen
        elif block_id.startswith(DIMENSION_BLOCK) and chosen.isdigit():
            dims[block_id[len(DIMENSION_BLOCK):]] = int(chosen)
    return verdict, dims


def side_by_side_text(view: SideBySide) -> str:
    return f"{view.title}: rated {view.human_verdict} by the interviewer, {view.bot_verdict} by the bot"


def side_by_side_blocks(view: SideBySide) -> list[Block]:
    """The person's rating and the bot's grade, disagreements of two steps or more first and marked,
    with what the bot quoted from the answer for its view."""
    out: list[Block] = [
        header(f"{view.title}: the interviewer's rating and my grade"),
        SectionBlock(fields=[
            MarkdownTextObject(text=f"*{mention(view.interviewer)}*\n{view.human_verdict}"),
            MarkdownTextObject(text=f"*Bot*\n{view.bot_verdict} ({view.bot_score}/100)"),
        ]),
    ]
    lines = []
    for d in sorted(view.dimensions, key=lambda d: (not d.disagrees, d.label)):
        pair = f"person {d.human} ({LEVELS[d.human]}) · bot {d.bot} ({LEVELS[d.bot]})"
        if d.disagrees:
            lines.append(f":warning: *{escape(d.label)}: {pair} — two steps or more apart*")
            quotes = [f"> {escape(quote(span))}" for span in d.evidence[:2]]
            lines += quotes or ["> _the bot found nothing in the answer for this_"]
        else:
            lines.append(f"• {escape(d.label)}: {pair}")
    out.extend(sections("\n".join(lines)))
    n = len(view.disagreements)
    out.append(context(f"{n} dimension{'s' if n != 1 else ''} two or more steps apart." if n else
                       "No dimension is two or more steps apart."))
    return out


def _agreement_line(a: Agreement, label: str) -> str:
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.0%}"

    kappa = "—" if a.kappa is None else f"{a.kappa:.2f}"
    return (f"• {escape(label)}: exact {pct(a.exact)}, within one step {pct(a.adjacent)}, kappa {kappa} "
            f"(n={a.n})")


def agreement_blocks(report: CalibrationReport | None, labels: dict[str, str]) -> list[Block]:
    """The digest's lines on how well the grader agrees with this cohort's interviewers."""
    if report is None or report.answers == 0:
        return []
    lines = [_agreement_line(report.verdict, "Verdict"),
             _agreement_line(report.all_dimensions, "All dimensions")]
    lines += [_agreement_line(a, labels.get(a.name, a.name)) for a in report.dimensions]
    return [*sections(f"*Grader vs peer interviewers* ({report.answers} rated answers so far)\n"
                      + "\n".join(lines)),
            context("Kappa is quadratic weighted: 1 is full agreement, 0 is what chance would give.")]
