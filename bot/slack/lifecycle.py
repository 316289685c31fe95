"""The app's life in a workspace: one way to get a workspace's client for background work, the platform
events (uninstalled, tokens revoked, rate limited, Enterprise Grid migration), and what happens when Slack
refuses for good to take a scheduled post, a cohort drill or a digest: that job is turned off and whoever
set it up is told once, in a DM."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.cohorts import cohorts
from bot.daily import channels
from bot.slack import blocks as bk
from bot.slack.errors import INSTALL_GONE, NotInstalled, slack_error_code

log = logging.getLogger("gauntlet.slack.lifecycle")

UNINSTALLED = "Incident Gauntlet was removed from this workspace"
TOKENS_REVOKED = "Incident Gauntlet's bot token was revoked"


ClientFor = Callable[[str], WebClient]


def single_workspace_clients(client: WebClient) -> ClientFor:
    """With one bot token every workspace's work goes out with the app's own client."""
    return lambda workspace: client


def installation_clients(store, api_url: str) -> ClientFor:
    """With OAuth, the bot token of the workspace's newest installation, found by its team id and the
    Enterprise Grid organisation it belongs to (None outside Grid)."""
    from sqlalchemy import desc, select

    from bot.slack.client import make_client

    bots = store.bots

    def lookup(workspace: str) -> WebClient:
        with store.engine.connect() as conn:
            row = conn.execute(
                select(bots.c.enterprise_id, bots.c.is_enterprise_install)
                .where(bots.c.client_id == store.client_id, bots.c.team_id == workspace,
                       bots.c.bot_token.is_not(None))
                .order_by(desc(bots.c.installed_at)).limit(1)
            ).first()
        bot = None
        if row is not None:
            bot = store.find_bot(enterprise_id=row.enterprise_id, team_id=workspace,
                                 is_enterprise_install=bool(row.is_enterprise_install))
        if bot is None or not bot.bot_token:
            raise NotInstalled(f"Incident Gauntlet is not installed in workspace {workspace}.")
        return make_client(bot.bot_token, api_url)

    return lookup


# ---- Slack refused for good -------------------------------------------------------------------------

def _reason(error: BaseException) -> str:
    code = slack_error_code(error) or error.__class__.__name__
    return f"Slack answered {code}"


def tell_once(clients: ClientFor, workspace: str, user: str | None, text: str) -> None:
    """A DM to whoever set something up; best effort (the token may be the thing that is gone)."""
    if not user:
        return
    try:
        client = clients(workspace)
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=text, blocks=[b.to_dict() for b in bk.sections(text)])
    except Exception as exc:
        log.warning("could not tell %s that a job was turned off: %s", user, slack_error_code(exc) or
                    exc.__class__.__name__)


def schedule_refused(db: Engine, clients: ClientFor, workspace: str, channel: str,
                     error: BaseException) -> bool:
    """A daily post to `channel` failed for good: the schedule is turned off (the catch-up stops trying)
    and the person who set it hears why, once. Returns whether this call turned it off."""
    reason = _reason(error)
    setter = channels.turn_off_schedule(db, workspace, channel, reason)
    if setter is None:
        return False
    log.warning("daily prompt in %s turned off: %s", channel, reason)
    if slack_error_code(error) not in INSTALL_GONE:
        tell_once(clients, workspace, setter,
                  f"I turned off the daily prompt in <#{channel}>: {bk.escape(reason)} (the channel was "
                  "archived or deleted, or I was removed from it). Set it again with `/gauntlet schedule` "
                  "in a channel I'm in.")
    return True


def drill_refused(db: Engine, clients: ClientFor, workspace: str, cohort: str, member: str,
                  error: BaseException) -> bool:
    """A cohort drill can never reach `member`: their drills stop and the cohort's creator is told once."""
    reason = _reason(error)
    creator = cohorts.turn_off_member_drills(db, workspace, cohort, member, reason)
    if creator is None:
        return False
    log.warning("cohort %s drills for %s turned off: %s", cohort, member, reason)
    if slack_error_code(error) not in INSTALL_GONE:
        tell_once(clients, workspace, creator,
                  f"I stopped sending {bk.escape(cohort)} drills to {bk.mention(member)}: "
                  f"{bk.escape(reason)} (the account is deactivated or can't get DMs). Remove them with "
                  f"`/gauntlet cohort remove {bk.escape(cohort)} @person`, or add them again once it is "
                  "fixed.")
    return True


