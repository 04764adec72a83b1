"""API keys: who is calling, and in which scope.

A key reads ``plg_<key_id>.<secret>``. ``key_id`` is public: it finds the row, names the key
in logs and the audit log, and is what ``pledge keys revoke`` takes. ``secret`` is 32 random
bytes, and only its SHA-256 is stored.

Why SHA-256 and not argon2id: a password hash is slow on purpose, because passwords are
guessable and each guess must cost the attacker. A 256-bit random secret cannot be guessed at
any speed, so slowing the hash protects nothing, while ~50 ms of argon2 on every request would
cap a server core at about 20 requests a second. A leaked table still yields no usable key.

Scopes, each writing only what belongs to it:

- ``collector`` is the website's backend: it collects at the policy's collection points and
  records the choices a person makes on the site. It reads no personal data. Writing into an
  existing subject needs a subject token it minted when the person signed in; a submission that
  only matches someone's email or username waits for that person's confirmation.
- ``role`` acts as one staff role of the policy: reads go through the decision function. It
  writes nothing.
- ``agent`` is a ``role`` that may also record a choice on a person's behalf (a phone call, a
  letter), always with a stated reason that goes into the audit log.
- ``recipient`` acts as one recipient of the policy: it can only request disclosures to itself.
- ``admin`` answers data-subject requests, checks the audit log and manages keys. The last live
  admin key cannot be revoked, so the service never locks its operator out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Literal, cast

from pledge.errors import InputError, Unauthenticated
from pledge.policy import Actor
from pledge.policy.loader import suggest
from pledge.store import api_keys
from pledge.store.api_keys import KeyRow
from pledge.store.vault import Vault

Scope = Literal["collector", "role", "agent", "recipient", "admin"]
SCOPES: tuple[Scope, ...] = ("collector", "role", "agent", "recipient", "admin")
PREFIX = "plg_"
KEY_ID = re.compile(r"[0-9a-f]{16}")
_ID_BYTES = 8
_SECRET_BYTES = 32
_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    scope: Scope
    actor: str | None
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    def __str__(self) -> str:
        """How the audit log names this caller."""
        return f"key:{self.key_id}"

    @property
    def acting_as(self) -> Actor | None:
        """The policy's actor this key acts as; an admin key acts as none."""
        if self.actor is None:
            return None
        if self.scope in ("role", "agent"):
            return Actor.role(self.actor)
        if self.scope == "recipient":
            return Actor.recipient(self.actor)
        return None


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _key(row: KeyRow) -> ApiKey:
    return ApiKey(
        row.key_id, cast(Scope, row.scope), row.actor, row.name, row.created_at, row.revoked_at
    )


class KeyStore:
    """Creates, lists, revokes and checks keys, in the vault's database.

    A checked key is remembered for ``cache_seconds`` (per process), so a request costs no
    query for its key: a key revoked elsewhere (another worker, another node, the CLI) is
    refused by this process at most ``cache_seconds`` later; one revoked through this store is
    refused at once. Zero turns the cache off.
    """

    def __init__(self, vault: Vault, *, cache_seconds: float = 1.0) -> None:
        self.vault = vault
        self.cache_seconds = cache_seconds
        self._seen: dict[str, tuple[float, KeyRow]] = {}

    def create(
        self, scope: Scope, actor: str | None, name: str | None, *, by: str
    ) -> tuple[ApiKey, str]:
        """A new key and its full text; the text is shown once and never stored."""
        self._check_actor(scope, actor)
        key_id = secrets.token_hex(_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        key = ApiKey(
            key_id,
            scope,
            actor,
            name or actor or scope,
            self.vault.clock(),
            None,
        )
        row = KeyRow(key_id, _digest(secret), scope, actor, key.name, key.created_at, None)
        api_keys.add(self.vault, row, by=by)
        return key, f"{PREFIX}{key_id}.{secret}"

    def _check_actor(self, scope: Scope, actor: str | None) -> None:
        policy = self.vault.policy.policy
        if scope in ("admin", "collector"):
            if actor is not None:
                raise InputError(f"a {scope} key acts for no role or recipient", field="actor")
            return
        kind = "recipient" if scope == "recipient" else "role"
        names = policy.recipients if scope == "recipient" else policy.roles
        if actor is None:
            raise InputError(f"a {scope} key needs the {kind} it acts as", field="actor")
        if actor not in names:
            raise InputError(
                f"the policy (version {self.vault.policy.version}) has no {kind} "
                f"'{actor}'{suggest(actor, names)}",
                field="actor",
            )

    def all_keys(self) -> list[ApiKey]:
        return [_key(row) for row in api_keys.listing(self.vault)]

    def revoke(self, key_id: str, *, by: str) -> ApiKey:
        """Revoke ``key_id`` from the next request on; revoking twice is a conflict."""
        revoked = api_keys.revoke(self.vault, key_id, by=by)
        self._seen.pop(key_id, None)
        return _key(revoked)

    def authenticate(self, presented: str) -> ApiKey:
        """The live key ``presented`` is, or :class:`Unauthenticated`."""
        key_id, dot, secret = presented.removeprefix(PREFIX).partition(".")
        if not presented.startswith(PREFIX) or not dot or not key_id or not secret:
            raise Unauthenticated("the API key is malformed; it looks like plg_<id>.<secret>")
        row = self._row(key_id)
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            raise Unauthenticated("the API key is not valid")
        if row.revoked_at is not None:
            raise Unauthenticated("the API key was revoked; ask an administrator for a new one")
        return _key(row)

    def _row(self, key_id: str) -> KeyRow | None:
        """The key's row, from this process's cache while it is younger than the limit."""
        now = time.monotonic()
        seen = self._seen.get(key_id)
        if seen is not None and now - seen[0] < self.cache_seconds:
            return seen[1]
        row = api_keys.find(self.vault, key_id)
        if row is not None and self.cache_seconds > 0:
            if len(self._seen) >= _CACHE_LIMIT:
                self._seen.clear()  # unknown ids cannot grow it: only rows found are kept
            self._seen[key_id] = (now, row)
        return row
