"""API keys, managed with an admin key: create (the key is shown once), list, revoke.

The first admin key comes from the command line (``pledge keys create --admin``), where
access to the server's configuration is the credential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from pledge.api.deps import AdminKey, Keys
from pledge.api.keys import ApiKey
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import KeyCreatedOut, KeyIn, KeyOut

router = v1_router(tags=["keys"])


def _out(key: ApiKey) -> KeyOut:
    return KeyOut(
        key_id=key.key_id,
        scope=key.scope,
        actor=key.actor,
        name=key.name,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.post("/admin/keys", status_code=201)
def create(body: KeyIn, keys: Keys, admin: AdminKey) -> KeyCreatedOut:
    """A new key for a role or recipient of the active policy, or another admin."""
    key, text = keys.create(body.scope, body.actor, body.name, by=str(admin))
    return KeyCreatedOut(**_out(key).model_dump(), key=text)


@router.get("/admin/keys")
def listing(keys: Keys, _admin: AdminKey) -> list[KeyOut]:
    """Every key, live and revoked; never a secret."""
    return [_out(key) for key in keys.all_keys()]


@router.delete("/admin/keys/{key_id}", responses=documented(404, 409))
def revoke(
    key_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")], keys: Keys, admin: AdminKey
) -> KeyOut:
    """Revoke a key from its next request on."""
    return _out(keys.revoke(key_id, by=str(admin)))
