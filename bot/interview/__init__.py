"""Interview engine, scorecards, follow-ups, story, grading pool; imports boards, rubric, content, store."""
