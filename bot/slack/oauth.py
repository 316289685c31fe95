"""Installing the app in many workspaces: Slack's OAuth flow with Bolt's SQLAlchemy stores.

Turned on by SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (HTTP mode). Each workspace's bot token lives in
the installation tables of the app's own database; requests are authorised with the token of the
workspace they come from, and every record the app keeps is keyed by that workspace's team id.
Background work (daily prompts, cohort jobs, answers graded after an outage) looks the token up the same
way, by team and enterprise id (`bot.slack.lifecycle.installation_clients`).
"""

from __future__ import annotations

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.engine import Engine

# The bot scopes of deploy/manifest.yml (a test keeps the two the same).
BOT_SCOPES = (
    "channels:history", "chat:write", "commands", "files:write", "groups:history", "im:history", "im:write",
    "mpim:history", "mpim:write", "users:read",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRES_SECONDS = 600


def installation_store(client_id: str, db: Engine) -> SQLAlchemyInstallationStore:
    store = SQLAlchemyInstallationStore(client_id=client_id, engine=db)
    store.create_tables()  # Bolt's own tables, next to the app's; creating is a no-op when present
    return store


def oauth_settings(client_id: str, client_secret: str, db: Engine) -> OAuthSettings:
    state_store = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRES_SECONDS, engine=db)
    state_store.metadata.create_all(db)
    return OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        installation_store=installation_store(client_id, db),
        state_store=state_store,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # /slack/install goes straight to Slack's consent page instead of rendering a button page.
        install_page_rendering_enabled=False,
    )
