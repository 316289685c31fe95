"""The listening interviewer in the terminal, as a person runs it: piped drills whose follow-ups quote
their own sentences, `gauntlet story` on the finished drill, and `gauntlet drill --timed`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot.content import default_content
from bot.interview.clock import TRIM_NOTE

REPO = Path(__file__).resolve().parents[2]
CONTENT = default_content()

BLAMING_OPENING = (
    "I was on call for our checkout service when a config change went out at 14:02. "
    "Dave's sloppy change took it down and it was entirely his fault. "
    "At 14:10 I rolled back the config change and the errors stopped by 14:15."
)
BLAMELESS_RETELLING = (
    "Our pipeline let an unreviewed config value reach every region at once: there was no validation of "
    "the setting in CI and no canary. The error-rate alert fired at 14:03, before any customer ticket."
)
SCHEMA_PROBE = ("The deploy added a NOT NULL column to the invoices table, a migration on a big table, "
                "and it locked everything. Our tests never ran against production-sized data.")
UNSAFE_SQL = "ALTER TABLE invoices ADD COLUMN billing_region text NOT NULL;"
LOCK_ANSWER = ("It takes an ACCESS EXCLUSIVE lock for the whole rewrite, and every write to invoices queues "
               "behind it until it finishes.")
VAGUE_OPENING = ("Something broke in production one afternoon and I helped the team fix it. It was stressful "
                 "but we got through it together.")


def gauntlet(*args: str, stdin: str = "", cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "GAUNTLET_CONTENT_DIR", "NO_COLOR", "COLUMNS")}
    env["PYTHONPATH"] = str(REPO)
    env["XDG_DATA_HOME"] = str(cwd / "data")  # the drill's own data directory, never the real one
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=180)


def answers(*texts: str) -> str:
    return "".join(f"{t}\n.\n" for t in texts)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_piped_interview_quotes_the_persons_own_sentences_and_then_writes_up_their_story(tmp_path):
    """Follow-ups quote the blaming sentence and the unsafe SQL verbatim, later rounds name their service
    and table, and `gauntlet story` assembles the finished drill from their own sentences."""
    script = [BLAMING_OPENING, BLAMELESS_RETELLING, SCHEMA_PROBE, UNSAFE_SQL, LOCK_ANSWER, *["skip"] * 8]
    proc = gauntlet("drill", stdin=answers(*script), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = flat(proc.stdout)
    blamed = "Dave's sloppy change took it down and it was entirely his fault."
    assert f"You said: “{blamed}” Leave the person out" in out
    assert "Back to your checkout service and the config change. What was the root cause" in out
    assert "`invoices` is live and taking writes all day" in out
    assert f"You proposed: “{UNSAFE_SQL}” Run that on the live table" in out
    assert "While your checkout service is failing" in out
    assert "Scorecard" in out
    assert "The clock" not in out  # untimed is the default

    story = gauntlet("story", cwd=tmp_path)
    assert story.returncode == 0, story.stderr
    md = story.stdout
    assert md.startswith("# My production incident, as a STAR story")
    for heading in ("## Situation", "## Task", "## Action", "### Detection",
                    "### Diagnosis, with the wrong turn", "### Mitigation", "## Result",
                    "### Systemic result: how it was measured"):
        assert heading in md
    quoted = [line[2:] for line in md.splitlines() if line.startswith("> ")]
    assert quoted, md
    written = flat(" ".join(script))
    assert all(q in written for q in quoted)  # the person's own sentences, nothing invented
    assert "> At 14:10 I rolled back the config change and the errors stopped by 14:15." in md
    assert md.count("- **Missing:**") == 8 and "Not answered yet" in md

    out_file = tmp_path / "story.md"
    written_out = gauntlet("story", "--interview", "1", "--out", str(out_file), cwd=tmp_path)
    assert written_out.returncode == 0 and out_file.read_text(encoding="utf-8") == md
    missing = gauntlet("story", "--interview", "42", cwd=tmp_path)
    assert missing.returncode == 1 and "You have no interview #42." in missing.stderr


def test_a_follow_up_with_nothing_to_quote_is_asked_plainly_in_the_terminal(tmp_path):
    """A vague opening gets the plain probe: no "You said" and no invented quote."""
    proc = gauntlet("drill", stdin=answers(VAGUE_OPENING, "stop"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = flat(proc.stdout)
    plain = next(p.ask for p in CONTENT.probes if p.id == "how-did-you-find-out")
    assert "Follow-up — Opening" in proc.stdout and flat(plain) in out
    assert "You said" not in out


def test_a_timed_drill_shows_each_answers_time_and_the_elapsed_budget_on_the_scorecard(tmp_path):
    """`--timed` prints each answer's time and length, flags a 500-word answer to trim, and shows elapsed
    time against 20 minutes."""
    long_answer = " ".join([flat(CONTENT.rounds["curveball"].model_answer)] * 2)
    assert len(long_answer.split()) > 450
    proc = gauntlet("drill", "--timed", "--round", "curveball", stdin=answers(long_answer, "skip", "skip"),
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    note = r"⏱ 0:0\d · \d+ words \(budget about 2:00, 350 words\) — far over: "
    assert re.search(note + TRIM_NOTE, flat(out))
    clock = out[out.index("The clock"):]
    assert re.search(r"The human-error curveball\s+0:0\d\s+\d{3} words\s+↳ far over the budget: " + TRIM_NOTE,
                     clock)
    elapsed = r"Elapsed 0:0\d of 20:00 over \d answer\(s\): within the interview's budget\."
    assert re.search(elapsed, flat(clock))
