"""Serving the app: gunicorn for HTTP mode, or Socket Mode.

HTTP mode is gunicorn's threaded workers (gthread) around Bolt's WSGI adapter. Each web process builds
its own app after the fork and does no grading: a request writes its row to the inbox and is answered,
and worker processes (`gauntlet worker`) do the rest. gunicorn limits the request line and headers,
restarts a web process that stops answering, and drains on SIGTERM; this module refuses a body over
1 MB from its Content-Length before reading any of it, and gives a stalled body a deadline.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("gauntlet.slack")
EVENTS_PATH = "/slack/events"
# Slack's largest payloads (a 40,000-character message in an event) are well under this.
MAX_BODY_BYTES = 1_000_000
# A client that stops sending its body mid-way holds a thread only this long.
BODY_TIMEOUT_SECONDS = 10.0


def _refuse(start_response, status: str, text: str):
    data = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(data)))])
    return [data]


def fast_inbox(app: App):
    """The acknowledgement path of a message event, without Bolt's dispatch around it.

    A message event is the bulk of what Slack sends, and all a web process does with one is write it to
    the inbox: Bolt's per-request machinery around that (its context, middleware chain, listener
    matching and argument injection) cost more than the insert. This does the same steps for that one
    kind of request: the same signature check (slack_sdk's verifier, timestamp within five minutes),
    the same inbox write (`record_event`), the same 200. Anything else, or anything that goes wrong
    (an invalid signature, a database outage, a bug), falls through to Bolt, which answers it as before
    (401, "send it again", the error handler). Single-workspace apps only: with OAuth, Bolt's
    authorisation (is the workspace installed?) stays in front of the inbox."""
    import json

    from slack_bolt.request.internals import extract_team_id
    from slack_sdk.signature import SignatureVerifier

    from bot.slack.listeners import messages

    g = getattr(app, "gauntlet", None)
    secret = getattr(app, "_signing_secret", None) or ""
    if g is None or app.oauth_flow is not None or not secret:
        return None
    verifier = SignatureVerifier(secret)

    def record(environ, body: bytes) -> bool:
        if not (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
            return False
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if not timestamp or not signature:
            return False
        try:
            text = body.decode("utf-8")
            if not verifier.is_valid(body=text, timestamp=timestamp, signature=signature):
                return False
            payload = json.loads(text)
        except (ValueError, OverflowError, TypeError, RecursionError):
            return False
        if not isinstance(payload, dict) or payload.get("type") != "event_callback":
            return False
        event = payload.get("event")
        if not isinstance(event, dict) or event.get("type") != "message" or not messages.records(payload):
            return False
        try:
            messages.record_event(g, payload, extract_team_id(payload) or "")
        except Exception:
            return False  # Bolt's path tries again, and tells the person or logs the bug
        g.wake()
        return True

    return record


def wsgi_app(app: App):
    """Bolt's WSGI adapter at /slack/events, plus /healthz for load balancers and readiness checks."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    fast = fast_inbox(app)

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        raw_length = environ.get("CONTENT_LENGTH") or ""
        if environ.get("REQUEST_METHOD") == "POST":
            if not raw_length.strip():
                # Slack always says how long its body is; a chunked body of unknown length is not read.
                if environ.get("HTTP_TRANSFER_ENCODING"):
                    return _refuse(start_response, "411 Length Required", "length required\n")
            elif not raw_length.strip().isdigit():
                return _refuse(start_response, "400 Bad Request", "bad content length\n")
            elif int(raw_length) > MAX_BODY_BYTES:
                log.info("refused a %s-byte body before reading it", raw_length)
                return _refuse(start_response, "413 Content Too Large", "request body too large\n")
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(BODY_TIMEOUT_SECONDS)
        try:
            if (fast is not None and environ.get("REQUEST_METHOD") == "POST"
                    and environ.get("PATH_INFO") == EVENTS_PATH and raw_length.strip().isdigit()):
                body = environ["wsgi.input"].read(int(raw_length))
                environ["wsgi.input"] = io.BytesIO(body)  # Bolt reads it again when it answers
                if fast(environ, body):
                    start_response("200 OK", [("Content-Type", "text/plain;charset=utf-8"),
                                              ("Content-Length", "0")])
                    return [b""]
            return slack(environ, start_response)
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
            # Bolt parses the body before checking the signature (listeners run elsewhere and report
            # their own errors): JSON that does not parse or is not an object is the sender's mistake
            # (or a probe), answered 400 instead of a 500 and a traceback. JSON nested too deep to parse
            # (RecursionError) is the same.
            log.info("refused a malformed request to %s", environ.get("PATH_INFO"))
            return _refuse(start_response, "400 Bad Request", "malformed request\n")
        except OSError:
            log.info("a client stalled or went away while sending its body")
            return _refuse(start_response, "408 Request Timeout", "request timeout\n")

    return application


def gunicorn_options(host: str, port: int, *, workers: int | None = None,
                     threads: int | None = None) -> dict:
    """gunicorn's settings for the web processes. WEB_CONCURRENCY (processes) and GAUNTLET_WEB_THREADS
    (threads in each) size it; the rest are limits, not tuning."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY") or 2),
        "worker_class": "gthread",
        "threads": threads or int(os.environ.get("GAUNTLET_WEB_THREADS") or 8),
        # A web process that has not checked in for this long is restarted.
        "timeout": 30,
        "graceful_timeout": 20,  # SIGTERM: requests in flight finish (their rows are already written)
        "keepalive": 5,
        "backlog": 2048,  # Slack delivers bursts (a prompt thread filling up)
        "limit_request_line": 4094,
        "limit_request_fields": 50,
        "limit_request_field_size": 8190,
        "accesslog": None,  # request lines carry no secrets, but they add nothing Slack's retries don't
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "gauntlet-web",
    }


def serve_http(factory: Callable[[], App], host: str, port: int, *, workers: int | None = None,
               threads: int | None = None, hooks: dict | None = None) -> None:
    """Run gunicorn in this process (the arbiter) until SIGTERM or SIGINT. `factory` builds the app in
    each web process, after the fork, so no database connection or thread crosses it."""
    from gunicorn.app.base import BaseApplication

    options = {**gunicorn_options(host, port, workers=workers, threads=threads), **(hooks or {})}

    class GauntletWeb(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return wsgi_app(factory())

    log.info("Listening for Slack on http://%s:%d%s", host, port, EVENTS_PATH)
    GauntletWeb().run()


def _stop_on_sigterm(stop) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop())


def serve_socket_mode(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.health import Heartbeat, heartbeat_path

    handler = SocketModeHandler(app, app_token)
    stopped = threading.Event()
    _stop_on_sigterm(stopped.set)
    handler.connect()
    log.info("Connected to Slack over Socket Mode")
    # No port to probe in Socket Mode: `gauntlet health` reads this file, fresh only while connected.
    heartbeat = Heartbeat(heartbeat_path(), handler.client.is_connected).start()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        heartbeat.stop()
        handler.close()
