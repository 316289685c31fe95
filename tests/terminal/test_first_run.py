"""The first ten minutes, run as a newcomer runs them: the drill from piped input, `gauntlet history`,
`gauntlet grade`, `gauntlet content check`, and every error a newcomer can provoke ending in one or two
clear lines with a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.content import default_content

REPO = Path(__file__).resolve().parents[2]
CONTENT = default_content()
OPENING = CONTENT.rounds["opening"].model_answer
ANSI = re.compile(r"\x1b\[")
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-8]|9[0-7])(?:;\d+)*m")  # foreground colour, not bold or dim


def gauntlet(*args: str, stdin: str | int = "", cwd: Path, env: dict | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """`gauntlet ARGS` in a clean environment whose data directory is the test's own."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "GAUNTLET_CONTENT_DIR", "NO_COLOR", "COLUMNS")}
    full_env["XDG_DATA_HOME"] = str(cwd / "data")
    full_env.update(env or {})
    kwargs: dict = {"input": stdin} if isinstance(stdin, str) else {"stdin": stdin}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=timeout, **kwargs)


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


# ---- the drill ---------------------------------------------------------------------------------------


def test_skip_retry_and_stop_act_on_their_own_line_without_a_dot(tmp_path):
    """`retry` before any answer says there is nothing to retry, `skip` moves on and `stop` ends the
    drill, each at once, with no '.' line after it."""
    proc = gauntlet("drill", stdin="retry\nskip\nstop\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "There is nothing to retry yet" in out and "Answer Opening again" not in out
    assert "Skipped: Opening." in out
    assert "Round 2 of 5 — Root cause" in out
    assert "Interview stopped" in out
    assert "That answer was empty" not in out


def test_stopping_before_any_answer_says_no_answers_yet(tmp_path):
    """A scorecard with nothing answered says "no answers yet", never 00/100 or a verdict."""
    proc = gauntlet("drill", stdin="stop\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Scorecard (stopped): no answers yet" in proc.stdout
    assert "/100" not in proc.stdout and "No Hire" not in proc.stdout


def test_intro_names_the_gauntlet_and_level_and_the_data_file_is_shown_once(tmp_path):
    """The intro gives the title and level; the first drill says where progress is kept, later ones
    do not, and nothing is written to the working directory."""
    first = gauntlet("drill", "--level", "senior", stdin="stop\n", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "The production-incident gauntlet — 5 rounds, graded at senior level." in first.stdout
    data_file = tmp_path / "data" / "incident-gauntlet" / "gauntlet.db"
    assert f"Your drills are saved in {data_file}" in first.stdout
    assert data_file.is_file() and not (tmp_path / "gauntlet.db").exists()
    second = gauntlet("drill", "--round", "sql", stdin="stop\n", cwd=tmp_path)
    assert "Your drills are saved in" not in second.stdout
    assert "The SQL trap — one round, graded at mid level." in second.stdout


def test_resume_works_from_another_directory(tmp_path):
    """Progress lives in the user's data directory, so `--resume` finds the drill from anywhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    gauntlet("drill", stdin=f"{OPENING}\n.\n", cwd=tmp_path, env=env)
    resumed = gauntlet("drill", "--resume", stdin="stop\n", cwd=elsewhere, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming drill #1" in resumed.stdout
    assert not (elsewhere / "gauntlet.db").exists()


def test_the_resume_hint_keeps_the_database_url(tmp_path):
    """A drill kept in a named database says to resume with that same --database-url."""
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    proc = gauntlet("drill", "--database-url", url, stdin=f"{OPENING}\n.\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"gauntlet drill --resume --database-url {url}" in proc.stdout


def test_compact_feedback_has_the_score_two_fixes_and_the_next_question(tmp_path):
    """After an answer the drill shows an unpadded score, at most two things to fix, no sentence quoted
    twice, and the next question; `detail` shows every dimension."""
    answer = ("We had an outage at 14:02. Kevin's sloppy change took checkout down for 20% of users. "
              "I rolled back at 14:10 and errors stopped.")
    proc = gauntlet("drill", stdin=f"{answer}\n.\ndetail\nstop\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    compact, rest = proc.stdout.split("(type detail for the full breakdown)", 1)
    feedback = compact.split("Score ", 1)[1]
    assert re.match(r"\d{1,3}/100 — ", feedback) and not re.match(r"0\d/100", feedback)
    assert "Fix these first:" in feedback and "3." not in feedback
    quotes = re.findall(r"“([^”]+)”", feedback)
    assert len(quotes) == len(set(quotes))
    assert "Follow-up — Opening" in rest or "Round 2 of 5" in rest
    detail = rest.split("Interview stopped")[0]
    for label in ("Detection", "Quantified impact", "Ownership", "Timeline"):
        assert label in detail


def test_detail_flag_shows_the_full_breakdown_after_each_answer(tmp_path):
    """`gauntlet drill --detail` prints every dimension with bars instead of the compact view."""
    proc = gauntlet("drill", "--detail", "--round", "curveball",
                    stdin=f"{CONTENT.rounds['curveball'].model_answer}\n.\nskip\n", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Fix these first:" not in proc.stdout
    assert "Blameless framing" in proc.stdout and "█" in proc.stdout


def test_piped_output_fits_80_columns_without_colour_or_trailing_spaces(tmp_path):
    """Not a terminal: lines wrap at word boundaries within 80 columns and carry no ANSI codes."""
    script = "".join(f"{CONTENT.rounds[r].model_answer}\n.\n" for r in CONTENT.order) + "skip\n" * 8
    proc = gauntlet("drill", stdin=script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # Paths and commands are left whole so they copy and paste; everything else wraps.
    wrapped = [line for line in lines if str(tmp_path) not in line]
    assert max(len(line) for line in wrapped) <= 80
    assert not ANSI.search(proc.stdout)
    assert not any(line.endswith(" ") for line in lines)


def test_no_color_is_respected_even_when_colour_is_forced(tmp_path):
    """NO_COLOR wins over FORCE_COLOR: the drill writes no colour codes (bold stays, as NO_COLOR allows)."""
    forced = gauntlet("drill", stdin="stop\n", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert COLOUR.search(forced.stdout)  # the control: forced colour does colour
    plain = gauntlet("drill", stdin="stop\n", cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not COLOUR.search(plain.stdout)


def test_a_follow_up_reply_is_not_counted_as_another_attempt(tmp_path):
    """Answering a follow-up never shows "best of 2 attempts"; a retry does."""
    short = "I fixed the outage myself at 14:00; I rolled back the deploy and checkout recovered for users."
    proc = gauntlet("drill", stdin=f"{short}\n.\nAn alert on checkout errors paged me at 13:58.\n.\n",
                    cwd=tmp_path)
    assert "Follow-up — Opening" in proc.stdout
    assert "best of" not in proc.stdout
    retried = gauntlet("drill", stdin=f"{short}\n.\nretry\n{OPENING}\n.\n", cwd=tmp_path)
    assert "Answer Opening again" in retried.stdout
    assert "best of 2 attempts" in retried.stdout


def test_history_lists_past_drills_with_their_scorecards(tmp_path):
    """`gauntlet history` lists each drill with its result and round scores; with an id, the whole
    scorecard."""
    empty = gauntlet("history", cwd=tmp_path)
    assert empty.returncode == 0 and "No drills yet" in empty.stdout
    gauntlet("drill", stdin=f"{OPENING}\n.\nstop\n", cwd=tmp_path)
    gauntlet("drill", "--round", "sql", stdin="stop\n", cwd=tmp_path)
    listed = gauntlet("history", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert out.index("#2") < out.index("#1")  # newest first
    assert re.search(r"#1 .*full interview, mid level, stopped: \d{1,3}/100", out)
    assert re.search(r"Opening \d{1,3} · Root cause and failure chain not answered · 3 more not reached", out)
    assert re.search(r"#2 .*The SQL trap, mid level, stopped: no answers", out)
    one = gauntlet("history", "1", cwd=tmp_path)
    assert "Scorecard (stopped)" in one.stdout and "Practise next" in one.stdout
    missing = gauntlet("history", "9", cwd=tmp_path)
    assert missing.returncode == 1 and "no drill #9" in missing.stderr


# ---- content ------------------------------------------------------------------------------------------


BROKEN_PROBES = """\
probes:
  - id: zeta
    after: [nowhere]
    when: {flg: hero}
    ask: Who else?
    why: Hero.
  - id: alpha
    after: [opening]
    when: {flag: hero}
    ask: Who else was paged?
    why: Hero.
    goto: neverland
"""


def test_content_check_prints_every_problem_sorted_by_line(tmp_path):
    """A probe with a bad condition and an unknown round shows both at once, in file order."""
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "probes.yml").write_text(BROKEN_PROBES)
    proc = gauntlet("content", "check", str(tmp_path / "team"), cwd=tmp_path)
    assert proc.returncode == 1
    problems = [line for line in proc.stderr.splitlines() if "probes.yml:" in line]
    assert any("probes[0].after[0]: unknown round 'nowhere'" in p for p in problems)
    assert any("probes[0].when: unknown condition 'flg'" in p for p in problems)
    assert any("probes[1].goto: unknown round 'neverland'" in p for p in problems)
    lines = [int(re.search(r"probes\.yml:(\d+):", p).group(1)) for p in problems]
    assert lines == sorted(lines) and len(problems) == 3
    assert "3 problem(s)" in proc.stderr


def test_content_check_checks_the_directory_in_the_environment(tmp_path):
    """With no DIR, `content check` checks $GAUNTLET_CONTENT_DIR over the built-in content and says so."""
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "probes.yml").write_text(BROKEN_PROBES)
    broken = gauntlet("content", "check", cwd=tmp_path, env={"GAUNTLET_CONTENT_DIR": str(tmp_path / "team")})
    assert broken.returncode == 1 and "GAUNTLET_CONTENT_DIR=" in broken.stderr
    missing = gauntlet("content", "check", cwd=tmp_path, env={"GAUNTLET_CONTENT_DIR": str(tmp_path / "gone")})
    assert missing.returncode == 1 and "no such directory" in missing.stderr


@pytest.mark.parametrize("problem", ["broken", "missing"])
def test_drill_and_grade_with_broken_content_say_so_in_two_lines(tmp_path, problem):
    """A broken or missing $GAUNTLET_CONTENT_DIR stops drill and grade with the first problem and the
    command that lists them all, not a traceback."""
    team = tmp_path / "team"
    if problem == "broken":
        team.mkdir()
        (team / "probes.yml").write_text(BROKEN_PROBES)
    env = {"GAUNTLET_CONTENT_DIR": str(team)}
    for args in (("drill",), ("grade", "--round", "opening", "-")):
        proc = gauntlet(*args, stdin="stop\n", cwd=tmp_path, env=env)
        assert proc.returncode == 1
        no_traceback(proc)
        assert f"GAUNTLET_CONTENT_DIR={team}" in proc.stderr
        assert "gauntlet content check" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 2


# ---- grade ------------------------------------------------------------------------------------------


def test_grade_with_no_file_on_a_terminal_says_how_to_give_an_answer(tmp_path):
    """`gauntlet grade --round opening` typed at a terminal does not wait silently: it says how to give
    the answer and exits 2."""
    leader, follower = pty.openpty()
    try:
        proc = gauntlet("grade", "--round", "opening", stdin=follower, cwd=tmp_path, timeout=60)
    finally:
        os.close(leader)
        os.close(follower)
    assert proc.returncode == 2
    no_traceback(proc)
    assert "no answer given" in proc.stderr and "answer.txt" in proc.stderr


def test_an_empty_answer_is_an_error(tmp_path):
    """An empty answer is not graded 0: it is an error with a non-zero exit."""
    proc = gauntlet("grade", "--round", "opening", stdin="  \n\n", cwd=tmp_path)
    assert proc.returncode == 2 and "empty" in proc.stderr
    assert proc.stdout == ""


def test_batch_error_rows_keep_their_id_and_empty_text_is_an_error_row(tmp_path):
    """An error row carries the input's id whenever the line had one."""
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "text": "no round here"},
        {"id": "b", "round": "opening", "text": "   "},
        {"id": "c", "round": "opening", "text": OPENING},
    ]) + "\n")
    proc = gauntlet("grade", "--batch", str(batch), cwd=tmp_path)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[0] == {"id": "a", "line": 1, "error": "missing round"}
    assert rows[1]["id"] == "b" and "empty" in rows[1]["error"]
    assert rows[2]["id"] == "c" and "score" in rows[2]
    assert proc.returncode == 1


