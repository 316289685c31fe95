"""Interview content: the gauntlet, the probe library, the daily prompts and the rubric settings.

Content is YAML in `content/` (built in) plus optional team directories layered on top; every
problem is reported with its file, line and key path. The bottom layer: imports only bot.rubric (the
rubric settings' validator and the grade types).
"""

from .errors import ContentError, ContentErrors
from .loader import BUILTIN_CONTENT_DIR, check_content, default_content, load_content
from .model import (
    CONDITIONS,
    DIMENSIONS,
    INCIDENT_SLOTS,
    QUOTE_SLOTS,
    SIGNALS,
    Content,
    Probe,
    Prompt,
    Round,
    evaluate_condition,
)

__all__ = [
    "BUILTIN_CONTENT_DIR",
    "CONDITIONS",
    "DIMENSIONS",
    "INCIDENT_SLOTS",
    "QUOTE_SLOTS",
    "SIGNALS",
    "Content",
    "ContentError",
    "ContentErrors",
    "Probe",
    "Prompt",
    "Round",
    "check_content",
    "default_content",
    "evaluate_condition",
    "load_content",
]
