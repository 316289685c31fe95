"""The `gauntlet` command as a person uses it: piped drills, resume, grading and content checks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import default_content

REPO = Path(__file__).resolve().parents[2]
CONTENT = default_content()
MAIN_ROUNDS = list(CONTENT.order)


def gauntlet(*args: str, stdin: str = "", cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "GAUNTLET_CONTENT_DIR", "NO_COLOR", "COLUMNS")}
    # The drill keeps progress in the user's data directory: a test's own, never the real one.
    full_env["XDG_DATA_HOME"] = str(cwd / "data")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        cwd=cwd, env=full_env, timeout=120,
    )


def answers(*texts: str) -> str:
    """Piped drill input: each answer ends with a '.' line; skip, retry and stop act on their own line."""
    return "".join(f"{t}\n" if t in ("skip", "retry", "stop") else f"{t}\n.\n" for t in texts)


def test_a_full_drill_runs_from_piped_answers(tmp_path):
    """Piped answers complete an interview: each round is asked, graded NN/100 with evidence, and a
    scorecard closes it."""
    script = [CONTENT.rounds[r].model_answer for r in MAIN_ROUNDS]
    # Follow-up probes may add questions; trailing `skip`s cover them, and input left over is unused.
    proc = gauntlet("drill", stdin=answers(*script, *["skip"] * 8), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for r in MAIN_ROUNDS:
        assert CONTENT.rounds[r].title in out
    assert re.search(r"Score \d{1,3}/100", out)
    assert "Fix these first:" in out
    assert "Scorecard" in out and "Practise next" in out
    assert (tmp_path / "data" / "incident-gauntlet" / "gauntlet.db").exists()
    assert not (tmp_path / "gauntlet.db").exists()


def test_an_interrupted_drill_resumes_where_it_stopped(tmp_path):
    """Input ending mid-interview saves the drill; `--resume` asks the next open question and finishes."""
    first = gauntlet("drill", stdin=answers(CONTENT.rounds["opening"].model_answer), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "gauntlet drill --resume" in first.stdout
    assert "Scorecard" not in first.stdout

    resumed = gauntlet("drill", "--resume", stdin=answers(*["skip"] * 12), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming drill #1" in resumed.stdout
    assert "Tell me about a production incident" not in resumed.stdout  # the opening is not asked again
    assert "Scorecard" in resumed.stdout
    assert "Opening" in resumed.stdout.split("Scorecard")[1]  # the earlier round counts in the scorecard


def test_resume_without_an_interrupted_drill_says_how_to_start(tmp_path):
    """--resume with nothing to resume exits non-zero with a pointer to `gauntlet drill`."""
    proc = gauntlet("drill", "--resume", cwd=tmp_path)
    assert proc.returncode == 1
    assert "gauntlet drill" in proc.stdout


def test_a_one_round_drill_and_a_bad_round_name(tmp_path):
    """`--round sql` asks only the SQL trap; an unknown round lists the valid ones."""
    ok = gauntlet("drill", "--round", "sql", "--level", "senior",
                  stdin=answers(CONTENT.rounds["sql"].model_answer, "skip"), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "The SQL trap" in ok.stdout and "Scorecard" in ok.stdout
    assert "at senior level" in ok.stdout
    bad = gauntlet("drill", "--round", "sequel", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown round 'sequel'" in bad.stderr and "curveball" in bad.stderr


def test_grade_json_follows_the_contract(tmp_path):
    """`grade --json` prints id, round, score 0–100, dimensions with evidence and hints, flags, summary."""
    answer = tmp_path / "a.txt"
    answer.write_text(CONTENT.rounds["opening"].model_answer, encoding="utf-8")
    proc = gauntlet("grade", "--round", "opening", "--json", "--id", "a1", str(answer), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["id"] == "a1" and data["round"] == "opening"
    assert isinstance(data["score"], int) and 0 <= data["score"] <= 100
    assert isinstance(data["flags"], list) and data["summary"]
    keys = {"key", "label", "score", "max", "evidence", "hint"}
    assert data["dimensions"] and all(keys <= set(d) for d in data["dimensions"])
    text = answer.read_text(encoding="utf-8")
    for d in data["dimensions"]:
        assert all(span in text for span in d["evidence"])


def test_grade_reads_stdin_and_prints_text(tmp_path):
    """Without --json the grade is printed for a person: score, dimensions and hints."""
    proc = gauntlet("grade", "--round", "curveball", "-", stdin="It was human error.", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"Score \d{1,3}/100", proc.stdout)
    assert "“" in proc.stdout  # quoted evidence


def test_grade_refuses_an_unknown_round(tmp_path):
    """An unknown round is a usage error naming the valid rounds."""
    proc = gauntlet("grade", "--round", "opener", "-", stdin="text", cwd=tmp_path)
    assert proc.returncode == 2 and "opening" in proc.stderr


def test_batch_grading_keeps_one_line_per_input_in_order(tmp_path):
    """--batch prints one JSON line per input line, in order with the same ids; bad lines are reported
    in place, on stderr, and make the exit status non-zero."""
    batch = tmp_path / "in.jsonl"
    rows = [
        {"id": "x1", "round": "opening", "text": CONTENT.rounds["opening"].model_answer},
        {"id": "x2", "round": "nope", "text": "some text"},
        "not json",
        {"id": 7, "round": "sql", "text": "ALTER TABLE t ADD COLUMN c int NOT NULL;"},
    ]
    batch.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    proc = gauntlet("grade", "--batch", str(batch), "--json", cwd=tmp_path)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line.get("id") for line in lines] == ["x1", "x2", None, "7"]
    assert "score" in lines[0] and "error" in lines[1] and "error" in lines[2]
    assert "unsafe_sql" in lines[3]["flags"]
    assert proc.returncode == 1
    assert f"{batch}:2:" in proc.stderr and f"{batch}:3:" in proc.stderr


def test_content_check_reports_a_broken_file_with_its_line(tmp_path):
    """`gauntlet content check DIR` prints file:line: key path: problem and exits non-zero."""
    broken = REPO / "tests" / "data" / "broken_content" / "weights"
    proc = gauntlet("content", "check", str(broken), cwd=REPO)
    assert proc.returncode == 1
    assert re.search(r"gauntlet\.yml:\d+: gauntlet\.rounds\.\w+\.weighs: weights add up to", proc.stderr)
    good = gauntlet("content", "check", cwd=REPO)
    assert good.returncode == 0 and "OK" in good.stdout


def test_a_yaml_syntax_error_is_reported_with_its_line(tmp_path):
    """A file that is not valid YAML is named with the parser's line, not a traceback."""
    (tmp_path / "prompts.yml").write_text("prompts:\n  - id: a\n    text: [unclosed\n")
    proc = gauntlet("content", "check", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert re.search(r"prompts\.yml:\d+: ", proc.stderr)


def test_help_lists_the_commands(tmp_path):
    """`gauntlet --help` names drill, grade and content."""
    proc = gauntlet("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for word in ("drill", "grade", "content"):
        assert word in proc.stdout
    assert "Start with: gauntlet drill" in proc.stdout


@pytest.mark.parametrize("level", ["junior", "staff"])
def test_grade_level_changes_the_verdict_scale(tmp_path, level):
    """--level is accepted for every level and reported back in the JSON."""
    proc = gauntlet("grade", "--round", "synthesis", "--level", level, "--json", "-",
                    stdin=CONTENT.rounds["synthesis"].model_answer, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["level"] == level
