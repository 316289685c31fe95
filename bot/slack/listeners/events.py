"""Events other than messages: the App Home tab."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.boards import leaderboard
from bot.slack import blocks as bk

RECENT_SCORECARDS = 3


def on_app_home_opened(event: dict, body: dict, context: BoltContext, client: WebClient):
    """Publish the person's Home tab: their numbers, recent scorecards, a drill button, the board."""
    if event.get("tab") not in (None, "home"):
        return  # the Messages tab needs nothing published
    g = context["gauntlet"]
    workspace = context.team_id or body.get("team_id") or ""
    user = event["user"]
    client.views_publish(user_id=user, view=home_view_for(g, workspace, user))


def home_view_for(g, workspace: str, user: str, *, notice: str | None = None) -> dict:
    """The person's Home tab as it stands now (with `notice` at the top, when there is one)."""
    stats = leaderboard.person_stats(g.db, workspace, user)
    recent = [g.engine.scorecard(summary.interview_id)
              for summary in leaderboard.recent_scorecards(g.db, workspace, user, limit=RECENT_SCORECARDS)]
    board = leaderboard.board(g.db, workspace, "week")
    return bk.home_view(stats=stats, recent=recent, board=board, notice=notice)


def register(app: App) -> None:
    app.event("app_home_opened")(on_app_home_opened)
