"""Persistence: SQLModel tables and the data functions over them; imports nothing else from bot."""

from bot.store.db import make_engine, session_scope
from bot.store.models import Answer, GradeRecord, HandledEvent, Interview, Person, PointEntry
from bot.store.schema import init_db

__all__ = [
    "Answer",
    "GradeRecord",
    "HandledEvent",
    "Interview",
    "Person",
    "PointEntry",
    "init_db",
    "make_engine",
    "session_scope",
]
