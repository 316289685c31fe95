"""The app manifest is valid for Slack and declares what the app uses."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
# Slack's published schema, carried in the repository (tests/data/slack/README.md says where it came from).
SCHEMA = REPO / "tests" / "data" / "slack" / "manifest.schema.json"
MANIFEST = yaml.safe_load((REPO / "deploy" / "manifest.yml").read_text(encoding="utf-8"))


def test_manifest_validates_against_slacks_schema():
    """deploy/manifest.yml passes the published app-manifest JSON schema."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(MANIFEST, schema)


def test_manifest_asks_for_the_scopes_and_events_the_listeners_need():
    """Bot scopes and events cover posting, DMs, thread replies in public and private channels, App Home."""
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"chat:write", "commands", "channels:history", "groups:history", "im:history", "im:write",
            "users:read"} <= scopes
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups", "message.im", "app_home_opened"} <= events


def test_manifest_has_the_command_home_tab_interactivity_and_socket_mode():
    """/gauntlet is declared, App Home has both tabs, buttons work, and Socket Mode is on."""
    features = MANIFEST["features"]
    assert [c["command"] for c in features["slash_commands"]] == ["/gauntlet"]
    assert features["slash_commands"][0]["should_escape"] is True  # channels arrive as <#C…|name>
    assert features["app_home"]["home_tab_enabled"] and features["app_home"]["messages_tab_enabled"]
    assert features["bot_user"]["display_name"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