def digest_refused(db: Engine, clients: ClientFor, workspace: str, cohort: str, manager: str,
                   error: BaseException) -> bool:
    """A manager's digest can never be delivered: it stops and the cohort's creator is told once."""
    reason = _reason(error)
    creator = cohorts.turn_off_digest(db, workspace, cohort, manager, reason)
    if creator is None:
        return False
    log.warning("cohort %s digest for %s turned off: %s", cohort, manager, reason)
    if slack_error_code(error) not in INSTALL_GONE and creator != manager:
        tell_once(clients, workspace, creator,
                  f"I stopped sending the {bk.escape(cohort)} weekly digest to {bk.mention(manager)}: "
                  f"{bk.escape(reason)}.")
    return True


def workspace_gone(db: Engine, workspace: str, reason: str) -> int:
    """The app was uninstalled or its bot token revoked: every job of the workspace is off."""
    n = channels.turn_off_workspace_schedules(db, workspace, reason)
    n += cohorts.turn_off_workspace(db, workspace, reason)
    log.info("workspace %s: %s; %d scheduled job(s) turned off", workspace, reason, n)
    return n


# ---- platform events --------------------------------------------------------------------------------

def register(app: App, installation_store=None) -> None:
    """Listeners for the app's own lifecycle. With OAuth, Bolt's token-revocation listeners delete the
    workspace's installation first."""
    revocation = None
    if installation_store is not None:
        from slack_bolt.listener.builtins import TokenRevocationListeners

        revocation = TokenRevocationListeners(installation_store)

    def workspace_of(context: BoltContext, body: dict) -> str:
        return context.team_id or body.get("team_id") or ""

    @app.event("app_uninstalled")
    def on_app_uninstalled(body: dict, context: BoltContext):
        if revocation is not None:
            revocation.handle_app_uninstalled_events(context)
        workspace_gone(context["gauntlet"].db, workspace_of(context, body), UNINSTALLED)

    @app.event("tokens_revoked")
    def on_tokens_revoked(event: dict, body: dict, context: BoltContext):
        if revocation is not None:
            revocation.handle_tokens_revoked_events(event, context)
        if (event.get("tokens") or {}).get("bot"):
            workspace_gone(context["gauntlet"].db, workspace_of(context, body), TOKENS_REVOKED)

    @app.event("grid_migration_started")
    def on_grid_migration_started(event: dict, body: dict, context: BoltContext):
        # Slack holds the workspace's events during the move; our records are keyed by team id, which
        # does not change, so there is nothing to move on our side.
        log.info("workspace %s is moving into Enterprise Grid org %s", workspace_of(context, body),
                 event.get("enterprise_id"))

    @app.event("grid_migration_finished")
    def on_grid_migration_finished(event: dict, body: dict, context: BoltContext):
        # From now on the workspace's requests carry the org's enterprise id, and installations are
        # found by team and enterprise id (installation_clients), so background work goes on.
        log.info("workspace %s moved into Enterprise Grid org %s", workspace_of(context, body),
                 event.get("enterprise_id"))

    @app.middleware
    def app_rate_limited(body: dict, next):
        # Sent without a subscription when the app gets over 30,000 events an hour in a workspace: it
        # carries nothing to do, but an unanswered (404) delivery counts against the app.
        if isinstance(body, dict) and body.get("type") == "app_rate_limited":
            log.warning("Slack is rate limiting events for workspace %s (minute %s)", body.get("team_id"),
                        body.get("minute_rate_limited"))
            return BoltResponse(status=200, body="")
        return next()
