"""Scheduled messages through the outbox: daily prompts, cohort drills, reminders and digests.

The job that decides a message is due records it in the outbox in the same transaction as the work
that produced it (the prompt chosen, the drill marked sent, the digest marked sent), and the worker
delivers it like any reply: backoff on 5xx, 429 and lost connections, a metadata lookup before an
attempt that follows an unknown outcome, so a retried delivery never posts twice. What a delivery
settles elsewhere is written in the transaction that marks it sent (a prompt's ts, which its thread's
replies are matched on). A terminal error stops the entry and turns the job off, and whoever set it up
is told once (`bot.slack.lifecycle`); a refused chart only tells the manager it is missing.

Outbox keys name the job: `daily:<post id>:<attempt>`, `cohort-drill:<drill id>`,
`cohort-reminder:<drill id>`, `digest:<digest id>`, and `digest:<digest id>:chart` for the digest's
chart (an upload: `mode` file), owed with the summary and delivered after it, looked up in the DM's
history before an attempt that follows an unknown outcome, so it is never shared twice.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlmodel import Session

from bot.pipeline import queue
from bot.slack import blocks as bk
from bot.store.channels import DailyPost, prompt_delivered, prompt_undeliverable
from bot.store.cohorts import Cohort, CohortDigest, CohortDrill
from bot.store.inbox import OutboxItem
from bot.store.peers import turn_opened, turn_unopened

log = logging.getLogger("gauntlet.slack.scheduled")

# Peer mocks' pairing DMs and each turn's first message are settled here too (`bot.slack.peers`).
PREFIXES = ("daily:", "cohort-drill:", "cohort-reminder:", "digest:", "peer-pairing:", "peer-intro:")


def is_scheduled(key: str) -> bool:
    return key.startswith(PREFIXES)


# ---- owing --------------------------------------------------------------------------------------------

class OutboxPoster:
    """The scheduler's poster: `bot.daily` calls `owe` inside the transaction that chooses the prompt."""

    def __init__(self, g):
        self.g = g
        self.last_owed: str | None = None  # the key owed last (`gauntlet post-prompt` delivers its own)

    def owe(self, s: Session, post: DailyPost, prompt) -> None:
        key = f"daily:{post.id}:{post.attempts}"
        self.last_owed = key
        queue.owe(s, key=key, workspace=post.workspace,
                  conv=f"{post.workspace}:{post.channel}:daily", mode="channel", channel=post.channel,
                  text=prompt.text, blocks=bk.messages(bk.prompt_blocks(prompt.text))[0])

    def __call__(self, workspace: str, channel: str, prompt) -> str:  # a direct post, for other callers
        from bot.slack.interview import scheduled_poster

        return scheduled_poster(self.g)(workspace, channel, prompt)


def _owe_blocks(s: Session, *, key: str, workspace: str, user: str, channel: str | None, blocks,
                text: str) -> None:
    mode = "channel" if channel else "dm"
    for n, chunk in enumerate(bk.messages(blocks)):
        queue.owe(s, key=key if n == 0 else f"{key}#{n}", workspace=workspace, conv=f"{workspace}:dm:{user}",
                  mode=mode, channel=channel, user_id=user, text=text, blocks=chunk)


def owe_drill(s: Session, *, drill_id: int, workspace: str, user: str, dm: str, interview_id: int,
              blocks, text: str, now: datetime) -> None:
    """The drill's question, owed with the drill marked sent (so no later run hands it out again)."""
    _owe_blocks(s, key=f"cohort-drill:{drill_id}", workspace=workspace, user=user, channel=dm, blocks=blocks,
                text=text)
    t = CohortDrill.__table__
    s.execute(update(t).where(t.c.id == drill_id).values(sent_at=_utc(now), interview_id=interview_id))


def owe_reminder(s: Session, *, drill_id: int, workspace: str, user: str, channel: str | None, blocks,
                 text: str) -> None:
    _owe_blocks(s, key=f"cohort-reminder:{drill_id}", workspace=workspace, user=user, channel=channel,
                blocks=blocks, text=text)


