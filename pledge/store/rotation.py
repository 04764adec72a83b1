"""Master-key rotation: every wrapped key is re-wrapped under the new master key, in one
transaction; no personal value is decrypted or re-encrypted.

What the master key wraps: each subject's data key, and the store's own secrets in ``meta``
(the key check, the blind-index key, the audit signing key). A crash before the commit leaves
everything under the old key; after it, everything is under the new one, and opening the store
with the old key is refused with both key ids named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from pledge.store.audit import Record
from pledge.store.keys import KeyProvider, rotate
from pledge.store.schema import meta, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    subject_keys: int
    store_secrets: int


def rotate_master_key(vault: Vault, new: KeyProvider, *, actor: str = "operator") -> Rotation:
    old = vault.keys
    with vault.write() as connection:
        wrapped = connection.execute(
            select(subjects.c.subject_id, subjects.c.wrapped_key)
            .where(subjects.c.wrapped_key.is_not(None))
            .with_for_update()
        ).all()
        for subject, key in wrapped:
            connection.execute(
                update(subjects)
                .where(subjects.c.subject_id == subject)
                .values(wrapped_key=rotate(old, new, key))
            )
        secrets = connection.execute(select(meta.c.key, meta.c.value)).all()
        for name, value in secrets:
            connection.execute(
                update(meta).where(meta.c.key == name).values(value=rotate(old, new, value))
            )
        vault.record(
            connection,
            Record(
                action="rotate_master_key",
                actor=actor,
                detail={
                    "old_key_id": old.key_id,
                    "new_key_id": new.key_id,
                    "subject_keys": len(wrapped),
                    "store_secrets": len(secrets),
                },
            ),
        )
    vault.keys = new
    return Rotation(old.key_id, new.key_id, len(wrapped), len(secrets))
