"""The drill in a real 80×24 terminal (tmux): commands act on Enter, text wraps between words, colour is
on, and after an answer the score, the things to fix and the next question share one screen."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")

REPO = Path(__file__).resolve().parents[2]
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-8]|9[0-7])(?:;\d+)*m")  # a foreground colour (39: default)
OPENING_PROMPT = ("Tell me about a production incident you handled. What broke, who felt it, how did you "
                  "find out, and what did you personally do in the first hour?")


class Terminal:
    """One tmux server of our own (its own socket) running one command in an 80×24 window."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.socket = f"gauntlet-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        shell = f"cd {cwd} && env {exports} {' '.join(command)}; sleep 30"
        self.tmux("new-session", "-d", "-x", "80", "-y", "24", shell)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout

    def screen(self, colours: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if colours else []))

    def type(self, *lines: str) -> None:
        for line in lines:
            self.tmux("send-keys", "-l", line)
            self.tmux("send-keys", "Enter")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminal(tmp_path):
    opened: list[Terminal] = []

    def open_drill(*args: str) -> Terminal:
        env = {"XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(REPO), "TERM": "xterm-256color"}
        term = Terminal([sys.executable, "-m", "bot", "drill", *args], tmp_path, env)
        opened.append(term)
        return term

    yield open_drill
    for term in opened:
        term.close()


def joined(screen: str) -> str:
    return " ".join(screen.split())


def test_commands_act_on_enter_and_text_wraps_between_words(terminal):
    """On a terminal `skip` moves on at once; the question wraps at word boundaries in 80 columns and
    the headings are coloured."""
    term = terminal()
    screen = term.wait_for("Round 1 of 5 — Opening")
    assert "The production-incident gauntlet — 5 rounds, graded at mid level." in joined(screen)
    assert OPENING_PROMPT in joined(screen)  # a word broken mid-way would not match
    assert COLOUR.search(term.screen(colours=True))
    term.type("skip")
    screen = term.wait_for("Round 2 of 5")
    assert "Skipped: Opening." in screen
    term.type("stop")
    term.wait_for("Scorecard (stopped): no answers yet")


def test_feedback_and_the_next_question_fit_one_80_by_24_screen(terminal):
    """After an answer the score, the two things to fix and the next question are all on screen."""
    term = terminal()
    term.wait_for("Round 1 of 5")
    term.type("We had an outage at 14:02 when a deploy broke checkout for 20% of users. An alert paged me",
              "at 14:05; I rolled back at 14:12 and errors stopped. We then added a canary step.", ".")
    deadline = time.monotonic() + 60
    while True:
        screen = term.screen()
        if "Score " in screen and ("Follow-up — Opening" in screen or "Round 2 of 5" in screen):
            break
        if time.monotonic() > deadline:
            pytest.fail("score and next question were not on one screen:\n" + screen)
        time.sleep(0.2)
    assert "Fix these first:" in screen and "(type detail for the full breakdown)" in screen
    assert max(len(line) for line in screen.splitlines()) <= 80
    term.type("detail")
    term.wait_for("Diagnostic reasoning")


def test_no_color_turns_colour_off_on_a_terminal(terminal, tmp_path):
    """NO_COLOR set in a terminal: the screen has no colour codes."""
    term = Terminal([sys.executable, "-m", "bot", "drill"], tmp_path,
                    {"XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(REPO),
                     "TERM": "xterm-256color", "NO_COLOR": "1"})
    try:
        term.wait_for("Round 1 of 5")
        assert not COLOUR.search(term.screen(colours=True))
    finally:
        term.close()

