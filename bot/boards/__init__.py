"""Boards: points, running totals, leaderboards, streaks, seasons; may import cohorts and store."""
