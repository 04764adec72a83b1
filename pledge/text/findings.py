"""What lint reports: one finding, where it is, and why it matters, in the shape the CLI and
``--json`` print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pledge.text.segment import Document, Sentence, line_of

Severity = Literal["serious", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    rule: str
    message: str
    fix: str
    where: str
    sentences: tuple[Sentence, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "fix": self.fix,
            "where": self.where,
            "sentences": [s.as_dict() for s in self.sentences],
            **({"details": self.details} if self.details else {}),
        }


def where(document: Document, sentence: Sentence) -> str:
    return (
        f"text:{line_of(document.source, sentence.start)} (chars {sentence.start}-{sentence.end})"
    )
