"""A fake Slack Web API: a stdlib HTTP server in a thread that records every call and answers with
plausible responses. It also receives `response_url` posts, can answer 429 with Retry-After, and takes
files the way `files_upload_v2` sends them (get an upload URL, POST the bytes there, complete).

It is as strict as Slack where kindness would hide bugs: every Web API call needs a bot token
(`not_authed` without one, `invalid_auth` / `token_revoked` for a bad one), chat.postMessage needs a
channel and text or blocks, and tests can make chosen methods or channels answer with Slack's error
codes (`fail`, `break_channel`), a 5xx (`server_error`) or a 429 (`rate_limit`)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

TEAM = "T0GAUNTLET"
BOT_USER = "UBOTGAUNT"
BOT_ID = "BBOTGAUNT"


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url" for posts to a command's response_url
    args: dict
    headers: dict
    path: str = ""
    response: dict = field(default_factory=dict)  # what the fake answered
    at: datetime | None = None  # the test's simulated clock when the call arrived, if it set one
    body: bytes = b""  # the raw bytes of a file upload

    @property
    def text(self) -> str:
        """The message's text and every piece of text in its blocks, for assertions."""
        parts = [str(self.args.get("text") or "")]
        blocks = self.args.get("blocks") or (self.args.get("view") or {}).get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        parts += list(_texts(blocks))
        return "\n".join(parts)


def _texts(node):
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
            yield node["text"]
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


@dataclass
class Upload:
    """A file that went through all three steps of files_upload_v2."""

    file_id: str
    filename: str
    title: str
    data: bytes
    channel: str | None
    initial_comment: str | None
    at: datetime | None


