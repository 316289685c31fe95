"""Content budgets: an alias bomb, deep nesting, an oversized file or directory are each reported as
`file:line: problem` quickly, by the loader, by `gauntlet content check` and by `gauntlet serve`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.content import ContentErrors, load_content
from bot.content.located import MAX_DEPTH, MAX_DIR_BYTES, MAX_FILE_BYTES, MAX_VALUES

REPO = Path(__file__).resolve().parents[2]
BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"]
                 + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]"
                    for i in range(8)]
                 + ["prompts: *i", ""])  # nine levels: 9**9 values (387 million) from ~350 bytes


def _errors(directory: Path) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        load_content([directory])
    return [str(e) for e in caught.value.errors]


def test_an_alias_bomb_is_refused_quickly_at_its_line(tmp_path):
    """A nine-level alias bomb is reported within seconds as too many values, at a line of the file."""
    (tmp_path / "bomb.yml").write_text(BOMB)
    assert len(BOMB.encode()) < 400
    started = time.monotonic()
    [error] = _errors(tmp_path)
    assert time.monotonic() - started < 5
    assert error.startswith(f"{tmp_path / 'bomb.yml'}:") and f"more than {MAX_VALUES:,} values" in error
    assert error.split(":")[1].isdigit()


def test_nesting_a_thousand_deep_is_an_error_not_a_recursion_crash(tmp_path):
    """A list nested 1,000 deep is reported as too deep at the line where the limit is crossed."""
    (tmp_path / "deep.yml").write_text("prompts:\n" + "  " + "[" * 1000 + "]" * 1000 + "\n")
    [error] = _errors(tmp_path)
    assert error == f"{tmp_path / 'deep.yml'}:2: nested more than {MAX_DEPTH} levels deep"


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    """A file over the size budget is one error naming its size, without parsing it."""
    big = tmp_path / "big.yml"
    big.write_text("prompts:\n" + "  - {id: p, variant: v, text: '" + "x" * MAX_FILE_BYTES + "'}\n")
    [error] = _errors(tmp_path)
    assert error.startswith(f"{big}:1: file is ") and f"at most {MAX_FILE_BYTES:,} bytes" in error


def test_a_directory_over_its_budget_stops_reading(tmp_path):
    """Files that together pass the directory budget are reported at the file that crossed it."""
    chunk = "# " + "x" * (MAX_FILE_BYTES // 2) + "\nprompts: []\n"
    for i in range(MAX_DIR_BYTES // len(chunk) + 2):
        (tmp_path / f"f{i:02d}.yml").write_text(chunk)
    errors = _errors(tmp_path)
    assert any(": the directory's content files add up to more than" in e and e.split(":")[1] == "1"
               for e in errors)


def _gauntlet(args: list[str], content: Path, tmp_path: Path, timeout: float = 60):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
           "GAUNTLET_CONTENT_DIR": str(content), "SLACK_BOT_TOKEN": "xoxb-unused",
           "SLACK_SIGNING_SECRET": "unused", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("name,text", [("bomb.yml", BOMB),
                                       ("deep.yml", "prompts:\n  " + "[" * 1000 + "]" * 1000 + "\n")])
def test_content_check_and_serve_report_the_problem_without_a_traceback(tmp_path, name, text):
    """`gauntlet content check DIR` exits 1 with `file:line: problem`; `gauntlet serve --http` with that
    directory stops at start-up with the same line instead of hanging or crashing."""
    content = tmp_path / "team"
    content.mkdir()
    (content / name).write_text(text)
    checked = _gauntlet(["content", "check", str(content)], content, tmp_path)
    assert checked.returncode == 1 and "Traceback" not in checked.stderr
    assert f"{content / name}:" in checked.stderr
    served = _gauntlet(["serve", "--http", "--port", "0"], content, tmp_path)
    assert served.returncode != 0 and "Traceback" not in served.stderr
    assert f"{content / name}:" in served.stderr
