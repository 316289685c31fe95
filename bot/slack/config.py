"""Settings for the Slack app, read from the environment (and an optional `.env` file).

A missing setting stops the app at start-up with a message that says what to set and where in the
Slack app's configuration pages to find it. Secret values are never printed: `repr(Settings)` masks them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_API_URL = "https://slack.com/api/"

# Where each setting lives in the Slack app's configuration (api.slack.com/apps → your app).
WHERE = {
    "SLACK_BOT_TOKEN": "OAuth & Permissions → OAuth Tokens → Bot User OAuth Token (starts with xoxb-)",
    "SLACK_SIGNING_SECRET": "Basic Information → App Credentials → Signing Secret",
    "SLACK_CLIENT_ID": "Basic Information → App Credentials → Client ID and Client Secret",
    "SLACK_APP_TOKEN": (
        "Basic Information → App-Level Tokens → Generate Token and Scopes, with the "
        "connections:write scope (starts with xapp-)"
    ),
}


class SettingsError(RuntimeError):
    """A setting the app needs is missing or malformed; the message says how to fix it."""


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = field(repr=False)  # None when workspaces install through OAuth
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    database_url: str | None = field(default=None, repr=False)  # may carry a password
    api_url: str = DEFAULT_API_URL
    port: int = 3000
    client_id: str | None = None  # with client_secret: the OAuth install flow for many workspaces
    client_secret: str | None = field(default=None, repr=False)

    @property
    def oauth(self) -> bool:
        return self.client_id is not None


def _missing(name: str, why: str) -> SettingsError:
    return SettingsError(
        f"{name} is not set ({why}): find it under {WHERE[name]}, then export it or put "
        f"{name}=… in a .env file in the working directory."
    )


def load_settings(*, http: bool = False, socket_mode: bool = False, env: dict[str, str] | None = None,
                  dotenv: bool = True) -> Settings:
    """Read the settings a mode needs: HTTP needs the signing secret, Socket Mode the app token, and
    posting from the command line only the bot token."""
    if env is None:
        env = dict(os.environ)
        if dotenv:
            from dotenv import dotenv_values

            # Values already exported win over the file; the process environment is left as it was.
            from_file = dotenv_values(os.path.join(os.getcwd(), ".env"))
            env = {k: v for k, v in from_file.items() if v is not None} | env

    def get(name: str) -> str | None:
        value = (env.get(name) or "").strip()
        return value or None

    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    if (client_id is None) != (client_secret is None):
        raise SettingsError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET turn on installing in many workspaces and go "
            f"together: set both (from {WHERE['SLACK_CLIENT_ID']}) or neither."
        )
    if client_id is not None and socket_mode:
        raise SettingsError(
            "Installing through OAuth (SLACK_CLIENT_ID) needs a public address for Slack's redirect: "
            "run `gauntlet serve --http`."
        )
    bot_token = get("SLACK_BOT_TOKEN")
    if bot_token is None and not (http and client_id is not None):
        # With OAuth each workspace's token comes from its installation; anything else needs one.
        raise _missing("SLACK_BOT_TOKEN", "needed to post messages")
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise SettingsError(
            "SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-): "
            f"copy it from {WHERE['SLACK_BOT_TOKEN']}."
        )
    signing_secret = get("SLACK_SIGNING_SECRET")
    app_token = get("SLACK_APP_TOKEN")
    if http and signing_secret is None:
        raise _missing("SLACK_SIGNING_SECRET", "needed to verify requests in HTTP mode")
    if socket_mode:
        if app_token is None:
            raise _missing("SLACK_APP_TOKEN", "needed for Socket Mode; or run `gauntlet serve --http`")
        if not app_token.startswith("xapp-"):
            raise SettingsError(
                "SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-): "
                f"create one under {WHERE['SLACK_APP_TOKEN']}."
            )
    port_text = get("PORT") or "3000"
    try:
        port = int(port_text)
    except ValueError:
        raise SettingsError(f"PORT must be a number, not {port_text!r}.") from None
    api_url = get("SLACK_API_URL") or DEFAULT_API_URL
    if not api_url.endswith("/"):
        api_url += "/"
    return Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        database_url=get("DATABASE_URL"),
        api_url=api_url,
        port=port,
        client_id=client_id,
        client_secret=client_secret,
    )