def owe_digest(s: Session, *, digest_id: int, workspace: str, manager: str, blocks, text: str,
               now: datetime) -> None:
    """The digest's summary and its chart, owed with the digest marked sent. The chart is an entry of its
    own in the same conversation, so it is delivered after the summary (`mode` file: rendered and
    uploaded when it is delivered)."""
    _owe_blocks(s, key=f"digest:{digest_id}", workspace=workspace, user=manager, channel=None, blocks=blocks,
                text=text)
    queue.owe(s, key=f"digest:{digest_id}:chart", workspace=workspace, conv=f"{workspace}:dm:{manager}",
              mode="file", user_id=manager, text="The weekly chart of rubric dimensions", blocks=[])
    t = CohortDigest.__table__
    s.execute(update(t).where(t.c.id == digest_id).values(sent_at=_utc(now)))


def _utc(now: datetime) -> datetime:
    from datetime import UTC

    return now.astimezone(UTC)


# ---- settling, for the worker -------------------------------------------------------------------------

def _ids(key: str) -> tuple[str, int]:
    kind, _, rest = key.partition(":")
    return kind, int(rest.split(":")[0].split("#")[0])


def on_sent(item: OutboxItem, ts: str | None) -> Callable | None:
    """What the delivery settles, in the transaction that marks it sent."""
    if item.key.startswith("daily:") and "#" not in item.key:
        _, post_id = _ids(item.key)
        return lambda conn: prompt_delivered(conn, post_id, ts)
    if item.key.startswith("peer-intro:") and "#" not in item.key:
        _, session_id = _ids(item.key)
        return lambda conn: turn_opened(conn, session_id, ts)
    return None


# ---- a digest's chart: an upload, delivered like a message ------------------------------------------

def is_chart(item: OutboxItem) -> bool:
    return item.mode == "file" and item.key.startswith("digest:") and item.key.endswith(":chart")


def _chart_of(g, item: OutboxItem):
    """The digest's data and the file's name and title, or None when the digest is gone (forget-me)."""
    from bot.cohorts.digest import build_digest

    _, digest_id = _ids(item.key)
    with Session(g.db) as s:
        row = s.execute(select(CohortDigest, Cohort.name).join(Cohort, Cohort.id == CohortDigest.cohort_id)
                        .where(CohortDigest.id == digest_id)).first()
    if row is None:
        return None
    digest, cohort = row
    data = build_digest(g.db, digest.workspace, cohort, now=_as_aware(digest.claimed_at))
    return data, f"{data.cohort}-{digest.week_start:%Y-%m-%d}.png", \
        f"Cohort {data.cohort}: rubric dimensions per week"


def upload_chart(g, client, item: OutboxItem) -> str | None:
    """One attempt at uploading a digest's chart to the manager's DM; returns the file's id.

    Only the last of files_upload_v2's three calls (files.completeUploadExternal) shares the file: an
    attempt that fails before it leaves an unshared upload nobody sees, and one whose outcome is unknown
    is looked up (`find_chart`) before the next attempt uploads again."""
    from bot.cohorts.digest import render_chart

    found = _chart_of(g, item)
    if found is None:
        return None
    data, filename, title = found
    dm = client.conversations_open(users=item.user_id)["channel"]["id"]
    with tempfile.TemporaryDirectory(prefix="gauntlet-chart-") as tmp:
        png = render_chart(data, Path(tmp) / "chart.png").read_bytes()
    resp = client.files_upload_v2(
        channel=dm, content=png, filename=filename, title=title,
        alt_txt=f"Line chart of each rubric dimension's weekly average for cohort {data.cohort}",
    )
    return ((resp.get("file") or {}).get("id") or None) if hasattr(resp, "get") else None


