"""Cohort consent in Slack: `cohort add` sends an invitation with Accept / Decline, the buttons answer for
whoever pressed them, and any member leaves with `/gauntlet cohort leave`."""

from __future__ import annotations

from fake_slack import TEAM
from test_slack_cohorts import ZONES, dm, posts_to, press, say

from bot.cohorts.cohorts import get_cohort, invited, members
from bot.slack.cohort_blocks import COHORT_ACCEPT_ACTION, COHORT_DECLINE_ACTION


def test_joining_takes_the_members_acceptance_and_any_member_can_leave(slack, fake, slack_db):
    """The invitation carries Accept/Decline; a stranger's press changes nothing; Decline leaves the
    person out; Accept makes them a member; `cohort leave` takes them out again."""
    fake.user_tzs = dict(ZONES)
    say(slack, fake, "cohort create sre", user="UBOSS")
    assert "Invited <@ULA> (America/Los_Angeles)" in say(slack, fake, "cohort add sre <@ULA>", user="UBOSS")
    cohort = get_cohort(slack_db, TEAM, "sre")
    [invitation] = posts_to(fake, dm("ULA"), "invites you to the practice cohort")
    actions = [e for b in invitation.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [a["action_id"] for a in actions] == [COHORT_ACCEPT_ACTION, COHORT_DECLINE_ACTION]
    assert "leave at any time" in invitation.text and "stay private" in invitation.text
    value = str(cohort.id)

    assert "no longer open" in press(slack, fake, COHORT_ACCEPT_ACTION, user="UBE", value=value).text
    assert members(slack_db, cohort) == []
    assert "You declined sre" in press(slack, fake, COHORT_DECLINE_ACTION, user="ULA", value=value).text
    assert invited(slack_db, cohort) == [] and members(slack_db, cohort) == []

    say(slack, fake, "cohort add sre <@ULA>", user="UBOSS")
    assert "You joined" in press(slack, fake, COHORT_ACCEPT_ACTION, user="ULA", value=value).text
    assert [m.user_id for m in members(slack_db, cohort)] == ["ULA"]
    assert "sre* (member)" in say(slack, fake, "cohort list", user="ULA")
    assert "You left sre" in say(slack, fake, "cohort leave sre", user="ULA")
    assert members(slack_db, cohort) == []

