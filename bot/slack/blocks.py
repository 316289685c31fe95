"""Block Kit rendering: small functions from domain results to slack_sdk block models.

Built with slack_sdk's model classes so Slack's length limits are checked by `to_dict()`. Long text is
split across sections at paragraph, line or word boundaries, and a long list of blocks is split across
messages of at most 50 blocks; nothing is cut mid-word and nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.boards.leaderboard import BoardRow, PersonStats
from bot.interview.clock import TRIM_NOTE, elapsed_line, mmss
from bot.interview.engine import Question, Scorecard, Turn
from bot.rubric.types import DimensionResult, Grade
from bot.terminal.textview import bar, quote

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
START_DRILL_ACTION = "start_drill"

FLAG_EXPLANATIONS = {
    "blame": "A sentence puts the cause on a person rather than on the system that let the mistake through.",
    "blameless_to_a_fault": "“Nobody was at fault” with no specific cause leaves the listener with nothing.",
    "hero": "The story leaves out everyone else who responded.",
    "no_prevention": "Nothing stops this from happening again.",
    "conflated_fix": "Mitigation, fix and prevention are three different things; all were called the fix.",
    "unsafe_sql": "This SQL would lock or break a live table.",
    "gaming": "This reads like a list of keywords rather than a story, so it scores low.",
    "off_topic": "This does not answer the question that was asked.",
    "too_short": "Too short to grade fairly: tell the story with specifics.",
}


# ---- text helpers ---------------------------------------------------------------------------------

def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split text into pieces of at most `limit` characters at paragraph, line or word boundaries."""
    pieces: list[str] = []
    current = ""
    for unit in _units(text.strip(), limit):
        sep = unit[0]
        body = unit[1]
        candidate = f"{current}{sep}{body}" if current else body
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                pieces.append(current)
            current = body
    if current:
        pieces.append(current)
    return pieces


def _units(text: str, limit: int) -> Iterable[tuple[str, str]]:
    """Yield (separator, unit) pairs where no unit is longer than `limit`."""
    for i, para in enumerate(text.split("\n\n")):
        para_sep = "\n\n" if i else ""
        if len(para) <= limit:
            yield para_sep, para
            continue
        for j, line in enumerate(para.split("\n")):
            line_sep = para_sep if j == 0 else "\n"
            if len(line) <= limit:
                yield line_sep, line
                continue
            for k, word in enumerate(line.split(" ")):
                word_sep = line_sep if k == 0 else " "
                # A single "word" longer than a section (a pasted log line) is the only thing cut.
                while len(word) > limit:
                    yield word_sep, word[:limit]
                    word, word_sep = word[limit:], ""
                yield word_sep, word


def sections(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in split_text(text)]


def header(text: str) -> HeaderBlock:
    text = " ".join(text.split())
    if len(text) > HEADER_LIMIT:
        text = text[: HEADER_LIMIT - 2].rsplit(" ", 1)[0] + " …"
    return HeaderBlock(text=PlainTextObject(text=text))


def context(*lines: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=piece) for line in lines
                                  for piece in split_text(line)][:10])


def messages(blocks: Sequence[Block]) -> list[list[dict]]:
    """Validate the blocks and group them into messages of at most 50 blocks each."""
    dicts = [b.to_dict() for b in blocks]
    return [dicts[i:i + MAX_BLOCKS] for i in range(0, len(dicts), MAX_BLOCKS)] or [[]]


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


# ---- interview ------------------------------------------------------------------------------------

def question_title(q: Question) -> str:
    if q.probe_id:
        return f"Follow-up — {q.title}"
    if q.total > 1:
        return f"Round {q.number} of {q.total} — {q.title}"
    return q.title


def question_blocks(q: Question) -> list[Block]:
    out: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{escape(question_title(q))}*"))]
    if q.why:
        out.append(context(f"_{escape(q.why)}_"))
    out.extend(sections(escape(q.text)))
    return out


def _dimension_line(label: str, d: DimensionResult) -> str:
    lines = [f"*{label}: {escape(d.label)}* — {d.score}/{d.max}"]
    lines += [f"> {escape(quote(span))}" for span in d.evidence[:1]]
    if d.hint:
        lines.append(f"→ {escape(d.hint)}")
    return "\n".join(lines)


def flag_text(name: str, message: str = "", sentence: str | None = None, rewrite: str | None = None) -> str:
    why = message or FLAG_EXPLANATIONS.get(name, "")
    lines = [f"⚑ *{escape(name.replace('_', ' '))}*: {escape(' '.join(why.split()))}"]
    if sentence:
        lines.append(f"You wrote: {escape(quote(sentence, 400))}")
    if rewrite:
        lines.append(f"Try instead: {escape(quote(rewrite, 400))}")
    return "\n".join(lines)


