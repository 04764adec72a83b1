"""The REST service's API keys, as rows: who may call, in which scope, and whether still.

Only a SHA-256 of each key's secret is stored (see :mod:`pledge.api.keys` for why that, and
not a password hash). Creating and revoking a key are audited in the same transaction. The
last live admin key cannot be revoked: the check and the revocation hold the admin keys'
rows (PostgreSQL) or the database's write lock (SQLite), so two concurrent revocations cannot
both pass it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, select, update

from pledge.errors import ConflictError, NotFoundError
from pledge.store.audit import Record
from pledge.store.database import reading
from pledge.store.schema import api_keys

if TYPE_CHECKING:
    from pledge.store.vault import Vault

ADMIN = "admin"


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    secret_hash: bytes
    scope: str
    actor: str | None
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back without their offset; they were written in UTC."""
    return at.replace(tzinfo=dt.UTC) if at is not None and at.tzinfo is None else at


def _row(row: Any) -> KeyRow:
    created = _utc(row.created_at)
    assert created is not None
    return KeyRow(
        row.key_id,
        row.secret_hash,
        row.scope,
        row.actor,
        row.name,
        created,
        _utc(row.revoked_at),
    )


_BY_ID = select(api_keys).where(api_keys.c.key_id == bindparam("key_id"))


def add(vault: Vault, key: KeyRow, *, by: str) -> None:
    """Store a new key, audited as created by ``by``."""
    with vault.write() as connection:
        connection.execute(
            insert(api_keys).values(
                key_id=key.key_id,
                secret_hash=key.secret_hash,
                scope=key.scope,
                actor=key.actor,
                name=key.name,
                created_at=key.created_at,
            )
        )
        vault.record(
            connection,
            Record(
                action="api_key_created",
                actor=by,
                detail={"key_id": key.key_id, "scope": key.scope, "actor": key.actor},
            ),
        )


def listing(vault: Vault) -> list[KeyRow]:
    """Every key, live or revoked, oldest first."""
    with reading(vault.engine) as connection:
        rows = connection.execute(select(api_keys).order_by(api_keys.c.created_at))
        return [_row(row) for row in rows]


def find(vault: Vault, key_id: str) -> KeyRow | None:
    with reading(vault.engine) as connection:
        row = connection.execute(_BY_ID, {"key_id": key_id}).first()
    return None if row is None else _row(row)


def revoke(vault: Vault, key_id: str, *, by: str) -> KeyRow:
    """Revoke ``key_id``, audited; revoking twice, or the last live admin key, is a conflict."""
    now = vault.clock()
    with vault.write() as connection:
        row = connection.execute(_BY_ID, {"key_id": key_id}).first()
        if row is None:
            raise NotFoundError(f"no API key '{key_id}'", key_id=key_id)
        if row.revoked_at is not None:
            raise ConflictError(f"API key '{key_id}' is already revoked", key_id=key_id)
        if row.scope == ADMIN and _live_admins(connection) <= 1:
            raise ConflictError(
                f"API key '{key_id}' is the last live admin key; create another admin key "
                "before revoking this one",
                key_id=key_id,
            )
        connection.execute(
            update(api_keys).where(api_keys.c.key_id == key_id).values(revoked_at=now)
        )
        vault.record(
            connection, Record(action="api_key_revoked", actor=by, detail={"key_id": key_id})
        )
    return replace(_row(row), revoked_at=now)


def _live_admins(connection: Connection) -> int:
    """Live admin keys, locked (PostgreSQL) or under the write lock (SQLite)."""
    live = connection.execute(
        select(api_keys.c.key_id)
        .where(api_keys.c.scope == ADMIN, api_keys.c.revoked_at.is_(None))
        .with_for_update()
    )
    return len(live.all())
