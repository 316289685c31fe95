"""Slack's error codes, in words a person can act on, and which ones will never go away by retrying."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackRequestError


class NotInstalled(LookupError):
    """No installation of the app for this workspace (it was never installed, or was removed)."""


# The place (channel, DM, person) or the install is gone: retrying will fail the same way for ever.
TERMINAL = frozenset({
    "channel_not_found", "is_archived", "not_in_channel", "account_inactive", "invalid_auth",
    "token_revoked", "not_authed", "not_installed", "team_not_found", "org_login_required",
    "user_not_found", "cannot_dm_bot", "user_disabled",
})
# The whole workspace's token is unusable (as opposed to one channel or one person).
INSTALL_GONE = frozenset({"invalid_auth", "token_revoked", "not_authed", "not_installed", "team_not_found",
                          "account_inactive", "org_login_required"})

ADVICE = {
    "channel_not_found": "I can't find that channel, or I'm not in it: invite me with "
                         "`/invite @Incident Gauntlet` there, or pick another channel.",
    "not_in_channel": "I'm not in that channel: invite me with `/invite @Incident Gauntlet`, then try again.",
    "is_archived": "That channel is archived: pick another channel.",
    "cannot_dm_bot": "I can't open a direct message with that account (it is a bot): name a person.",
    "user_not_found": "Slack does not know that person here: check who you named, then try again.",
    "messages_tab_disabled": "My Messages tab is turned off in this workspace, so I can't DM you: ask an "
                             "admin to turn it on (App Home settings), then try again.",
    "account_inactive": "My Slack access in this workspace has been switched off: ask an admin to "
                        "reinstall Incident Gauntlet.",
    "invalid_auth": "My Slack token no longer works here: ask an admin to reinstall Incident Gauntlet.",
    "token_revoked": "My Slack token was revoked: ask an admin to reinstall Incident Gauntlet.",
    "not_authed": "I have no Slack token for this workspace: ask an admin to reinstall Incident Gauntlet.",
    "not_installed": "Incident Gauntlet is not installed in this workspace any more: ask an admin to "
                     "install it again.",
    "ratelimited": "Slack asked me to slow down: try again in a minute.",
    "msg_too_long": "That message was too long for Slack: try again with a shorter one.",
}


def slack_error_code(error: BaseException) -> str | None:
    """Slack's error code for a failed Web API call (`is_archived`, …), `not_installed` when no token
    exists for the workspace, `slack_unavailable` for 5xx and network trouble; None for anything else."""
    if isinstance(error, SlackApiError):
        response = getattr(error, "response", None)
        try:
            code = response.get("error") if response is not None else None
        except Exception:  # a 5xx answered with something that is not JSON
            code = None
        status = getattr(response, "status_code", 200) if response is not None else 200
        if status >= 500:
            return "slack_unavailable"
        if status == 429:
            return "ratelimited"
        return str(code) if code else "unknown_error"
    if isinstance(error, NotInstalled):
        return "not_installed"
    if isinstance(error, (SlackRequestError, OSError)):
        return "slack_unavailable"
    return None


def is_terminal(error: BaseException) -> bool:
    return slack_error_code(error) in TERMINAL


def explain(error: BaseException) -> str:
    """What went wrong and what to do, for the person whose request failed. Never silence."""
    code = slack_error_code(error)
    if code is None:
        return ("Something went wrong on my side and that didn't work; it has been logged. Please try "
                "again in a minute, and if it keeps happening tell whoever runs Incident Gauntlet.")
    if code == "slack_unavailable":
        return "I couldn't reach Slack just now, so that didn't work. Please try again in a minute."
    advice = ADVICE.get(code) or ("Please try again in a minute; if it keeps happening, tell whoever runs "
                                  "Incident Gauntlet.")
    return f"That didn't work: Slack answered `{code}`. {advice}"
