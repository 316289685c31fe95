"""Errors raised for broken content, each pointing at a file, a line and a key path."""

from __future__ import annotations


class ContentError(Exception):
    """One problem in one content file: where it is and what is wrong."""

    def __init__(self, file: str, line: int | None, key_path: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key_path = key_path
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        # Errors about a whole directory or an unparseable file have no line or key path.
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key_path:
            where = f"{where}: {self.key_path}"
        return f"{where}: {self.problem}"

    def __repr__(self) -> str:
        return f"ContentError({self.file!r}, {self.line!r}, {self.key_path!r}, {self.problem!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentError):
            return NotImplemented
        return (self.file, self.line, self.key_path, self.problem) == (
            other.file,
            other.line,
            other.key_path,
            other.problem,
        )

    def __hash__(self) -> int:
        return hash((self.file, self.line, self.key_path, self.problem))


class ContentErrors(Exception):
    """Every problem found while loading content (loading never stops at the first)."""

    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = list(errors)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
