"""Requests from anyone on the internet: Bolt's signature check without logging the body, and malformed
headers refused with 401 instead of a 500 and a traceback."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware.request_verification import RequestVerification

log = logging.getLogger("gauntlet.slack.requests")


class QuietRequestVerification(RequestVerification):
    """Bolt's request verification, minus the body in the log.

    Bolt logs every rejected request's whole body at INFO: people's answers would land in the log (and
    outlive forget-me), and a 10 MB unsigned post would grow it by 10 MB. A timestamp that is not a
    whole number (`1e400`, `abc`) made the check raise, which Bolt answered with a 500."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next):
        try:
            return super().process(req=req, resp=resp, next=next)
        except (ValueError, OverflowError, TypeError):
            log.info("refused a request with a malformed signature header")
            return self._build_error_response()

    def _debug_log_error(self, signature, timestamp, body) -> None:
        size = len(body) if isinstance(body, (str, bytes)) else 0
        log.info("refused a request with an invalid signature (%d bytes)", size)


def quiet_request_verification(app: App, signing_secret: str) -> None:
    """Swap Bolt's verification middleware for the quiet one, in the same place (before authorization,
    so an unsigned request never reaches the database or Slack)."""
    middleware = app._middleware_list  # Bolt builds it in the constructor; there is no public setter
    for i, item in enumerate(middleware):
        if type(item) is RequestVerification:
            middleware[i] = QuietRequestVerification(signing_secret)
