"""Pending changes: writes into a person's data that wait for the person to confirm them.

A submission that names no subject but carries an email or username someone already has is
not merged into that someone: it would let anyone who knows an address rewrite another
person's data. It is kept here instead, encrypted under the existing subject's data key (so an
erasure shreds it too), until the person follows the confirmation link mailed to the address
on record. A grant of a purpose the policy marks ``double_opt_in`` waits here the same way.

A confirmation link is the pending change's id and expiry, sealed with a store secret: it
cannot be forged, it expires, and it works once (the row's status moves from ``pending`` to
``confirmed`` under a row lock, in the transaction that applies the change).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from pledge.errors import ConfirmationInvalid
from pledge.policy import CompiledPolicy
from pledge.policy.taxonomy import covers
from pledge.store import consents as consent_ledger
from pledge.store.audit import Record
from pledge.store.crypto import SubjectCipher
from pledge.store.database import reading
from pledge.store.schema import pending_changes
from pledge.store.signing import Sealer

if TYPE_CHECKING:
    from pledge.store.vault import Vault

KEY_NAME = "confirmation_key"
VALID_FOR = dt.timedelta(days=3)
PENDING, CONFIRMED = "pending", "confirmed"
_VERSION = 1
_SIZE = 1 + 16 + 8


@dataclass(frozen=True)
class Change:
    """What waits: values at a point (``point`` set) and choices to record.

    A credential submitted with the values waits too, as the argon2id hash collection made
    of it (``secrets``: field -> hash): the plaintext is gone before the change is kept, and
    confirming sets the hash as it is."""

    point: str | None
    fields: Mapping[str, str]
    choices: Mapping[str, bool]
    age: int | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The fields the change sets, credentials included (never their values)."""
        return sorted([*self.fields, *self.secrets])

    def dump(self) -> bytes:
        return json.dumps(
            {
                "point": self.point,
                "fields": dict(self.fields),
                "choices": dict(self.choices),
                "age": self.age,
                "secrets": dict(self.secrets),
            }
        ).encode()

    @classmethod
    def load(cls, raw: bytes) -> Change:
        data: dict[str, Any] = json.loads(raw)
        return cls(
            data["point"], data["fields"], data["choices"], data["age"], data.get("secrets", {})
        )


@dataclass(frozen=True)
class RecordedChoice:
    """A choice as recorded: its state from now on, and the pending change it waits in."""

    choice: str
    granted: bool
    pending: str | None


@dataclass(frozen=True)
class Confirmed:
    subject: str
    pending_id: str
    fields: tuple[str, ...]
    choices: dict[str, bool]


def needs_confirmation(policy: CompiledPolicy, choice: str, granted: bool) -> bool:
    """Whether granting ``choice`` waits for the person's confirmation: it gives consent to a
    purpose the policy marks ``double_opt_in`` (or to a purpose above or below one)."""
    prefix, _, name = choice.partition(":")
    if not granted or prefix != "purpose":
        return False
    return any(
        spec.double_opt_in and (covers(name, purpose) or covers(purpose, name))
        for purpose, spec in policy.policy.purposes.items()
    )


def _aad(subject: str, pending_id: str) -> bytes:
    return f"pending|{subject}|{pending_id}".encode()


def propose(
    vault: Vault,
    connection: Connection,
    subject: str,
    cipher: SubjectCipher,
    change: Change,
    *,
    actor: str,
    now: dt.datetime,
) -> str:
    """Keep ``change`` for ``subject`` until confirmed; its id."""
    pending_id = os.urandom(16).hex()
    connection.execute(
        insert(pending_changes).values(
            pending_id=pending_id,
            subject_id=subject,
            payload=cipher.encrypt(change.dump(), _aad(subject, pending_id)),
            created_at=now,
            expires_at=now + VALID_FOR,
            status=PENDING,
        )
    )
    vault.record(
        connection,
        Record(
            action="change_pending",
            actor=actor,
            subject_ref=vault.subject_ref(subject),
            detail={
                "pending": pending_id,
                "point": change.point,
                "fields": change.names,
                "choices": dict(change.choices),
            },
        ),
    )
    return pending_id


class Confirmations:
    """Issues confirmation links and applies the change a valid one names, once."""

    def __init__(self, key: bytes) -> None:
        self._sealer = Sealer(key, "confirmation/v1")

    def link_token(self, vault: Vault, pending_id: str) -> str:
        """The token of ``pending_id``'s link, for the confirmation message."""
        with reading(vault.engine) as connection:
            expires = connection.execute(
                select(pending_changes.c.expires_at).where(
                    pending_changes.c.pending_id == pending_id
                )
            ).scalar_one()
        body = bytes([_VERSION]) + bytes.fromhex(pending_id)
        return self._sealer.seal(body + int(expires.timestamp()).to_bytes(8, "big"))

    def check(self, vault: Vault, token: str) -> str:
        """The pending id ``token`` names, if the link is genuine and not yet expired."""
        body = self._sealer.open(token, _SIZE)
        if body is None or body[0] != _VERSION:
            raise ConfirmationInvalid(
                "this confirmation link is damaged or was not issued by us; copy the whole "
                "link from the message",
                reason="damaged",
            )
        if int.from_bytes(body[17:25], "big") <= vault.clock().timestamp():
            raise ConfirmationInvalid(
                "this confirmation link has expired; submit the form again for a new one",
                reason="expired",
            )
        return body[1:17].hex()

    def confirm(self, vault: Vault, token: str) -> Confirmed:
        """Apply the change once; a second use (or a concurrent one) is refused."""
        from pledge.store.collect import Collection, check, store_many

        pending_id = self.check(vault, token)
        now = vault.clock()
        with vault.write() as connection:
            row = connection.execute(
                select(pending_changes)
                .where(pending_changes.c.pending_id == pending_id)
                .with_for_update()
            ).first()
            if row is None or row.status != PENDING:
                raise ConfirmationInvalid(
                    "this confirmation link was already used (or its change was withdrawn)",
                    reason="used",
                )
            vault.subject_row(connection, row.subject_id, lock=True)
            change = Change.load(
                vault.ciphers([row.subject_id])[row.subject_id].decrypt(
                    row.payload,
                    _aad(row.subject_id, pending_id),
                    context=f"subject {row.subject_id}, pending change {pending_id}",
                )
            )
            claimed = connection.execute(
                update(pending_changes)
                .where(
                    pending_changes.c.pending_id == pending_id,
                    pending_changes.c.status == PENDING,
                )
                .values(status=CONFIRMED, done_at=now)
            )
            if claimed.rowcount != 1:
                raise ConfirmationInvalid("this confirmation link was already used", reason="used")
            source = f"confirmed:{pending_id}"
            if change.point is not None:
                item = Collection(
                    change.point, change.fields, row.subject_id, change.choices, change.age
                )
                checked = check(vault.policy, item, now.date(), vault.hasher, hashed=change.secrets)
                store_many(vault, connection, [checked], now, {}, confirmed=True)
            elif change.choices:
                consent_ledger.append(
                    connection,
                    row.subject_id,
                    change.choices.items(),
                    source=source,
                    version=vault.policy.version,
                    at=now,
                )
            vault.record(
                connection,
                Record(
                    action="change_confirmed",
                    actor=source,
                    subject_ref=vault.subject_ref(row.subject_id),
                    detail={"pending": pending_id, "fields": change.names},
                ),
            )
        return Confirmed(row.subject_id, pending_id, tuple(change.names), dict(change.choices))