def find_chart(g, client, item: OutboxItem) -> str | None:
    """The id of the chart an earlier attempt shared in the manager's DM, if Slack has it: a shared file
    shows in the conversation's history as a message carrying it."""
    found = _chart_of(g, item)
    if found is None:
        return None
    _, filename, title = found
    dm = client.conversations_open(users=item.user_id)["channel"]["id"]
    from bot.store.channels import as_utc

    oldest = f"{as_utc(item.created_at).timestamp() - 60:.6f}"
    history = client.conversations_history(channel=dm, oldest=oldest, limit=200)
    for message in history.get("messages") or []:
        for f in message.get("files") or []:
            if f.get("name") == filename and f.get("title") == title:
                return f.get("id") or message.get("ts")
    return None


def _as_aware(at: datetime) -> datetime:
    from bot.store.channels import as_utc

    return as_utc(at)


def on_refused(item: OutboxItem, error: str) -> Callable | None:
    """What a terminal refusal settles, in the transaction that stops the entry."""
    if item.key.startswith("daily:") and "#" not in item.key:
        _, post_id = _ids(item.key)
        return lambda conn: prompt_undeliverable(conn, post_id, f"Slack answered {error}")
    if item.key.startswith("peer-intro:") and "#" not in item.key:
        _, session_id = _ids(item.key)
        return lambda conn: turn_unopened(conn, session_id)
    if item.key.startswith("digest:") and ":" not in item.key[len("digest:"):] and "#" not in item.key:
        # The summary stopped: its chart would arrive alone, without the words it illustrates.
        t = OutboxItem.__table__
        return lambda conn: conn.execute(
            update(t).where(t.c.key == f"{item.key}:chart", t.c.status == queue.PENDING)
            .values(status=queue.FAILED, error="the digest was not delivered", locked_until=None))
    return None


def refused(g, item: OutboxItem, exc: BaseException, *, terminal: bool) -> None:
    """After a scheduled message stopped: a terminal refusal turns its job off and whoever set it up is
    told once; giving up after an outage is logged (the job stays on: the next one goes out)."""
    from bot.slack import lifecycle

    if item.key.startswith(("peer-pairing:", "peer-intro:")):
        from bot.slack import peers

        peers.refused(g, item, exc, terminal=terminal)
        return
    if not terminal:
        log.error("scheduled message %s to workspace %s was not delivered: %s", item.key, item.workspace, exc)
        return
    kind, ident = _ids(item.key)
    if is_chart(item):
        _chart_refused(g, item, exc)
        return
    if kind == "daily":
        lifecycle.schedule_refused(g.db, g.client_for, item.workspace, item.channel or "", exc)
        return
    with Session(g.db) as s:
        if kind == "digest":
            found = s.execute(select(Cohort.name, CohortDigest.user_id)
                              .join(Cohort, Cohort.id == CohortDigest.cohort_id)
                              .where(CohortDigest.id == ident)).first()
        else:
            found = s.execute(select(Cohort.name, CohortDrill.user_id)
                              .join(Cohort, Cohort.id == CohortDrill.cohort_id)
                              .where(CohortDrill.id == ident)).first()
    if found is None:
        log.error("scheduled message %s stopped (%s); its job is gone", item.key, exc)
        return
    cohort, user = found
    if kind == "digest":
        lifecycle.digest_refused(g.db, g.client_for, item.workspace, cohort, user, exc)
    else:
        lifecycle.drill_refused(g.db, g.client_for, item.workspace, cohort, user, exc)


def _chart_refused(g, item: OutboxItem, exc: BaseException) -> None:
    """A chart Slack refuses for good (no files:write scope, say): the digest itself went out, so it
    stays on; the manager is told in their DM (through the outbox) that this week's chart is missing."""
    from bot.slack.errors import INSTALL_GONE, slack_error_code
    from bot.store.db import session_scope

    code = slack_error_code(exc) or exc.__class__.__name__
    log.warning("the chart of digest %s was refused: %s", item.key, code)
    if code in INSTALL_GONE or not item.user_id:
        return
    text = (f"I couldn't attach this week's chart to your digest: Slack answered `{code}` (the app may be "
            "missing the files:write permission). The digest above has the same figures.")
    with session_scope(g.db) as s:
        _owe_blocks(s, key=f"{item.key}:note", workspace=item.workspace, user=item.user_id, channel=None,
                    blocks=bk.sections(text), text=text)
