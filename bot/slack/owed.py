"""Messages owed through the outbox: one rendered reply written down in the transaction of the work that
produced it (split at Slack's 50 blocks), keyed so a retried piece of work cannot owe it twice."""

from __future__ import annotations

from sqlmodel import Session

from bot.pipeline import queue
from bot.slack import blocks as bk


def dm_conv(workspace: str, user: str) -> str:
    return f"{workspace}:dm:{user}"


def thread_conv(workspace: str, channel: str, thread_ts: str, user: str) -> str:
    return f"{workspace}:{channel}:{thread_ts}:{user}"


def owe_message(s: Session, w, *, key: str, mode: str, channel: str, thread_ts: str | None, user: str,
                blocks, text: str) -> None:
    """Owe one rendered message (split at Slack's 50 blocks) to `user` where `mode` says; `w` is the
    work item it belongs to (its workspace)."""
    conv = dm_conv(w.workspace, user) if mode == "dm" else f"{w.workspace}:{channel}:{thread_ts or ''}:{user}"
    for n, chunk in enumerate(bk.messages(blocks)):
        queue.owe(s, key=key if n == 0 else f"{key}#{n}", workspace=w.workspace, conv=conv, mode=mode,
                  channel=channel, thread_ts=thread_ts, user_id=user, text=text, blocks=chunk)