def grade_blocks(grade: Grade, *, user_id: str | None, best_score: int | None = None,
                 attempt: int = 1, notice: str | None = None) -> list[Block]:
    who = f"{mention(user_id)} " if user_id else ""
    head = f"{who}*{grade.score}/100* — {escape(grade.verdict)} _(at {escape(grade.level)} level)_"
    if best_score is not None and attempt > 1:
        head += f" · best of {attempt} attempts: {best_score}/100"
    out: list[Block] = sections(head)
    if notice:
        out.append(context(escape(notice)))
    if grade.summary:
        out.extend(sections(escape(grade.summary)))
    strongest, weakest = grade.strongest, grade.weakest
    if strongest is not None and strongest.score:
        out.extend(sections(_dimension_line("Strongest", strongest)))
    if weakest is not None and weakest is not strongest:
        out.extend(sections(_dimension_line("Weakest", weakest)))
    for f in grade.flag_details:
        out.extend(sections(flag_text(f.name, f.message, f.sentence, f.rewrite)))
    explained = {f.name for f in grade.flag_details}
    for name in grade.flags:
        if name not in explained:
            out.extend(sections(flag_text(name)))
    return out


def turn_blocks(turn: Turn, *, user_id: str | None) -> list[Block]:
    """Everything said back after one message: the grade, any notice, then the next question."""
    out: list[Block] = []
    if turn.grade is not None:
        out += grade_blocks(turn.grade, user_id=user_id, best_score=turn.best_score,
                            attempt=turn.attempt, notice=turn.notice)
    elif turn.notice:
        who = f"{mention(user_id)} " if user_id else ""
        out += sections(f"{who}{escape(turn.notice)}")
    if turn.next is not None:
        if out:
            out.append(DividerBlock())
        out += question_blocks(turn.next)
        out.append(context("Reply to answer · `skip` · `retry` · `stop`"))
    return out


def turn_text(turn: Turn) -> str:
    """The notification fallback for a turn's message."""
    if turn.grade is not None:
        return f"{turn.grade.score}/100 — {turn.grade.verdict}"
    if turn.next is not None:
        return question_title(turn.next)
    return turn.notice or "Incident Gauntlet"


def interview_over_text(status: str, score: int | None) -> str:
    """For someone who replies again in a thread whose interview they already finished."""
    result = f" ({score}/100)" if score is not None else ""
    return (f"Your interview in this thread is {status}{result}. One interview per prompt: practise "
            "more with `/gauntlet drill`, or answer tomorrow's prompt.")


def scorecard_blocks(card: Scorecard, *, user_id: str | None = None,
                     rank_note: str | None = None) -> list[Block]:
    title = "Scorecard" if card.status == "finished" else f"Scorecard ({card.status})"
    result = f"{card.score}/100 — {card.verdict}" if card.answered else "no answers yet"
    out: list[Block] = [header(f"{title}: {result}")]
    if user_id:
        line = f"{mention(user_id)} finished the gauntlet." if card.status == "finished" else mention(user_id)
        if rank_note:
            line += f" {escape(rank_note)}"
        out.append(SectionBlock(text=MarkdownTextObject(text=line)))
    rounds = []
    for r in card.rounds:
        if r.score is None:
            state = "skipped" if r.reached else "not reached"
            rounds.append(f"`{'·' * 10}` {escape(r.title)} — {state}")
        else:
            tries = f" ({r.attempts} attempts)" if r.attempts > 1 else ""
            rounds.append(f"`{bar(r.score, 100)}` {escape(r.title)} — {r.score}/100{tries}")
    if rounds:
        out.extend(sections("*Rounds*\n" + "\n".join(rounds)))
    dims = [f"`{bar(d.score, d.max)}` {escape(d.label)} — {round(100 * d.fraction)}%"
            for d in sorted(card.dimensions, key=lambda d: -d.fraction) if d.max]
    if dims:
        out.extend(sections("*By dimension*\n" + "\n".join(dims)))
    if card.flags:
        out.append(context("Flags raised: " + ", ".join(escape(f.replace("_", " ")) for f in card.flags)))
    if card.timed:
        out.extend(sections(clock_text(card)))
    out.append(DividerBlock())
    out.extend(sections(f"*Practise next:* {escape(card.practise_next)}"))
    return out


def clock_text(card: Scorecard) -> str:
    """A timed drill's clock: each answer's time and words, and the elapsed time against 20 minutes."""
    lines = ["*The clock* (about 2:00 and 350 words an answer)"]
    for t in card.times:
        what = f"{t.title} (follow-up)" if t.follow_up else t.title
        note = f" — _{TRIM_NOTE}_" if t.far_over else ""
        lines.append(f"`{mmss(t.seconds):>6}` {escape(what)} · {t.words} words{note}")
    lines.append(escape(elapsed_line(card.elapsed, len(card.times))))
    return "\n".join(lines)


# ---- daily prompt, leaderboard, stats, home, help -------------------------------------------------

def prompt_blocks(text: str) -> list[Block]:
    return [
        SectionBlock(text=MarkdownTextObject(text="*Today's incident interview*")),
        *sections(escape(text)),
        context("Reply in this thread to be interviewed. Each person gets their own follow-ups."),
    ]


