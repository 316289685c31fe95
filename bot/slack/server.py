"""Serving the app: a threaded WSGI server for HTTP mode, or Socket Mode."""

from __future__ import annotations

import logging
import signal
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("gauntlet.slack")
EVENTS_PATH = "/slack/events"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow request never blocks Slack's next delivery."""

    daemon_threads = True
    # Slack can deliver a burst (a prompt thread filling up); the default backlog of 5 drops some.
    request_queue_size = 128


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)


def wsgi_app(app: App):
    """Bolt's WSGI adapter at /slack/events, plus /healthz for load balancers and readiness checks."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        try:
            return slack(environ, start_response)
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
            # Bolt parses the body before checking the signature (listeners run elsewhere and report
            # their own errors): JSON that does not parse or is not an object is the sender's mistake
            # (or a probe), answered 400 instead of a 500 and a traceback. JSON nested too deep to parse
            # (RecursionError) is the same.
            log.info("refused a malformed request to %s", environ.get("PATH_INFO"))
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"malformed request\n"]

    return application


def make_http_server(app: App, port: int, host: str = "0.0.0.0") -> ThreadingWSGIServer:
    return make_server(host, port, wsgi_app(app), server_class=ThreadingWSGIServer,
                       handler_class=QuietHandler)


def _stop_on_sigterm(stop) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop())


def serve_http(app: App, port: int, host: str = "0.0.0.0") -> None:
    server = make_http_server(app, port, host)
    # shutdown() waits for serve_forever to return, so it must run on another thread.
    _stop_on_sigterm(lambda: threading.Thread(target=server.shutdown, daemon=True).start())
    log.info("Listening for Slack on http://%s:%d%s", host, server.server_port, EVENTS_PATH)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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
