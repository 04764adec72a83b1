"""Credentials (passwords, secrets): hashed at collection, checked, never given back.

A field of shape ``secret`` is hashed with argon2id the moment it is collected; the plaintext
is never stored, encrypted or otherwise, so no read, export or disclosure can return it. The
hash itself is sealed under the subject's data key like any value, so erasing the subject
shreds it too. The one thing a caller can do with a credential is :func:`verify` a candidate
against it, which is limited per credential: after a few failures each further attempt waits
longer, whichever process or API node it comes through (the count is in the database).
A hash made with weaker parameters than today's is replaced at the next correct password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from pledge.errors import NotFoundError, TooManyAttempts
from pledge.store.audit import Record
from pledge.store.crypto import SubjectCipher
from pledge.store.schema import credentials

if TYPE_CHECKING:
    from pledge.store.vault import Vault

FREE_FAILURES = 5  # failures in a row before attempts are spaced out
MAX_WAIT = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Hashed:
    """A secret field as collection stores it: its category and its argon2id hash."""

    category: str
    hash: str


def seal_aad(subject: str, point: str, field: str) -> bytes:
    """Binds a sealed hash to its row, apart from the values' associated data."""
    return f"credential|{subject}|{point}|{field}".encode()


def store(
    connection: Connection,
    subject: str,
    point: str,
    hashed: dict[str, Hashed],
    cipher: SubjectCipher,
    *,
    version: str,
    now: dt.datetime,
) -> None:
    """Set (or replace) the subject's credentials collected at ``point``."""
    if not hashed:
        return
    connection.execute(
        delete(credentials).where(
            credentials.c.subject_id == subject,
            credentials.c.point == point,
            credentials.c.field.in_(list(hashed)),
        )
    )
    connection.execute(
        insert(credentials),
        [
            {
                "subject_id": subject,
                "point": point,
                "field": field,
                "category": h.category,
                "sealed_hash": cipher.encrypt(h.hash.encode(), seal_aad(subject, point, field)),
                "policy_version": version,
                "set_at": now,
                "failures": 0,
                "last_failure_at": None,
            }
            for field, h in hashed.items()
        ],
    )


def listing(connection: Connection, subject: str) -> list[dict[str, Any]]:
    """What an export says about credentials: that one is set, where, and since when."""
    return [
        {"point": r.point, "field": r.field, "category": r.category, "set_at": r.set_at}
        for r in connection.execute(
            select(credentials)
            .where(credentials.c.subject_id == subject)
            .order_by(credentials.c.point, credentials.c.field)
        )
    ]


def _wait(failures: int, last: dt.datetime | None, now: dt.datetime) -> float:
    """Seconds until the next attempt is allowed: none for the first few failures, then
    doubling from one second up to :data:`MAX_WAIT`."""
    if failures < FREE_FAILURES or last is None:
        return 0.0
    backoff = min(dt.timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_WAIT)
    return max(0.0, (last + backoff - now).total_seconds())


def verify(
    vault: Vault, subject: str, point: str, field: str, candidate: str, *, actor: str
) -> bool:
    """Whether ``candidate`` is the subject's credential ``point.field``; audited, limited."""
    now = vault.clock()
    key = (
        credentials.c.subject_id == subject,
        credentials.c.point == point,
        credentials.c.field == field,
    )
    with vault.write() as connection:
        vault.subject_row(connection, subject, lock=True)
        row = connection.execute(select(credentials).where(*key).with_for_update()).first()
        if row is None:
            raise NotFoundError(
                f"subject '{subject}' has no credential '{point}.{field}'", field=field
            )
        wait = _wait(row.failures, row.last_failure_at, now)
        if wait > 0:
            raise TooManyAttempts(wait)
        cipher = vault.ciphers([subject])[subject]
        aad = seal_aad(subject, point, field)
        stored = cipher.decrypt(row.sealed_hash, aad, context=f"credential {point}.{field}")
        ok: bool
        try:
            ok = vault.hasher.verify(stored.decode(), candidate)
        except (VerificationError, InvalidHashError):
            ok = False
        changes: dict[str, Any] = {"failures": 0, "last_failure_at": None}
        if not ok:
            changes = {"failures": credentials.c.failures + 1, "last_failure_at": now}
        elif vault.hasher.check_needs_rehash(stored.decode()):
            fresh = vault.hasher.hash(candidate).encode()
            changes["sealed_hash"] = cipher.encrypt(fresh, aad)
        connection.execute(update(credentials).where(*key).values(**changes))
        vault.record(
            connection,
            Record(
                action="verify_credential",
                actor=actor,
                subject_ref=vault.subject_ref(subject),
                detail={
                    "field": f"{point}.{field}",
                    "ok": ok,
                    "rehashed": "sealed_hash" in changes,
                },
            ),
        )
    return ok