@dataclass
class FakeSlack:
    admins: set[str] = field(default_factory=set)
    user_tz: str = "Europe/Berlin"
    user_tzs: dict[str, str] = field(default_factory=dict)  # users.info `tz` per user (else user_tz)
    clock: Callable[[], datetime] | None = None  # stamps each recorded call with simulated time
    _pending_files: dict[str, dict] = field(default_factory=dict)  # file id → name, length, bytes
    calls: list[Call] = field(default_factory=list)
    rate_limits: dict[str, list[int]] = field(default_factory=dict)  # method → Retry-After values
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    url: str = ""
    socket_mode_url: str = ""  # what apps.connections.open hands out (a fake Socket Mode endpoint)
    revoked_tokens: set[str] = field(default_factory=set)  # answered token_revoked
    tokens: dict[str, str] = field(default_factory=dict)  # bot token → team id (default: any xoxb- → TEAM)
    failures: list[dict] = field(default_factory=list)  # scripted Slack errors, see fail()
    broken_channels: dict[str, str] = field(default_factory=dict)  # channel → error for every call on it
    server_errors: dict[str, list[int]] = field(default_factory=dict)  # method → HTTP statuses to answer

    # ---- strictness on demand ---------------------------------------------------------------

    def fail(self, method: str, error: str, *, times: int | None = None, **where: str) -> None:
        """Answer `method` with `{"ok": false, "error": error}` (for calls whose args match `where`),
        `times` times or for ever."""
        with self._lock:
            self.failures.append({"method": method, "error": error, "times": times, "where": where})

    def break_channel(self, channel: str, error: str = "is_archived") -> None:
        """Every call that names this channel answers `error` (archived, deleted, bot removed)."""
        self.broken_channels[channel] = error

    def server_error(self, method: str, *, status: int = 503, times: int = 1) -> None:
        """The next `times` calls of `method` get an HTTP `status` (5xx) with no JSON body."""
        self.server_errors.setdefault(method, []).extend([status] * times)

    def _scripted_error(self, method: str, args: dict) -> str | None:
        channel = args.get("channel") or args.get("channel_id")
        if channel and channel in self.broken_channels and method not in ("response_url",):
            return self.broken_channels[channel]
        with self._lock:
            for rule in self.failures:
                if rule["method"] != method or rule["times"] == 0:
                    continue
                if any(str(args.get(k)) != v for k, v in rule["where"].items()):
                    continue
                if rule["times"] is not None:
                    rule["times"] -= 1
                return rule["error"]
        return None

    def auth_error(self, method: str, token: str | None) -> str | None:
        """What Slack says about the token a call carried (None: it is fine)."""
        if method in ("response_url", "oauth.v2.access"):  # a client id and secret, not a token
            return None
        if not token:
            return "not_authed"
        if method == "apps.connections.open":
            return None if token.startswith("xapp-") else "not_allowed_token_type"
        if token in self.revoked_tokens:
            return "token_revoked"
        if not token.startswith("xoxb-"):
            return "not_allowed_token_type" if token.startswith(("xoxp-", "xapp-")) else "invalid_auth"
        if self.tokens and token not in self.tokens:
            return "invalid_auth"
        return None
    # method → [(HTTP status, posted_anyway)]: the next calls fail so; posted_anyway=True keeps the
    # message (Slack took it, the answer was lost on the way back), as a real 5xx or timeout can.
    http_failures: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)
    refusals: dict[str, str] = field(default_factory=dict)  # channel → the error posting there gets

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` are answered 429 with this Retry-After."""
        self.rate_limits.setdefault(method, []).extend([retry_after] * times)

    def fail_http(self, method: str, *, status: int = 500, times: int = 1,
                  posted_anyway: bool = False) -> None:
        """The next `times` calls of `method` get HTTP `status` (optionally after taking the message)."""
        with self._lock:
            self.http_failures.setdefault(method, []).extend([(status, posted_anyway)] * times)

    def _next_failure(self, method: str) -> tuple[int, bool] | None:
        with self._lock:
            queued = self.http_failures.get(method)
            return queued.pop(0) if queued else None

    def messages_in(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        """What chat.postMessage put in a channel (or one thread of it), as conversations.* return it."""
        out = []
        for call in self.of("chat.postMessage"):
            if call.args.get("channel") != channel or not call.response.get("ok"):
                continue
            if thread_ts is not None and call.args.get("thread_ts") != thread_ts:
                continue
            message = {"type": "message", "ts": call.response["ts"], "text": call.args.get("text"),
                       "bot_id": BOT_ID, "user": BOT_USER}
            if call.args.get("thread_ts"):
                message["thread_ts"] = call.args["thread_ts"]
            metadata = call.args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            if metadata:
                message["metadata"] = metadata
            out.append(message)
        if thread_ts is None:
            # A file shared to a channel shows in its history as a message carrying the file, as in Slack.
            for call in self.of("files.completeUploadExternal"):
                if call.args.get("channel_id") != channel or not call.response.get("ok"):
                    continue
                out.append({"type": "message", "subtype": "file_share", "ts": call.response["ts"],
                            "text": call.args.get("initial_comment") or "", "bot_id": BOT_ID,
                            "user": BOT_USER, "files": call.response["files"]})
            out.sort(key=lambda m: m["ts"])
        return out

    def record(self, call: Call) -> None:
        with self._lock:
            if self.clock is not None:
                call.at = self.clock()
            self.calls.append(call)

    def uploads(self) -> list[Upload]:
        """Files whose upload was completed, oldest first."""
        out = []
        for call in self.of("files.completeUploadExternal"):
            for f in json.loads(call.args["files"]):
                pending = self._pending_files[f["id"]]
                out.append(Upload(file_id=f["id"], filename=pending["filename"], title=f.get("title", ""),
                                  data=pending["data"], channel=call.args.get("channel_id"),
                                  initial_comment=call.args.get("initial_comment"), at=call.at))
        return out

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # Generous upper bounds: a passing test never waits them out, and a loaded CI machine running the
    # suite four processes at a time can take several seconds to start a server and its worker.
    def wait_for(self, predicate, *, timeout: float = 60.0, what: str = "a call"):
        """Poll the recorded calls until `predicate(calls)` returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.calls)
            found = predicate(snapshot)
            if found:
                return found
            time.sleep(0.02)
        methods = [c.method for c in self.calls]
        raise AssertionError(f"timed out waiting for {what}; calls so far: {methods}")

    def wait_for_call(self, method: str, *, count: int = 1, where=lambda c: True, timeout: float = 60.0):
        """Wait until at least `count` calls of `method` match `where`; return the matching calls."""
        def enough(calls):
            matching = [c for c in calls if c.method == method and where(c)]
            return matching if len(matching) >= count else None
        return self.wait_for(enough, timeout=timeout, what=f"{count} × {method}")

    # ---- answers ------------------------------------------------------------------------------

    def respond(self, method: str, args: dict, token: str | None = None) -> dict:
        if method == "apps.connections.open":
            if not self.socket_mode_url:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_mode_url}
        if method == "auth.test":
            return {"ok": True, "url": "https://gauntlet-test.slack.com/", "team": "Gauntlet Test",
                    "user": "incident-gauntlet", "team_id": self.tokens.get(token or "", TEAM),
                    "user_id": BOT_USER, "bot_id": BOT_ID}
        if method in ("chat.postMessage", "chat.postEphemeral") and args.get("channel") in self.refusals:
            return {"ok": False, "error": self.refusals[str(args.get("channel"))]}
        if method == "chat.postMessage":
            if not args.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if not (args.get("text") or args.get("blocks") or args.get("attachments")):
                return {"ok": False, "error": "no_text"}
            if len(args.get("blocks") or []) > 50:
                return {"ok": False, "error": "invalid_blocks"}
            ts = self.next_ts()
            return {"ok": True, "channel": args.get("channel"), "ts": ts,
                    "message": {"type": "message", "text": args.get("text"), "user": BOT_USER,
                                "bot_id": BOT_ID, "ts": ts}}
        if method == "chat.postEphemeral":
            if not args.get("channel"):
                return {"ok": False, "error": "channel_not_found"}
            if not args.get("user"):
                return {"ok": False, "error": "user_not_found"}
            if not (args.get("text") or args.get("blocks")):
                return {"ok": False, "error": "no_text"}
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "conversations.open":
            users = [u for u in str(args.get("users", "")).split(",") if u]
            if len(users) > 1:  # a group DM with these people and the bot, the same one every time
                return {"ok": True, "channel": {"id": "G" + "".join(u.lstrip("U") for u in sorted(users))}}
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).lstrip("U")}}
        if method == "views.open":
            if not args.get("trigger_id"):
                return {"ok": False, "error": "invalid_trigger_id"}
            return {"ok": True, "view": {"id": f"VMODAL{next(self._ts)}", **(args.get("view") or {})}}
        if method == "users.info":
            user = args.get("user")
            tz = self.user_tzs.get(str(user), self.user_tz)
            return {"ok": True, "user": {"id": user, "name": str(user).lower(), "tz": tz,
                                         "is_admin": user in self.admins, "is_owner": False,
                                         "is_bot": False}}
        if method in ("conversations.history", "conversations.replies"):
            thread = args.get("ts") if method == "conversations.replies" else None
            return {"ok": True, "messages": self.messages_in(str(args.get("channel")), thread),
                    "has_more": False}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        if method == "response_url":
            return {"ok": True}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            with self._lock:
                self._pending_files[file_id] = {"filename": args.get("filename"),
                                                "length": int(args.get("length") or 0), "data": None}
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = json.loads(args.get("files") or "[]")
            with self._lock:
                unknown = [f["id"] for f in files
                           if (self._pending_files.get(f["id"]) or {}).get("data") is None]
            if not files or unknown:
                return {"ok": False, "error": "invalid_file_id"}  # the bytes never arrived
            # "ts" is the fake's own: the message the share made in the channel's history.
            return {"ok": True, "ts": self.next_ts(),
                    "files": [{"id": f["id"], "title": f.get("title"),
                               "name": self._pending_files[f["id"]]["filename"]} for f in files]}
        # Like Slack: a method the fake does not know is an error the client sees, not a silent null.
        return {"ok": False, "error": "unknown_method"}

    def receive_file(self, file_id: str, data: bytes) -> tuple[int, str]:
        """Step two of files_upload_v2: the raw bytes POSTed to the upload URL."""
        with self._lock:
            pending = self._pending_files.get(file_id)
            if pending is None or pending["length"] != len(data):
                return 400, "bad upload"
            pending["data"] = data
        return 200, "OK - " + str(len(data))


def _handler(fake: FakeSlack):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            # The Web API's read methods (conversations.history, conversations.replies) come as GET.
            parsed = urlparse(self.path)
            method = parsed.path.rsplit("/", 1)[-1]
            args = dict(parse_qsl(parsed.query))
            answer = fake.respond(method, args)
            fake.record(Call(method=method, args=args, headers=dict(self.headers), path=parsed.path,
                             response=answer))
            self._send(200, answer)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            parsed = urlparse(self.path)
            if parsed.path.startswith("/upload/"):
                file_id = parsed.path.rsplit("/", 1)[-1]
                status, text = fake.receive_file(file_id, data)
                fake.record(Call(method="file_upload", args={"file_id": file_id}, headers=dict(self.headers),
                                 path=parsed.path, body=data))
                self._send_text(status, text)
                return
            raw = data.decode("utf-8")
            if parsed.path.startswith("/response/"):
                method = "response_url"
            else:
                method = parsed.path.rsplit("/", 1)[-1]
            args = dict(parse_qsl(parsed.query))
            if "json" in (self.headers.get("Content-Type") or ""):
                args.update(json.loads(raw or "{}"))
            else:
                args.update(dict(parse_qsl(raw)))
            for key in ("blocks", "view", "metadata"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
            statuses = fake.server_errors.get(method)
            if statuses:
                status = statuses.pop(0)
                fake.record(Call(method=f"{method}:{status}", args=args, headers=dict(self.headers),
                                 path=parsed.path))
                self._send_text(status, "upstream trouble")
                return
            failure = fake._next_failure(method)
            if failure is not None:
                status, posted_anyway = failure
                if posted_anyway:
                    fake.record(Call(method=method, args=args, headers=dict(self.headers), path=parsed.path,
                                     response=fake.respond(method, args)))
                fake.record(Call(method=f"{method}:{status}", args=args, headers=dict(self.headers),
                                 path=parsed.path))
                self._send(status, {"ok": False, "error": "fatal_error"})
                return
            waits = fake.rate_limits.get(method)
            if waits:
                retry_after = waits.pop(0)
                fake.record(Call(method=f"{method}:429", args=args, headers=dict(self.headers),
                                 path=parsed.path))
                self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
                return
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or \
                args.get("token")
            error = fake.auth_error(method, token) or fake._scripted_error(method, args)
            answer = {"ok": False, "error": error} if error else fake.respond(method, args, token)
            fake.record(Call(method=method, args=args, headers=dict(self.headers), path=parsed.path,
                             response=answer))
            self._send(200, answer)

        def _send_text(self, status: int, text: str):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send(self, status: int, body: dict, headers: dict | None = None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


class FakeSlackServer:
    def __init__(self, fake: FakeSlack):
        self.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
        self.server.daemon_threads = True
        fake.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
