"""Master-key rotation: every wrapped key is re-wrapped under the new master key, in one
transaction per store; no personal value is decrypted or re-encrypted.

What the master key wraps: each subject's data key (in the key store, re-wrapped last, in its
own transaction), and the store's own secrets in ``meta``
(the key check, the blind-index key, the audit signing key). A crash before the commits leaves
everything under the old key; after them, everything is under the new one, and opening the
store with the old key is refused with both key ids named. A crash between them leaves the
data keys under the new key: run the rotation again, it skips the keys already moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from pledge.errors import MasterKeyError
from pledge.store.audit import Record
from pledge.store.keys import KeyProvider, rotate
from pledge.store.schema import meta

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
        secrets = connection.execute(select(meta.c.key, meta.c.value)).all()
        for name, value in secrets:
            connection.execute(
                update(meta).where(meta.c.key == name).values(value=rotate(old, new, value))
            )
        subject_keys = vault.key_store.rewrap(lambda wrapped: _resumable(old, new, wrapped))
        vault.record(
            connection,
            Record(
                action="rotate_master_key",
                actor=actor,
                detail={
                    "old_key_id": old.key_id,
                    "new_key_id": new.key_id,
                    "subject_keys": subject_keys,
                    "store_secrets": len(secrets),
                },
            ),
        )
    vault.keys = new
    return Rotation(old.key_id, new.key_id, subject_keys, len(secrets))


def _resumable(old: KeyProvider, new: KeyProvider, wrapped: bytes) -> bytes:
    """Re-wrap one data key; one the new key already wraps is kept, so a rotation that died
    between the key store's commit and the database's can simply be run again."""
    try:
        return rotate(old, new, wrapped)
    except MasterKeyError:
        new.unwrap(wrapped)  # neither key: let that error out
        return wrapped
