"""Builders for the requests Slack sends an app: signed slash commands, events and button actions."""

from __future__ import annotations

import itertools
import json
import time
from urllib.parse import urlencode

from fake_slack import BOT_ID, BOT_USER, TEAM
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret-0123456789abcdef"
_ids = itertools.count(1)


def signed_headers(body: str, *, secret: str = SECRET, timestamp: int | None = None,
                   content_type: str = "application/json", retry_num: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }
    if retry_num is not None:
        headers["x-slack-retry-num"] = str(retry_num)
        headers["x-slack-retry-reason"] = "http_timeout"
    return headers


def command(text: str, *, user: str = "UALICE", channel: str = "CPRACTICE", response_url: str) -> str:
    return urlencode({
        "token": "legacy-unused", "team_id": TEAM, "team_domain": "gauntlet-test",
        "channel_id": channel, "channel_name": "practice", "user_id": user, "user_name": user.lower(),
        "command": "/gauntlet", "text": text, "api_app_id": "AGAUNTLET", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": f"trigger.{next(_ids)}",
    })


def event(inner: dict, *, event_id: str | None = None) -> str:
    return json.dumps({
        "token": "legacy-unused", "team_id": TEAM, "api_app_id": "AGAUNTLET", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()),
        "event": inner, "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    })


def slack_escape(text: str) -> str:
    """What Slack does to what people type before delivering it: &, < and > become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(text: str, *, user: str = "UALICE", channel: str = "CPRACTICE", thread_ts: str | None = None,
            ts: str | None = None, channel_type: str = "channel", markup: str | None = None,
            subtype: str | None = None) -> dict:
    """A message event as Slack delivers it: the typed `text` escaped, or `markup` given verbatim (Slack's
    own mention and link syntax, e.g. `<@U123>`)."""
    inner = {"type": "message", "user": user, "text": markup if markup is not None else slack_escape(text),
             "channel": channel,
             "channel_type": channel_type, "ts": ts or f"1700001000.{next(_ids):06d}", "team": TEAM}
    if thread_ts:
        inner["thread_ts"] = thread_ts
    if subtype:
        inner["subtype"] = subtype
    return inner


def bot_message(text: str, *, channel: str = "CPRACTICE", thread_ts: str | None = None) -> dict:
    inner = {"type": "message", "subtype": "bot_message", "bot_id": "BOTHERBOT", "text": text,
             "channel": channel, "channel_type": "channel", "ts": f"1700001000.{next(_ids):06d}"}
    if thread_ts:
        inner["thread_ts"] = thread_ts
    return inner


def edited(original: dict, new_text: str) -> dict:
    return {"type": "message", "subtype": "message_changed", "channel": original["channel"],
            "channel_type": original.get("channel_type", "channel"), "hidden": True,
            "ts": f"1700001000.{next(_ids):06d}",
            "message": {**original, "text": slack_escape(new_text),
                        "edited": {"user": original["user"], "ts": "1"}},
            "previous_message": original}


def home_opened(user: str = "UALICE") -> dict:
    return {"type": "app_home_opened", "user": user, "channel": "D" + user.lstrip("U"), "tab": "home"}


def action(action_id: str, value: str, *, user: str = "UALICE") -> str:
    payload = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "gauntlet-test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM}, "api_app_id": "AGAUNTLET",
        "trigger_id": f"trigger.{next(_ids)}", "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "type": "home", "team_id": TEAM},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b1", "value": value,
                     "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


FORM = "application/x-www-form-urlencoded"
__all__ = ["BOT_ID", "BOT_USER", "FORM", "SECRET", "TEAM"]
