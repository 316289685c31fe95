"""The app's WSGI application (`bot.slack.server.wsgi_app`, what gunicorn serves) on a threaded stdlib
server inside the test process, for tests that need HTTP but not a `gauntlet serve` subprocess."""

from __future__ import annotations

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from bot.slack.server import wsgi_app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def make_http_server(app: App, port: int, host: str = "127.0.0.1") -> _ThreadingWSGIServer:
    return make_server(host, port, wsgi_app(app), server_class=_ThreadingWSGIServer,
                       handler_class=_QuietHandler)
