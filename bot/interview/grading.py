"""The grader as callers use it: `bot.rubric` with the default content when none is given.

`bot.rubric` sits below the content loader and is handed its content on every call; code with no
content at hand (the follow-up quoting, tools, tests) calls these, which pass `default_content()` (the
built-in content plus $GAUNTLET_CONTENT_DIR).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from bot import rubric
from bot.content import default_content
from bot.rubric.types import Grade


def _or_default(content: Any) -> Any:
    return default_content() if content is None else content


def grade(text: str, round_id: str, level: str = "mid", *, content: Any = None, id: str | None = None,
          followup: bool = False) -> Grade:
    """`bot.rubric.grade`, against the default content unless `content` is given."""
    return rubric.grade(text, round_id, level, content=_or_default(content), id=id, followup=followup)


def grade_many(items: Iterable[tuple[str | None, str, str]], level: str = "mid", *,
               content: Any = None) -> Iterator[Grade]:
    """`bot.rubric.grade_many`, against the default content (loaded once) unless `content` is given."""
    yield from rubric.grade_many(items, level, content=_or_default(content))


def read_sentences(text: str, label: str, *, content: Any = None) -> list[str]:
    """`bot.rubric.read_sentences`, against the default content unless `content` is given."""
    return rubric.read_sentences(text, label, content=_or_default(content))
