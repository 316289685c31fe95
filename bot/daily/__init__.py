"""Daily prompts: schedules, channel settings, one post a day, scheduler; imports rubric, content, store."""
