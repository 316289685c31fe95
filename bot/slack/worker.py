"""Workers: take rows from the inbox and do their work, and deliver the outbox until Slack accepts.

`gauntlet worker` runs this in a process of its own (scale out: as many as you like, on PostgreSQL);
`gauntlet serve` runs one for you. Claims are leased (`bot.pipeline.queue`), so a worker that dies leaves
its rows to be taken over when the lease runs out.

Delivery never posts twice: each message carries its outbox key in Slack message metadata, and an
attempt that follows one whose outcome is unknown (a 5xx, a lost connection, a killed worker) first
looks for that key in the conversation. A 429 waits its Retry-After; a 5xx or connection error backs
off and tries again; a terminal error (archived channel, user gone, token revoked) stops the entry and
the person gets it in their DM (with a note in the thread, when the thread is still there), or the
operator is told in the log when that cannot reach them either.
Ephemeral messages and response_url replies cannot be looked up, so those are the exception: after an
unknown outcome they are sent again.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from datetime import datetime, timedelta
from typing import ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot.pipeline import queue
from bot.pipeline.queue import InboxItem, OutboxItem
from bot.slack import scheduled
from bot.slack.pacing import client_pacer
from bot.store.db import session_scope

log = logging.getLogger("gauntlet.worker")

METADATA_TYPE = "gauntlet_reply"
# A row's work takes milliseconds; the lease only bounds how long a dead worker's rows wait. Work that
# outlives its lease is fenced (it rolls back), so a short lease costs repeated work, never double work.
INBOX_LEASE = timedelta(seconds=float(os.environ.get("GAUNTLET_INBOX_LEASE_SECONDS") or 15))
# Longer than one delivery can take (the client's 15 s timeout, a DM to open, a history to read).
OUTBOX_LEASE = timedelta(seconds=float(os.environ.get("GAUNTLET_OUTBOX_LEASE_SECONDS") or 60))
INBOX_ATTEMPTS = 8  # a row that fails this often is a bug, not an outage: it stops and the person is told
OUTBOX_ATTEMPTS = 40  # with backoff capped at five minutes: a Slack outage of about three hours
BACKOFF_BASE = 0.5
BACKOFF_CAP = 300.0
# Slack's answers that mean "this will not work however often you try".
TERMINAL = {
    "channel_not_found", "is_archived", "not_in_channel", "user_not_found", "user_not_visible",
    "account_inactive", "token_revoked", "token_expired", "invalid_auth", "not_authed", "no_permission",
    "missing_scope", "cannot_dm_bot", "user_disabled", "restricted_action", "team_access_not_granted",
    "ekm_access_denied", "org_login_required", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
    "no_text", "too_many_attachments", "channel_is_archived", "expired_url", "used_url", "invalid_token",
}
WORKSPACE_GONE = {"token_revoked", "token_expired", "invalid_auth", "not_authed", "account_inactive",
                  "team_access_not_granted", "invalid_token"}
# The channel itself is out of reach: a note in it could not be delivered either.
CHANNEL_GONE = {"channel_not_found", "is_archived", "not_in_channel", "channel_is_archived"}


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: doubling from half a second, capped, with jitter."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempt - 1)) * random.uniform(0.75, 1.0)


def delivery_client(client: WebClient) -> WebClient:
    """The same token and API address, with no retries of its own: a 5xx or a dropped connection may
    have posted, so the worker decides (after looking) instead of the SDK resending blind; a 429 puts
    the row back until its Retry-After instead of holding a worker thread."""
    return WebClient(token=client.token, base_url=client.base_url, retry_handlers=[], timeout=15)


class Worker:
    """Threads that claim inbox and outbox rows until stopped. `g` is the app's `Gauntlet`."""

    running: ClassVar[weakref.WeakSet[Worker]] = weakref.WeakSet()  # started, not stopped (tests stop all)

    def __init__(self, g, *, threads: int = 2, poll: float = 0.2, name: str | None = None,
                 inbox_lease: timedelta = INBOX_LEASE, outbox_lease: timedelta = OUTBOX_LEASE):
        self._g = weakref.ref(g)  # an app that is gone (a finished test) lets its worker end
        self.db = g.db
        self.threads, self.poll = threads, poll
        self.name = name or queue.worker_name()
        self.inbox_lease, self.outbox_lease = inbox_lease, outbox_lease
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []
        self._clients: dict[str, WebClient] = {}

    # ---- running ------------------------------------------------------------------------------------

    def start(self) -> Worker:
        if not self._running:
            g = self._g()
            try:
                from bot.slack.interview import adopt_received

                adopt_received(g)  # answers an older version recorded and never graded
            except DBAPIError as exc:
                log.warning("could not look for answers left ungraded by an older version (%s); the next "
                            "start looks again", exc.__class__.__name__)
            except Exception:  # never keeps the worker from starting: the next start looks again
                log.exception("could not take answers left ungraded by an older version into the inbox")
            for n in range(self.threads):
                t = threading.Thread(target=self._loop, name=f"gauntlet-worker-{n}", daemon=True)
                t.start()
                self._running.append(t)
            Worker.running.add(self)
        return self

    def wake(self) -> None:
        """Something was recorded: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._running:
            if t is not threading.current_thread():
                t.join(timeout)
        self._running = []
        Worker.running.discard(self)

    def _loop(self) -> None:
        while not self._stop.is_set():
            g = self._g()
            if g is None:
                return
            try:
                busy = self.run_once(g)
            except DBAPIError as exc:
                log.warning("worker could not reach the database (%s); trying again", exc.__class__.__name__)
                busy = False
            except Exception:
                log.exception("worker loop failed; carrying on")
                busy = False
            del g
            if not busy:
                self._wake.wait(self.poll)
                self._wake.clear()

    def run_once(self, g=None) -> bool:
        """Claim and handle one inbox row and one outbox row; True when there was anything to do."""
        g = g or self._g()
        did = False
        for item_id in queue.claim_inbox(self.db, worker=self.name, lease=self.inbox_lease):
            self._handle(g, item_id)
            did = True
        for item_id in queue.claim_outbox(self.db, worker=self.name, lease=self.outbox_lease):
            self._deliver(g, item_id)
            did = True
        return did

    def drain(self, timeout: float = 30.0) -> None:
        """Run until neither table has claimable work (tests, tools): raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.run_once() and not any(queue.backlog(self.db).values()):
                return
            time.sleep(0.01)
        raise TimeoutError(f"work left after {timeout} s: {queue.backlog(self.db)}")

    # ---- the inbox -------------------------------------------------------------------------------------

    def _handle(self, g, item_id: int) -> None:
        from bot.slack.interview import process

        with Session(self.db) as s:
            item = s.get(InboxItem, item_id)
        if item is None or item.status != queue.PENDING:
            return
        try:
            process(g, item, self.name)
        except queue.LeaseLost:
            log.warning("inbox #%d was taken over by another worker; its work here rolled back", item_id)
        except Exception as exc:
            self._inbox_failed(g, item, exc)

    def _inbox_failed(self, g, item: InboxItem, exc: Exception) -> None:
        from bot.store.db import is_database_outage

        outage = is_database_outage(exc)
        if outage or item.attempts < INBOX_ATTEMPTS:
            log.warning("inbox #%d (%s) failed on attempt %d: %s; trying again", item.id, item.kind,
                        item.attempts, exc.__class__.__name__, exc_info=not outage)
            queue.retry_inbox(self.db, item.id, self.name, delay=timedelta(seconds=backoff(item.attempts)),
                              error=exc.__class__.__name__)
            return
        log.error("inbox #%d (%s) failed %d times (%s); giving up and telling the person", item.id,
                  item.kind, item.attempts, exc.__class__.__name__)
        from bot.slack import blocks as bk
        from bot.slack.interview import Work, owe_message, thread_conv

        work = Work(g, item, self.name)
        text = ("Sorry, something went wrong on my side with your last message, and I could not grade it. "
                "It has been logged; please send it again later.")
        p = item.payload

        def owe(s: Session) -> None:
            in_thread = item.conv == thread_conv(item.workspace, p.get("channel") or "",
                                                  p.get("thread_ts") or "", item.user_id)
            owe_message(s, work, key=f"inbox:{item.id}:failed", mode="ephemeral" if in_thread else "dm",
                        channel=p.get("channel") or "", thread_ts=p.get("thread_ts") if in_thread else None,
                        user=item.user_id, blocks=bk.sections(text), text=text)
            queue.finish_inbox(s, item.id, self.name, status=queue.FAILED, error=exc.__class__.__name__)

        try:
            with session_scope(self.db) as s:
                owe(s)
        except Exception:
            log.exception("could not record the failure of inbox #%d", item.id)

    # ---- the outbox -------------------------------------------------------------------------------------

    def _client(self, g, workspace: str) -> WebClient:
        base = g.client_for(workspace) if g.client_for is not None else g.client
        key = f"{workspace}:{base.token}"
        if key not in self._clients:
            self._clients[key] = delivery_client(base)
        return self._clients[key]

    def _deliver(self, g, item_id: int) -> None:
        with Session(self.db) as s:
            item = s.get(OutboxItem, item_id)
        if item is None or item.status != queue.PENDING:
            return
        chart = scheduled.is_chart(item)  # a digest's chart: an upload, not a message
        try:
            client = self._client(g, item.workspace)
            if item.attempts > 1 and item.clean_through < item.attempts - 1:
                found = scheduled.find_chart(g, client, item) if chart else find_posted(client, item)
                if found is not None:
                    log.info("outbox #%d had reached Slack before; not posting it again", item.id)
                    queue.outbox_sent(self.db, item.id, self.name, ts=found,
                                      then=scheduled.on_sent(item, found))
                    return
            ts = scheduled.upload_chart(g, client, item) if chart else send(client, item)
        except SlackApiError as exc:
            self._slack_refused(g, item, exc)
            return
        except Exception as exc:  # a dropped connection, a timeout, a body that is not JSON: outcome unknown
            self._retry(item, exc.__class__.__name__, reached_slack=True)
            return
        if not queue.outbox_sent(self.db, item.id, self.name, ts=ts, then=scheduled.on_sent(item, ts)):
            log.warning("outbox #%d was sent after its lease had passed to another worker", item.id)

    def _slack_refused(self, g, item: OutboxItem, exc: SlackApiError) -> None:
        status = getattr(exc.response, "status_code", 200)
        error = str((exc.response.data or {}).get("error") if isinstance(exc.response.data, dict) else "")
        if status == 429:
            headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
            try:
                retry_after = max(0.0, float(headers.get("retry-after", 1)))
            except (TypeError, ValueError):
                retry_after = 1.0
            client_pacer(self._client(g, item.workspace)).rate_limited(retry_after)
            self._retry(item, "ratelimited", reached_slack=False, delay=retry_after)
        elif status >= 500:
            self._retry(item, f"http_{status}", reached_slack=True)
        elif error in TERMINAL:
            self._terminal(g, item, error)
        else:  # internal_error, fatal_error, service_unavailable, request_timeout, ratelimited, unknown
            self._retry(item, error or f"http_{status}", reached_slack=error in ("request_timeout", ""))

    def _retry(self, item: OutboxItem, error: str, *, reached_slack: bool,
               delay: float | None = None) -> None:
        if item.attempts >= OUTBOX_ATTEMPTS:
            self._terminal(self._g(), item, f"gave up after {item.attempts} attempts ({error})")
            return
        wait = delay if delay is not None else backoff(item.attempts)
        log.info("outbox #%d: %s on attempt %d; again in %.1f s", item.id, error, item.attempts, wait)
        queue.outbox_retry(self.db, item.id, self.name, delay=timedelta(seconds=wait), error=error,
                           reached_slack=reached_slack)

    def _terminal(self, g, item: OutboxItem, error: str) -> None:
        if not queue.outbox_failed(self.db, item.id, self.name, error=error,
                                   then=scheduled.on_refused(item, error)):
            return
        if scheduled.is_scheduled(item.key):
            # A scheduled message: its job is turned off and whoever set it up is told (a refusal), or
            # the operator reads it in the log (an outage outlasting every attempt).
            if g is not None:
                scheduled.refused(g, item, SlackApiError(error, _Refusal(200, error)),
                                  terminal=error in TERMINAL)
            return
        fallback = (g is not None and item.mode not in ("dm", "home") and item.user_id
                    and error not in WORKSPACE_GONE
                    and not item.key.endswith((":fallback", ":note")))
        if not fallback:
            log.error("outbox #%d (%s) to %s in workspace %s stopped: %s; nobody else can be told in Slack",
                      item.id, item.key, item.user_id, item.workspace, error)
            return
        log.warning("outbox #%d (%s) stopped: %s; telling %s in their DM instead", item.id, item.key, error,
                    item.user_id)
        from bot.slack import blocks as bk

        where = f"<#{item.channel}>" if item.channel and item.mode != "response" else "the conversation"
        note = bk.context(f"I couldn't post this in {where} (Slack said `{error}`), so here it is.")
        with session_scope(self.db) as s:
            if item.mode == "thread" and item.thread_ts and error not in CHANNEL_GONE:
                # The person is looking at the thread: a note there (only they see it) says where it went.
                said = (f"I couldn't post my reply in this thread (Slack said `{error}`), so I've sent it "
                        "to our DM.")
                queue.owe(s, key=f"{item.key}:note", workspace=item.workspace, conv=item.conv,
                          mode="ephemeral", channel=item.channel, thread_ts=item.thread_ts,
                          user_id=item.user_id, text=said,
                          blocks=[b.to_dict() for b in bk.sections(said)])
            queue.owe(s, key=f"{item.key}:fallback", workspace=item.workspace,
                      conv=f"{item.workspace}:dm:{item.user_id}", mode="dm", user_id=item.user_id,
                      text=item.text, blocks=[note.to_dict(), *item.blocks][:50])


