"""The grading contract shared by the rubric, the engine, the terminal drill and the Slack app.

Everything here is plain data: no Slack, no database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LEVELS = ("junior", "mid", "senior", "staff")

# The rubric dimensions (stable keys: content weighs them, stored grades and exports name them).
DIMENSIONS = (
    "blameless",
    "timeline",
    "mitigation_fix_prevention",
    "detection",
    "impact",
    "ownership",
    "diagnosis",
    "communication",
    "prevention",
    "measurement",
    "altitude",
    "migration_safety",
)
VERDICTS = ("Strong Hire", "Hire", "Lean Hire", "Lean No Hire", "No Hire")

# The flag names are part of the contract: the Slack app and the tests rely on them.
FLAGS = (
    "blame",
    "blameless_to_a_fault",
    "hero",
    "no_prevention",
    "conflated_fix",
    "unsafe_sql",
    "gaming",
    "off_topic",
    "too_short",
)


@dataclass(frozen=True)
class DimensionResult:
    """One rubric dimension as scored for one answer."""

    key: str
    label: str
    score: int
    max: int
    evidence: list[str] = field(default_factory=list)  # verbatim spans quoted from the answer
    hint: str = ""  # one concrete thing to do better; empty only when the dimension is full marks

    @property
    def fraction(self) -> float:
        return self.score / self.max if self.max else 0.0


@dataclass(frozen=True)
class FlagDetail:
    """Why a flag was raised, in words a person can act on."""

    name: str
    message: str
    sentence: str | None = None  # the offending sentence, quoted (blame, unsafe_sql)
    rewrite: str | None = None  # a suggested replacement (blame: a blameless rewrite)


@dataclass
class Grade:
    """The result of grading one answer to one round."""

    round: str
    level: str
    score: int  # 0..100
    dimensions: list[DimensionResult]
    flags: list[str]
    flag_details: list[FlagDetail]
    summary: str
    verdict: str
    # Facts about the answer the engine uses to choose probes (e.g. "schema_change", "has_sql",
    # "restart_only"); not scores, and not shown to people.
    signals: list[str] = field(default_factory=list)
    id: str | None = None

    def dimension(self, key: str) -> DimensionResult | None:
        return next((d for d in self.dimensions if d.key == key), None)

    @property
    def strongest(self) -> DimensionResult | None:
        scored = [d for d in self.dimensions if d.max]
        return max(scored, key=lambda d: (d.fraction, d.max), default=None)

    @property
    def weakest(self) -> DimensionResult | None:
        scored = [d for d in self.dimensions if d.max]
        return min(scored, key=lambda d: (d.fraction, -d.max), default=None)

    def to_dict(self) -> dict:
        out = {
            "id": self.id,
            "round": self.round,
            "level": self.level,
            "score": self.score,
            "verdict": self.verdict,
            "dimensions": [asdict(d) for d in self.dimensions],
            "flags": list(self.flags),
            "flag_details": [asdict(f) for f in self.flag_details],
            "summary": self.summary,
            "signals": list(self.signals),
        }
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Grade:
        return cls(
            round=data["round"],
            level=data.get("level", "mid"),
            score=int(data["score"]),
            dimensions=[DimensionResult(**d) for d in data.get("dimensions", [])],
            flags=list(data.get("flags", [])),
            flag_details=[FlagDetail(**f) for f in data.get("flag_details", [])],
            summary=data.get("summary", ""),
            verdict=data.get("verdict", ""),
            signals=list(data.get("signals", [])),
            id=data.get("id"),
        )
