"""First start and every start: the store's own keys and the policy versions it has seen.

Four secrets live in ``meta``, each wrapped by the master key: a check value (so a wrong
master key is refused at start-up, not discovered as garbage later), the blind-index key, the
audit log's Ed25519 signing key, and the key that hashes web-log addresses. Policy versions
are recorded with their text: data keeps the limits of the version it was collected under, so
every version ever active must stay readable.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import Connection, Engine, insert, select

from pledge.errors import PolicyError
from pledge.policy import CompiledPolicy, compile_policy, load_policy_text
from pledge.policy.windows import Windows, window_ends
from pledge.store.database import reading
from pledge.store.keys import KeyProvider
from pledge.store.schema import meta, policy_versions

_CHECK = b"pledge-master-key-check/v1"


@dataclass(frozen=True)
class StoreSecrets:
    index_key: bytes
    signing_key: Ed25519PrivateKey
    web_log_key: bytes


def _secret(connection: Connection, keys: KeyProvider, name: str, make: bytes) -> bytes:
    wrapped = connection.execute(select(meta.c.value).where(meta.c.key == name)).scalar()
    if wrapped is None:
        connection.execute(insert(meta).values(key=name, value=keys.wrap(make)))
        return make
    return keys.unwrap(wrapped)


def load_secrets(engine: Engine, keys: KeyProvider) -> StoreSecrets:
    """Create the store's secrets on first start; unwrap them (checking the key) after."""
    with engine.begin() as connection:
        _secret(connection, keys, "master_key_check", _CHECK)
        index_key = _secret(connection, keys, "blind_index_key", os.urandom(32))
        fresh = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        signing = _secret(connection, keys, "audit_signing_key", fresh)
        web_log_key = _secret(connection, keys, "web_log_key", os.urandom(32))
    return StoreSecrets(index_key, Ed25519PrivateKey.from_private_bytes(signing), web_log_key)


def activate_policy(engine: Engine, text: str, file: str, now: dt.datetime) -> CompiledPolicy:
    """Compile ``text`` with every earlier recorded version as its history (in the order they
    were published, with when each one's notice window closes), and record it."""
    with engine.begin() as connection:
        recorded = connection.execute(
            select(
                policy_versions.c.version, policy_versions.c.text, policy_versions.c.activated_at
            ).order_by(policy_versions.c.activated_at, policy_versions.c.version)
        ).all()
        history = [
            load_policy_text(old_text, file=f"<recorded policy {version}>")
            for version, old_text, _ in recorded
        ]
        draft = load_policy_text(text, file=file)
        known = {version: old_text for version, old_text, _ in recorded}.get(draft.version)
        if known is None:
            connection.execute(
                insert(policy_versions).values(version=draft.version, text=text, activated_at=now)
            )
            published = [(h.policy, at) for h, (_, _, at) in zip(history, recorded, strict=True)]
            published.append((draft.policy, now))
        elif known != text:
            raise PolicyError(
                f"version '{draft.version}' is already recorded with different text; "
                "a changed policy needs a new version",
                file=file,
                path="version",
            )
        else:
            published = [(h.policy, at) for h, (_, _, at) in zip(history, recorded, strict=True)]
    windows = Windows(tuple(p.version for p, _ in published), window_ends(published))
    earlier = [h for h in history if h.version != draft.version]
    return compile_policy(draft.policy, earlier, windows.at(now))


def policy_history(engine: Engine) -> list[tuple[str, dt.datetime]]:
    """Every version this store has enforced, with when it was first activated, oldest first."""
    with reading(engine) as connection:
        rows = connection.execute(
            select(policy_versions.c.version, policy_versions.c.activated_at).order_by(
                policy_versions.c.activated_at
            )
        ).all()
    return [(version, at) for version, at in rows]


def recorded_policy_text(engine: Engine, version: str) -> str:
    """The text of ``version`` exactly as recorded when it was first activated."""
    with reading(engine) as connection:
        text: str = connection.execute(
            select(policy_versions.c.text).where(policy_versions.c.version == version)
        ).scalar_one()
    return text


def latest_policy(engine: Engine) -> str | None:
    """The text of the most recently activated policy, for commands run without --policy."""
    with reading(engine) as connection:
        text: str | None = connection.execute(
            select(policy_versions.c.text).order_by(policy_versions.c.activated_at.desc()).limit(1)
        ).scalar()
    return text
