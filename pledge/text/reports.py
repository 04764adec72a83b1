"""Taking in a free-text report: redact it, then collect what is left where the policy says.

The redacted text is collected at the report kind's collection point, so it is bound to that
point's purposes (troubleshooting, for error reports) by the same decision that guards every
other value, and kept under the same encryption, retention and erasure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pledge.errors import NotFoundError
from pledge.store.vault import Vault
from pledge.text.redact import redact


@dataclass(frozen=True)
class TakenReport:
    subject: str
    point: str
    redacted: Counter[str]


def take_report(
    vault: Vault, kind: str, text: str, *, subject: str | None = None, age: int | None = None
) -> TakenReport:
    intake = vault.policy.policy.reports.get(kind)
    if intake is None:
        raise NotFoundError(
            f"the policy takes no report of kind '{kind}'; see its 'reports' section", kind=kind
        )
    cleaned = redact(text)
    done = vault.collect(intake.point, {intake.field: cleaned.text}, subject=subject, age=age)
    return TakenReport(done.subject, intake.point, cleaned.found)
