"""The disclosure ledger: personal data leaves only to a recipient the policy names, for its
purpose, under its condition, and every disclosure is recorded where the subject can see it.

Aggregate-only recipients (statistics shared "without personal information") get counts
about a segment, never rows, and never about people they pick: see
:mod:`pledge.store.aggregates`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from pledge.errors import DeniedError, InputError, PledgeError
from pledge.policy import Actor, Reason
from pledge.policy.model import Condition
from pledge.store import release as read_path
from pledge.store.audit import Record
from pledge.store.database import reading
from pledge.store.release import Grant
from pledge.store.schema import audit_entries, disclosures

if TYPE_CHECKING:
    from pledge.store.vault import Vault


@dataclass(frozen=True)
class Disclosed:
    recipient: str
    purpose: str
    released: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: dict[str, Reason] = field(default_factory=dict)


def disclose(
    vault: Vault,
    subject_ids: list[str],
    recipient: str,
    purpose: str,
    categories: list[str],
    *,
    legal_ref: str | None = None,
) -> Disclosed:
    """Hand the allowed part of each subject's data to ``recipient``, and record it."""
    spec = vault.policy.policy.recipients.get(recipient)
    if spec is None:
        raise InputError(f"the policy names no recipient '{recipient}'", recipient=recipient)
    if not subject_ids:
        raise InputError("name at least one subject to disclose")
    if spec.condition is Condition.aggregate:
        raise DeniedError(
            f"'{recipient}' receives counts about a segment only, never chosen people: ask "
            "for an aggregate (POST /v1/aggregates)",
            recipient=recipient,
        )
    actor = Actor.recipient(recipient)
    now = vault.clock()
    result = Disclosed(recipient, purpose)

    def leaf(grant: Grant, ref: str) -> Record:
        if not grant.released:
            reason = grant.denial()
            return Record(
                action="disclosure_refused",
                actor=str(actor),
                subject_ref=ref,
                purpose=purpose,
                detail={"reason": reason.code, "ref": reason.ref},
            )
        return Record(
            action="disclose",
            actor=str(actor),
            subject_ref=ref,
            purpose=purpose,
            detail={
                "categories": sorted({v.category for v in grant.released}),
                "legal_ref": legal_ref,
                "withheld": {k: r.code for k, r in sorted(grant.withheld.items())},
            },
        )

    with vault.write() as connection:
        outcomes = read_path.within(
            vault,
            connection,
            subject_ids,
            actor,
            purpose,
            categories,
            record=leaf,
            legal_ref=legal_ref,
            lock=True,
        )
        for subject in subject_ids:
            grant = outcomes[subject]
            if isinstance(grant, PledgeError):
                raise grant
        grants = [g for g in outcomes.values() if isinstance(g, Grant)]
        rows = [
            {
                "subject_id": g.subject,
                "disclosure_id": uuid.uuid4().hex,
                "recipient": recipient,
                "purpose": purpose,
                "categories": sorted({v.category for v in g.released}),
                "legal_ref": legal_ref,
                "policy_version": vault.policy.version,
                "at": now,
                "audit_queue_id": g.leaf,
            }
            for g in grants
            if g.released
        ]
        if rows:
            connection.execute(insert(disclosures), rows)
        read_path.prime(vault, grants)
        for grant in grants:
            if grant.released:
                result.released[grant.subject] = read_path.open_grant(vault, grant, purpose).values
            else:
                result.refused[grant.subject] = grant.denial()
    return result


def listing(vault: Vault, subject: str) -> list[dict[str, Any]]:
    """The subject's disclosures, newest last: who received what, why, when, and the audit
    entry recording it (None for the moment its leaf waits in the queue)."""
    with reading(vault.engine) as connection:
        vault.subject_row(connection, subject)
        return [
            {
                "recipient": d.recipient,
                "purpose": d.purpose,
                "categories": d.categories,
                "legal_ref": d.legal_ref,
                "at": d.at.isoformat(),
                "audit_entry": d.audit_seq if d.audit_seq is not None else d.seq,
            }
            for d in connection.execute(
                select(disclosures, audit_entries.c.seq)
                .outerjoin(audit_entries, audit_entries.c.queue_id == disclosures.c.audit_queue_id)
                .where(disclosures.c.subject_id == subject)
                .order_by(disclosures.c.at, disclosures.c.audit_queue_id, disclosures.c.audit_seq)
            )
        ]
