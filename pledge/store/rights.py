"""The data subject's rights: see and export everything, correct it, erase it.

Erasure is crypto-shredding: the subject's data key is destroyed in the key store (which keeps
no copy of it, see ``pledge.store.keys``), so every ciphertext of theirs (in the database, its
WAL, its backups and its replicas) becomes unreadable at once; the rows go too. Values the
policy must keep for the law (``legal_holds``) stay, under the same key, until their hold
ends; ``pledge retention run`` then finishes the job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from pledge.errors import ConflictError, NotFoundError
from pledge.policy.explain import legal_hold
from pledge.store import consents as consent_ledger
from pledge.store import credentials, sessions
from pledge.store import release as read_path
from pledge.store.audit import Record
from pledge.store.collect import LOOKUP_KINDS, aad
from pledge.store.crypto import SubjectCipher
from pledge.store.release import Grant
from pledge.store.schema import (
    consent_state,
    cookie_receipts,
    disclosures,
    personal_values,
    subject_lookup,
    subjects,
)
from pledge.store.schema import (
    credentials as credentials_table,
)
from pledge.store.shapes import check_value, shape_of

if TYPE_CHECKING:
    from pledge.store.vault import Vault


@dataclass(frozen=True)
class Erasure:
    subject: str
    deleted_fields: tuple[str, ...]
    held_fields: tuple[str, ...]
    held_until: dt.datetime | None
    key_destroyed: bool


def export(vault: Vault, subject: str, *, actor: str = "subject") -> dict[str, Any]:
    """Everything Pledge holds about the subject, readable, as the right of access requires."""

    def leaf(grant: Grant, ref: str) -> Record:
        return Record(
            action="export",
            actor=actor,
            subject_ref=ref,
            detail={"fields": sorted(v.key for v in grant.released)},
        )

    with vault.write() as connection:
        row = vault.subject_row(connection, subject)
        events = consent_ledger.history(connection, subject)
        secrets = credentials.listing(connection, subject)
        shared = connection.execute(
            select(disclosures)
            .where(disclosures.c.subject_id == subject)
            .order_by(disclosures.c.at, disclosures.c.audit_queue_id, disclosures.c.audit_seq)
        ).all()
        grant = read_path.within(
            vault, connection, [subject], read_path.SUBJECT, "right_of_access", record=leaf
        )[subject]
        assert isinstance(grant, Grant)  # subject_row above found the subject
    mine = read_path.open_grant(vault, grant, "right_of_access")
    return {
        "subject": subject,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "data": [
            {
                "point": v.point,
                "field": v.field,
                "category": v.category,
                "value": v.value,
                "collected_at": v.collected_at.isoformat(),
                "policy_version": v.policy_version,
            }
            for v in mine.items
        ],
        "choices": [
            {
                "choice": e.choice,
                "granted": e.granted,
                "source": e.source,
                "at": e.at.isoformat(),
                "policy_version": e.policy_version,
            }
            for e in events
        ],
        "credentials": [
            {
                "point": c["point"],
                "field": c["field"],
                "category": c["category"],
                "set": True,
                "set_at": c["set_at"].isoformat(),
            }
            for c in secrets
        ],
        "disclosures": [
            {
                "recipient": d.recipient,
                "purpose": d.purpose,
                "categories": d.categories,
                "legal_ref": d.legal_ref,
                "at": d.at.isoformat(),
            }
            for d in shared
        ],
        "audit_ref": vault.subject_ref(subject),
    }


def rectify(
    vault: Vault, subject: str, field: str, value: str, *, actor: str = "subject"
) -> list[str]:
    """Correct ``field`` wherever it was collected; the new value is checked like at collection."""
    points = vault.policy.policy.collection_points
    with vault.write() as connection:
        vault.subject_row(connection, subject, lock=True)
        rows = [r for r in read_path.load(connection, [subject])[subject] if r.field == field]
        if not rows:
            raise NotFoundError(f"subject '{subject}' has no field '{field}'", field=field)
        cipher = vault.ciphers([subject])[subject]
        changed = []
        for r in rows:
            # The value may come from an older policy whose point declared fields this one
            # no longer does; its shape then follows from its category.
            spec = points[r.point].fields.get(field) if r.point in points else None
            shape = shape_of(r.category, spec.shape if spec else None)
            clean = check_value(r.point, field, shape, value)
            connection.execute(
                update(personal_values)
                .where(
                    personal_values.c.subject_id == subject,
                    personal_values.c.point == r.point,
                    personal_values.c.field == field,
                )
                .values(ciphertext=cipher.encrypt(clean.encode(), aad(subject, r.point, field)))
            )
            changed.append(f"{r.point}.{field}")
        if any(r.category in LOOKUP_KINDS for r in rows):
            _reindex(vault, connection, subject, cipher, field)
        vault.record(
            connection,
            Record(
                action="rectify",
                actor=actor,
                subject_ref=vault.subject_ref(subject),
                detail={"fields": changed},
            ),
        )
    return changed


def _reindex(
    vault: Vault, connection: Connection, subject: str, cipher: SubjectCipher, field: str
) -> None:
    """Lookup tokens follow a corrected email or username: the new value finds the subject,
    the old one no longer does."""
    tokens = {
        vault.index.token(LOOKUP_KINDS[r.category], vault.open_value(cipher, subject, r)): (
            LOOKUP_KINDS[r.category]
        )
        for r in read_path.load(connection, [subject])[subject]
        if r.category in LOOKUP_KINDS
    }
    taken = connection.execute(
        select(subject_lookup.c.kind).where(
            subject_lookup.c.token.in_(list(tokens)), subject_lookup.c.subject_id != subject
        )
    ).first()
    if taken is not None:
        raise ConflictError(f"that {taken.kind} already belongs to another subject", field=field)
    connection.execute(delete(subject_lookup).where(subject_lookup.c.subject_id == subject))
    if tokens:
        connection.execute(
            insert(subject_lookup),
            [{"token": t, "subject_id": subject, "kind": k} for t, k in tokens.items()],
        )


def hold_days(vault: Vault, category: str) -> int | None:
    hold = legal_hold(vault.policy.policy, category)
    return hold.days if hold else None


def erase(vault: Vault, subject: str, *, actor: str = "subject") -> Erasure:
    """Erase the subject: destroy the key unless the law holds some values, delete the rest."""
    now = vault.clock()
    with vault.write() as connection:
        vault.subject_row(connection, subject, lock=True)
        rows = read_path.load(connection, [subject])[subject]
        held, gone, until = [], [], None
        for r in rows:
            days = hold_days(vault, r.category)
            if days is None:
                gone.append(r)
                continue
            held.append(r)
            end = r.collected_at + dt.timedelta(days=days)
            until = end if until is None else max(until, end)
        for r in gone:
            connection.execute(
                delete(personal_values).where(
                    personal_values.c.subject_id == subject,
                    personal_values.c.point == r.point,
                    personal_values.c.field == r.field,
                )
            )
        destroy = not held
        _unlink(connection, subject, "erased" if destroy else "deactivated", now)
        erasure = Erasure(
            subject,
            tuple(sorted(f"{r.point}.{r.field}" for r in gone)),
            tuple(sorted(f"{r.point}.{r.field}" for r in held)),
            until,
            destroy,
        )
        vault.record(
            connection,
            Record(
                action="erase",
                actor=actor,
                subject_ref=vault.subject_ref(subject),
                detail={
                    "deleted": list(erasure.deleted_fields),
                    "held": list(erasure.held_fields),
                    "held_until": until.isoformat() if until else None,
                    "key_destroyed": destroy,
                },
            ),
        )
        if destroy:  # last, once everything else in the erasure has succeeded
            vault.key_store.destroy([subject])
    return erasure


def forget(vault: Vault, connection: Connection, subject: str, *, actor: str) -> None:
    """Finish the erasure of a subject whose key the key store already destroyed (see
    ``pledge.store.keys.sync.replay``): its values cannot be opened, so all of them go."""
    connection.execute(delete(personal_values).where(personal_values.c.subject_id == subject))
    _unlink(connection, subject, "erased", vault.clock())
    vault.record(
        connection,
        Record(
            action="erase",
            actor=actor,
            subject_ref=vault.subject_ref(subject),
            detail={"replayed": True, "key_destroyed": True},
        ),
    )


def _unlink(connection: Connection, subject: str, status: str, now: dt.datetime) -> None:
    """What ties a subject to a person besides their values: lookups, current choices,
    credentials (never held for the law: nobody needs a password to comply with it), and
    their sessions and sign-in links of the privacy center."""
    sessions.revoke_all(connection, sessions.SUBJECT, subject, now)
    connection.execute(delete(subject_lookup).where(subject_lookup.c.subject_id == subject))
    connection.execute(delete(consent_state).where(consent_state.c.subject_id == subject))
    connection.execute(delete(credentials_table).where(credentials_table.c.subject_id == subject))
    # The browser's receipts stay, as anonymous records of what was answered; the link to the
    # person goes.
    connection.execute(
        update(cookie_receipts)
        .where(cookie_receipts.c.subject_id == subject)
        .values(subject_id=None, linked_at=None)
    )
    connection.execute(
        update(subjects)
        .where(subjects.c.subject_id == subject)
        .values(status=status, status_at=now)
    )