def leaderboard_blocks(rows: Sequence[BoardRow], *, period: str, you: str | None = None) -> list[Block]:
    names = {"week": "This week", "month": "This month", "all": "All time"}
    lines = []
    for row in rows:
        streak = f" · {row.streak}-day streak" if row.streak > 1 else ""
        marker = " ← you" if you and row.user_id == you else ""
        rounds = "round" if row.rounds == 1 else "rounds"
        lines.append(f"{row.rank}. {mention(row.user_id)} — {row.points} pts ({row.rounds} {rounds}){streak}"
                     f"{marker}")
    out: list[Block] = [header(f"Leaderboard — {names.get(period, period)}")]
    out.extend(sections("\n".join(lines) if lines else "_No points yet. Answer a prompt to start._"))
    return out


def stats_blocks(stats: PersonStats) -> list[Block]:
    """The person's own numbers."""
    def rank(r: int | None) -> str:
        return f"#{r}" if r is not None else "—"

    def score(v: int | None) -> str:
        return f"{v}/100" if v is not None else "—"

    fields = [
        f"*Points this week*\n{stats.points_week} (rank {rank(stats.rank_week)})",
        f"*Points all time*\n{stats.points_all} (rank {rank(stats.rank_all)})",
        f"*Interviews finished*\n{stats.interviews}",
        f"*Rounds graded*\n{stats.rounds_graded}",
        f"*Average round*\n{score(stats.average_score)}",
        f"*Best interview*\n{score(stats.best_score)}",
        f"*Streak*\n{stats.streak} prompt day{'s' if stats.streak != 1 else ''}",
    ]
    out: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*Your practice* {mention(stats.user_id)}")),
        SectionBlock(fields=[MarkdownTextObject(text=f) for f in fields]),
    ]
    if stats.weakest_dimension:
        out.append(context(f"Weakest dimension lately: *{escape(stats.weakest_dimension)}*"))
    if stats.opted_out:
        out.append(context("You are off the leaderboards. `/gauntlet optin` to rejoin."))
    return out


def drill_button(round_id: str | None = None) -> ButtonElement:
    return ButtonElement(text=PlainTextObject(text="Start a drill"), action_id=START_DRILL_ACTION,
                         value=round_id or "full", style="primary")


def home_view(*, stats: PersonStats, recent: Sequence[Scorecard], board: Sequence[BoardRow],
              notice: str | None = None) -> dict:
    """The App Home tab: stats, recent scorecards, a drill button and this week's leaderboard. A
    `notice` (mrkdwn we composed) goes at the top: why the last button press did nothing, and what to do."""
    blocks: list[Block] = [header("Incident Gauntlet")]
    if notice:
        blocks += sections(f":warning: {notice}")
        blocks.append(DividerBlock())
    blocks += stats_blocks(stats)
    blocks.append(ActionsBlock(elements=[drill_button()]))
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text="*Recent scorecards*")))
    for card in recent:
        status = "" if card.status == "finished" else f" ({escape(card.status)})"
        line = f"`{bar(card.score, 100)}` *{card.score}/100* {escape(card.verdict)}{status}"
        blocks.extend(sections(f"{line}\nPractise next: {escape(card.practise_next)}"))
    if not recent:
        blocks.append(context("No interviews yet. Start a drill, or reply to a daily prompt."))
    blocks.append(DividerBlock())
    blocks += leaderboard_blocks(board, period="week", you=stats.user_id)
    # A Home tab takes 100 blocks; every piece above is bounded well below that.
    return {"type": "home", "blocks": [b.to_dict() for b in blocks[:100]]}


HELP = """*Incident Gauntlet* — practise the production-incident interview story.
• `/gauntlet drill [round] [timed]` — a private drill in a DM (the full gauntlet, or one round:
  opening, probe, sql, constraint, curveball, synthesis; `timed` runs it against the clock)
• `/gauntlet story [interview id]` — your best answers assembled into one STAR write-up, as a file in our DM
• `/gauntlet leaderboard [week|month|all]` — who is practising
• `/gauntlet me` — your own numbers
• `/gauntlet optout` / `/gauntlet optin` — leave or join the leaderboards
• `/gauntlet schedule #channel 09:30 Europe/Berlin mon-fri` — a daily prompt (admins and channel managers)
• `/gauntlet schedule off` — stop this channel's daily prompt · `/gauntlet schedule` — show it
• `/gauntlet feedback thread|ephemeral|dm` — where this channel's feedback goes
• `/gauntlet cohort create NAME` · `add @a @b` (invites them) · `remove @a` · `pause @a until 2026-12-01` ·
  `list` · `export NAME` · `leave NAME` — practice cohorts (`/gauntlet cohort help` for all)
• `/gauntlet board cohort NAME|channel|improvement|season [YYYY-MM]` — this month's boards, past seasons
• `/gauntlet share on|off NAME` — let that cohort's managers read your answers
• `/gauntlet forget-me` — delete everything the bot holds about you
In an interview, reply to answer; `skip`, `retry` and `stop` work too."""


def help_blocks(problem: str | None = None) -> list[Block]:
    out: list[Block] = []
    if problem:
        out.append(SectionBlock(text=MarkdownTextObject(text=escape(problem))))
    out.extend(sections(HELP))
    return out
