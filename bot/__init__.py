"""Incident Gauntlet: practise the production-incident interview story."""

import sys

__version__ = "0.1.0"
MIN_PYTHON = (3, 11)


def require_python(version: tuple = tuple(sys.version_info)) -> None:
    """Stop with one clear line on a Python older than 3.11 (run from a clone, where pip's own check
    never ran), instead of a syntax or import error deep inside."""
    if tuple(version[:2]) < MIN_PYTHON:
        have = ".".join(str(part) for part in version[:3])
        raise SystemExit(f"Incident Gauntlet needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is "
                         f"Python {have}. Install python3.11 (or newer) and create the .venv with it.")


require_python()
