"""Purpose-bound reads: a subject's values go out only as far as the policy allows the actor,
for the stated purpose, under the subject's choices and the version each value was collected
under. Every read, allowed or refused, is audited before any value is decrypted, so a read the
log cannot record returns nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from pledge.errors import DeniedError, NotFoundError, PledgeError
from pledge.policy import Actor, Choices, CompiledPolicy, Decision, Reason, Request, decide
from pledge.policy.taxonomy import covers
from pledge.store import consents as consent_ledger
from pledge.store.audit import Record
from pledge.store.schema import personal_values, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault


@dataclass(frozen=True)
class ReadResult:
    subject: str
    purpose: str
    values: dict[str, str]
    withheld: dict[str, Reason]
    decisions: tuple[Decision, ...]


@dataclass
class StoredValue:
    """One encrypted value as stored, with where and under which policy it was collected."""

    point: str
    field: str
    category: str
    ciphertext: bytes
    policy_version: str
    collected_at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> StoredValue:
        return cls(
            row.point, row.field, row.category, row.ciphertext, row.policy_version, row.collected_at
        )


def release(
    policy: CompiledPolicy,
    actor: Actor,
    purpose: str,
    rows: Sequence[StoredValue],
    choices: Choices,
    *,
    legal_ref: str | None = None,
    group_size: int | None = None,
) -> tuple[list[StoredValue], dict[str, Reason], list[Decision]]:
    """Split ``rows`` into released and withheld (by field, with the reason): one decision per
    policy version the rows were collected under, limited to the points they came from."""
    groups: dict[str, list[StoredValue]] = defaultdict(list)
    for row in rows:
        groups[row.policy_version].append(row)
    released: list[StoredValue] = []
    withheld: dict[str, Reason] = {}
    decisions: list[Decision] = []
    for version, group in groups.items():
        decision = decide(
            policy,
            Request(
                actor,
                purpose,
                tuple(sorted({r.category for r in group})),
                choices,
                collected_under=version,
                points=frozenset(r.point for r in group),
                legal_ref=legal_ref,
                group_size=group_size,
            ),
        )
        decisions.append(decision)
        reasons = dict(decision.withheld)
        for row in group:
            if row.category in decision.released:
                released.append(row)
            else:
                withheld[row.field] = (
                    reasons.get(row.category)
                    or decision.denial
                    or Reason("denied", "not allowed", "policy")
                )
    return released, withheld, decisions


def _refusal(actor: Actor, purpose: str, subject: str, decisions: list[Decision]) -> DeniedError:
    first = next((d.denial for d in decisions if d.denial), None)
    message = str(first) if first else "the subject has no data in those categories"
    return DeniedError(
        f"{actor} may not read this subject's data for '{purpose}': {message}",
        decision=decisions[0] if decisions else None,
        subject=subject,
    )


def read_many(
    vault: Vault,
    subject_ids: Sequence[str],
    purpose: str,
    actor: Actor,
    categories: Iterable[str] | None,
) -> list[ReadResult | PledgeError]:
    wanted = None if categories is None else list(categories)
    ids = list(dict.fromkeys(subject_ids))
    outcomes: dict[str, tuple[Any, list[StoredValue], dict[str, Reason], list[Decision]]] = {}
    legal = vault.for_legal_obligation(purpose)
    with vault.write() as connection:
        rows_of: dict[str, Any] = {
            r.subject_id: r
            for r in connection.execute(select(subjects).where(subjects.c.subject_id.in_(ids)))
        }
        values: dict[str, list[StoredValue]] = defaultdict(list)
        for r in connection.execute(
            select(personal_values).where(personal_values.c.subject_id.in_(ids))
        ):
            if wanted is None or any(covers(w, r.category) for w in wanted):
                values[r.subject_id].append(StoredValue.of(r))
        choices = consent_ledger.current_many(connection, ids)
        records = []
        for subject in ids:
            row = rows_of.get(subject)
            if row is None or row.status == "erased":
                continue
            if row.status == "deactivated" and not legal:
                continue  # erased, but for values held for the law: those serve it only
            released, withheld, decisions = release(
                vault.policy, actor, purpose, values[subject], choices[subject]
            )
            outcomes[subject] = (row, released, withheld, decisions)
            records.append(
                Record(
                    action="read",
                    actor=str(actor),
                    subject_ref=vault.subject_ref(subject),
                    purpose=purpose,
                    detail={
                        "released": sorted(r.field for r in released),
                        "withheld": {f: r.code for f, r in sorted(withheld.items())},
                    },
                )
            )
        if records:  # none when every subject is unknown or erased
            vault.audit.append(connection, records)
    results: list[ReadResult | PledgeError] = []
    for subject in subject_ids:
        if subject not in outcomes:
            gone = subject in rows_of
            results.append(
                NotFoundError(
                    f"subject '{subject}' was erased" if gone else f"no subject '{subject}'",
                    subject=subject,
                )
            )
            continue
        row, released, withheld, decisions = outcomes[subject]
        if not released:
            results.append(_refusal(actor, purpose, subject, decisions))
            continue
        cipher = vault.cipher(row)
        opened = {
            r.field: vault.open_value(cipher, subject, r)
            for r in sorted(released, key=lambda r: r.collected_at)
        }
        results.append(ReadResult(subject, purpose, opened, withheld, tuple(decisions)))
    return results