def _metadata(item: OutboxItem) -> dict:
    return {"event_type": METADATA_TYPE, "event_payload": {"key": item.key}}


def send(client: WebClient, item: OutboxItem) -> str | None:
    """One attempt at delivering an outbox row; returns the posted message's ts when there is one."""
    if item.mode == "ephemeral":
        client.chat_postEphemeral(channel=item.channel, user=item.user_id, thread_ts=item.thread_ts,
                                  blocks=item.blocks, text=item.text)
        return None
    if item.mode == "home":
        # Publishing a Home view replaces the last one: sending it again after an unknown outcome is
        # harmless, so it is never looked up first.
        client.views_publish(user_id=item.user_id, view={"type": "home", "blocks": item.blocks})
        return None
    if item.mode == "response":
        resp = WebhookClient(item.response_url).send(text=item.text, blocks=item.blocks,
                                                      response_type="ephemeral", replace_original=False)
        if resp.status_code >= 500:
            raise ConnectionError(f"response_url answered {resp.status_code}")
        if resp.status_code >= 400:
            raise SlackApiError("response_url refused", _Refusal(resp.status_code, "expired_url"))
        return None
    channel = item.channel
    if item.mode == "dm":
        channel = client.conversations_open(users=item.user_id)["channel"]["id"]
    thread_ts = item.thread_ts if item.mode == "thread" else None
    # A reply someone is waiting for: counted against the workspace's budget, held only by a 429 pause.
    client_pacer(client).spend(channel)
    resp = client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=item.blocks, text=item.text,
                                   metadata=_metadata(item), unfurl_links=False, unfurl_media=False)
    return resp.get("ts")


