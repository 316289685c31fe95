"""The listening interviewer in Slack, against the fake Slack with signed requests (in-process and through
`gauntlet serve --http`): thread follow-ups quoting the person's own sentences or falling back to the
plain probe, a timed DM drill with its clock on the scorecard, and `/gauntlet story` as a Markdown file."""

from __future__ import annotations

import slack_requests as R
from fake_slack import TEAM
from flows import post_prompt, response, send_command, send_event, thread_replies

from bot.content import default_content
from bot.interview.clock import TRIM_NOTE
from bot.interview.engine import InterviewEngine

CONTENT = default_content()
BLAMED = "Dave's sloppy change took it down and it was entirely his fault."
BLAMING_OPENING = (
    "I was on call for our checkout service when a config change went out at 14:02. "
    f"{BLAMED} At 14:10 I rolled back the config change and the errors stopped by 14:15."
)
BLAMELESS_RETELLING = (
    "Our pipeline let an unreviewed config value reach every region at once: there was no validation of "
    "the setting in CI and no canary. The error-rate alert fired at 14:03, before any customer ticket."
)
VAGUE_OPENING = ("Something broke in production one afternoon and I helped the team fix it. It was stressful "
                 "but we got through it together.")


def _reply_count_grows(fake, thread_ts: str, user: str, before: int):
    fake.wait_for(lambda calls: len(thread_replies(fake, thread_ts, user)) > before,
                  what=f"feedback to {user} in the thread")
    return thread_replies(fake, thread_ts, user)[-1]


def test_thread_follow_ups_quote_the_persons_sentence_or_fall_back_to_the_plain_probe(slack, fake, slack_db,
                                                                                     db_url, tmp_path):
    """In a prompt's thread, a blaming opening is quoted back verbatim and later rounds name their service;
    a vague opening from someone else gets the plain probe with no quote."""
    thread_ts = post_prompt(slack, fake, slack_db, db_url=db_url, cwd=tmp_path)
    send_event(slack, R.message(BLAMING_OPENING, user="UALICE", thread_ts=thread_ts))
    first = _reply_count_grows(fake, thread_ts, "UALICE", 0)
    assert f"You said: “{BLAMED}” Leave the person out of it" in " ".join(first.text.split())

    send_event(slack, R.message(BLAMELESS_RETELLING, user="UALICE", thread_ts=thread_ts))
    second = _reply_count_grows(fake, thread_ts, "UALICE", 1)
    assert "Back to your checkout service and the config change." in " ".join(second.text.split())

    send_event(slack, R.message(VAGUE_OPENING, user="UBOB", thread_ts=thread_ts))
    bob = _reply_count_grows(fake, thread_ts, "UBOB", 0)
    plain = next(p.ask for p in CONTENT.probes if p.id == "how-did-you-find-out")
    assert " ".join(plain.split()) in " ".join(bob.text.split())
    assert "You said" not in bob.text

    engine = InterviewEngine(slack_db)
    alice = engine.find_latest(TEAM, "UALICE", source="thread", thread_ts=thread_ts)
    [asked] = engine.follow_ups(alice.id)
    assert (asked.probe_id, asked.slot, asked.sentence) == ("restate-blame", "blame", BLAMED)
    bobs = engine.find_latest(TEAM, "UBOB", source="thread", thread_ts=thread_ts)
    assert [(f.slot, f.sentence) for f in engine.follow_ups(bobs.id)] == [(None, None)]


def _dm_posts(fake, dm: str):
    return [c for c in fake.of("chat.postMessage") if c.args["channel"] == dm]


def test_a_timed_dm_drill_shows_times_on_the_scorecard_and_the_story_arrives_as_a_markdown_file(slack, fake,
                                                                                               slack_db):
    """`/gauntlet drill curveball timed` times each answer, flags one far over budget, ends with the clock on
    the scorecard; `/gauntlet story` then sends the write-up to the DM as a Markdown file."""
    status, _, path = send_command(slack, fake, "drill curveball timed")
    assert status == 200
    assert "The clock is running" in response(fake, path).text
    dm = fake.wait_for_call("conversations.open")[-1].response["channel"]["id"]
    fake.wait_for(lambda calls: _dm_posts(fake, dm), what="the first question in the DM")

    long_answer = " ".join([" ".join(CONTENT.rounds["curveball"].model_answer.split())] * 2)
    send_event(slack, R.message(long_answer, user="UALICE", channel=dm, channel_type="im"))
    # The answer's own feedback: the first graded post (a worker delivers a conversation's replies in
    # order, and the scorecard, when this answer ends the drill, may already have followed it).
    graded = fake.wait_for(lambda calls: [c for c in _dm_posts(fake, dm) if "/100" in c.text],
                           what="the graded answer")[0]
    assert "⏱" in graded.text and TRIM_NOTE in graded.text
    if InterviewEngine(slack_db).find_active(TEAM, "UALICE", source="dm") is not None:
        send_event(slack, R.message("skip", user="UALICE", channel=dm, channel_type="im"))
    card = fake.wait_for(lambda calls: [c for c in _dm_posts(fake, dm) if "Scorecard" in c.text],
                         what="the scorecard")[-1]
    assert "The clock" in card.text and "of 20:00" in card.text and TRIM_NOTE in card.text
    assert "The human-error curveball" in card.text

    status, _, path = send_command(slack, fake, "story")
    assert status == 200
    assert "is in our DM" in response(fake, path).text
    upload = fake.wait_for(lambda calls: [u for u in fake.uploads() if u.filename.endswith(".md")],
                           what="the story file")[-1]
    assert upload.channel == dm
    md = upload.data.decode("utf-8")
    assert md.startswith("# My production incident, as a STAR story")
    quoted = [line[2:] for line in md.splitlines() if line.startswith("> ")]
    assert quoted and all(q in long_answer for q in quoted)
    assert "- **Credited:**" in md and "Not answered yet: the Opening round." in md

    status, _, path = send_command(slack, fake, "story 999")
    assert "You have no interview #999." in response(fake, path).text
    status, _, path = send_command(slack, fake, "story best please")
    assert "takes an optional interview number" in response(fake, path).text