@pytest.mark.parametrize("extra", [["answer.txt"], ["--round", "opening"]])
def test_batch_refuses_an_answer_file_or_round(tmp_path, extra):
    """--batch with an answer file or --round is refused with a line saying what to drop."""
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": 1, "round": "opening", "text": OPENING}) + "\n")
    (tmp_path / "answer.txt").write_text(OPENING)
    proc = gauntlet("grade", "--batch", "in.jsonl", *extra, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--batch takes each answer's id, round and text" in proc.stderr
    assert ("an answer file" if extra[0] == "answer.txt" else "--round") in proc.stderr


def test_grade_help_lists_the_rounds_and_explains_level(tmp_path):
    """`gauntlet grade --help` names every built-in round and says what --level does."""
    proc = gauntlet("grade", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for round_id in CONTENT.rounds:
        assert round_id in text
    assert "--level {junior,mid,senior,staff}" in text and "what this level is expected to show" in text


# ---- databases ----------------------------------------------------------------------------------------


def test_a_database_that_cannot_be_opened_is_two_lines_and_debug_shows_the_traceback(tmp_path):
    """A --database-url that cannot be opened names the problem and the fix; --debug adds the traceback."""
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"
    proc = gauntlet("drill", "--database-url", url, stdin="stop\n", cwd=tmp_path)
    assert proc.returncode == 1
    no_traceback(proc)
    assert proc.stderr.startswith("gauntlet drill: cannot open the database: unable to open database file")
    assert len(proc.stderr.strip().splitlines()) == 2
    debug = gauntlet("drill", "--database-url", url, "--debug", stdin="stop\n", cwd=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_a_postgres_database_that_does_not_exist_is_named(tmp_path):
    """A DATABASE_URL naming a database the server does not have says so, without the password."""
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="gauntlet_no_such_db", password="s3cret")
    shown = url.render_as_string(hide_password=False)
    proc = gauntlet("drill", stdin="stop\n", cwd=tmp_path, env={"DATABASE_URL": shown})
    assert proc.returncode == 1
    no_traceback(proc)
    assert "gauntlet_no_such_db" in proc.stderr and "s3cret" not in proc.stderr


# ---- Python ------------------------------------------------------------------------------------------


def test_an_older_python_is_told_what_it_needs():
    """On Python 3.10 the package stops with one line naming the version it needs and the one it got."""
    import bot

    with pytest.raises(SystemExit) as stopped:
        bot.require_python((3, 10, 12, "final", 0))
    assert str(stopped.value).startswith(
        "Incident Gauntlet needs Python 3.11 or newer; this is Python 3.10.12.")
    bot.require_python((3, 11, 0, "final", 0))  # 3.11 itself is fine


def test_the_package_declares_python_311_for_pip():
    """pyproject.toml's requires-python matches the check, so pip refuses an older Python up front."""
    assert 'requires-python = ">=3.11"' in (REPO / "pyproject.toml").read_text()


def test_a_long_batch_shows_a_progress_bar_on_the_terminal_and_clean_json_on_stdout(tmp_path):
    """With stderr on a terminal and stdout in a pipe, a 30-answer batch draws a progress bar on the
    terminal while stdout gets exactly one JSON line per answer."""
    batch = tmp_path / "in.jsonl"
    batch.write_text("".join(json.dumps({"id": i, "round": "opening", "text": OPENING}) + "\n"
                             for i in range(30)))
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "DATABASE_URL")}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "grade", "--batch", str(batch)], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    terminal = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            terminal.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    out, _ = proc.communicate(timeout=120)  # stdout is read while the terminal is: neither fills up
    reader.join(timeout=10)
    os.close(leader)
    assert proc.returncode == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(30)]
    assert b"grading" in terminal and b"/30" in terminal