def find_posted(client: WebClient, item: OutboxItem) -> str | None:
    """The ts of the message an earlier attempt posted for this row, if Slack has it; None if not (or
    for kinds Slack cannot be asked about)."""
    if item.mode in ("ephemeral", "response", "home"):
        return None
    channel = item.channel
    if item.mode == "dm":
        channel = client.conversations_open(users=item.user_id)["channel"]["id"]
    oldest = f"{_epoch(item.created_at) - 60:.6f}"
    if item.mode == "thread" and item.thread_ts:
        pages = client.conversations_replies(channel=channel, ts=item.thread_ts, oldest=oldest, limit=200,
                                             include_all_metadata=True)
    else:
        pages = client.conversations_history(channel=channel, oldest=oldest, limit=200,
                                             include_all_metadata=True)
    for message in pages.get("messages") or []:
        meta = message.get("metadata") or {}
        key = (meta.get("event_payload") or {}).get("key")
        if meta.get("event_type") == METADATA_TYPE and key == item.key:
            return message.get("ts")
    return None


def _epoch(at: datetime) -> float:
    from bot.store.channels import as_utc

    return as_utc(at).timestamp()


class _Refusal:
    """Enough of a SlackResponse for a refused response_url post to be handled like a Web API error."""

    def __init__(self, status: int, error: str):
        self.status_code, self.data, self.headers = status, {"ok": False, "error": error}, {}

    def get(self, key: str, default=None):
        return self.data.get(key, default)


