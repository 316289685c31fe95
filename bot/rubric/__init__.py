"""Grading: score an answer to one gauntlet round against the rubric, with quoted evidence for every point.

Pure functions: no Slack, no database, no network. The bottom layer: imports nothing else from bot;
callers hand it the content (bot.interview.grading passes the default).
"""

from .grader import grade, grade_many, merge_followup, read_sentences, verdict_for
from .types import FLAGS, LEVELS, VERDICTS, DimensionResult, FlagDetail, Grade

__all__ = [
    "FLAGS",
    "LEVELS",
    "VERDICTS",
    "DimensionResult",
    "FlagDetail",
    "Grade",
    "grade",
    "grade_many",
    "merge_followup",
    "read_sentences",
    "verdict_for",
]
