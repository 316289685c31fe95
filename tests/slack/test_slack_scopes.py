"""The manifest asks for exactly the scopes the code needs: every Web API method the code calls is mapped
to its scope (a new call fails here until it is mapped), plus the scopes of the subscribed events."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from slack_sdk import WebClient

from bot.slack.oauth import BOT_SCOPES

REPO = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((REPO / "deploy" / "manifest.yml").read_text(encoding="utf-8"))

# slack_sdk method → the bot scope Slack requires for it (None: no bot scope, e.g. auth.test), or the
# scopes for each kind of conversation the code calls it on.
# https://api.slack.com/methods lists each method's required scopes.
METHOD_SCOPES = {
    "auth_test": None,
    # Start-up checks the app-level token (connections:write), which is not a bot scope.
    "apps_connections_open": None,
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    # A DM (drills, feedback, invitations) and a group DM (a peer mock's pair).
    "conversations_open": ("im:write", "mpim:write"),
    # The worker looks for a reply it may already have posted: in a channel's thread (public or private)
    # or in a DM.
    "conversations_replies": ("channels:history", "groups:history", "im:history"),
    "conversations_history": ("channels:history", "groups:history", "im:history"),
    "users_info": "users:read",
    "views_publish": None,
    "views_open": None,  # the peer rating modal
    # files_upload_v2 calls files.getUploadURLExternal and files.completeUploadExternal.
    "files_upload_v2": "files:write",
}
# Events the manifest subscribes to → the scope each needs.
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",  # answers in a peer mock's group DM
    "app_home_opened": None,
    "app_uninstalled": None,
    "tokens_revoked": None,
    "grid_migration_started": None,
    "grid_migration_finished": None,
}
WEB_API = {name for name in dir(WebClient) if not name.startswith("_") and callable(getattr(WebClient, name))
           and name not in ("api_call", "headers", "base_url", "token", "timeout", "proxy", "ssl")}


def _scopes(mapped: str | tuple[str, ...] | None) -> tuple[str | None, ...]:
    return mapped if isinstance(mapped, tuple) else (mapped,)


def methods_called() -> dict[str, list[str]]:
    """Every `something.<web api method>(…)` call in bot/, with where it is."""
    found: dict[str, list[str]] = {}
    for path in sorted((REPO / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if call and node.func.attr in WEB_API:
                found.setdefault(node.func.attr, []).append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_web_api_method_the_code_calls_has_a_known_scope():
    """A Web API call the table above does not know fails here, naming where it is made."""
    unknown = {m: where for m, where in methods_called().items() if m not in METHOD_SCOPES}
    assert not unknown, f"map these Web API methods to their scope in METHOD_SCOPES: {unknown}"
    called = set(methods_called())
    assert {"chat_postMessage", "conversations_open", "users_info", "files_upload_v2"} <= called


def test_manifest_bot_scopes_are_exactly_what_the_code_and_events_need():
    """No scope the code never uses (app_mentions:read, channels:read, …), none missing."""
    needed = {scope for m in methods_called() for scope in _scopes(METHOD_SCOPES[m])}
    needed |= {EVENT_SCOPES[e] for e in MANIFEST["settings"]["event_subscriptions"]["bot_events"]}
    needed = (needed - {None}) | {"commands"}  # the /gauntlet slash command
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed
    assert set(BOT_SCOPES) == needed  # the OAuth install asks for the same


def test_manifest_subscribes_to_the_lifecycle_events_the_app_handles():
    """app_uninstalled, tokens_revoked and the Grid migration events are subscribed (and mapped above)."""
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    lifecycle = {"app_uninstalled", "tokens_revoked", "grid_migration_started", "grid_migration_finished"}
    assert lifecycle <= events
    assert events <= set(EVENT_SCOPES)