def deliver_now(g, key: str, *, wait: float = 0.0) -> OutboxItem | None:
    """Deliver the outbox row `key` from this process, as a worker would (the same backoff, lookup
    before a retry after an unknown outcome, and terminal handling), for up to `wait` seconds: for a
    terminal command that owes one message and wants to say whether Slack took it. Returns the row as
    it stands then (`sent`, `failed`, or still `pending` for whichever worker runs next); None if the
    key is unknown. `g` needs `db`, `client` and `client_for`."""
    worker = Worker(g, threads=0)
    deadline = time.monotonic() + wait
    while True:
        for item_id in queue.claim_outbox(g.db, worker=worker.name, lease=worker.outbox_lease, key=key):
            worker._deliver(g, item_id)
        with Session(g.db) as s:
            item = s.exec(select(OutboxItem).where(OutboxItem.key == key)).first()
        if item is None or item.status != queue.PENDING:
            return item
        pause = (_epoch(item.available_at) - time.time()) if item.available_at else 0.2
        if time.monotonic() + max(pause, 0.05) > deadline:
            return item
        time.sleep(max(pause, 0.05))


def start_embedded(g, *, threads: int = 2) -> Worker:
    """The worker inside `gauntlet serve` (Socket Mode) or an in-process app: started on first use."""
    worker = Worker(g, threads=threads)
    return worker.start()

