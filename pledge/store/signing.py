"""Signed, expiring tokens under named secrets of the store.

Each kind of token (unsubscribe links, subject tokens, confirmation links) has its own
32-byte key in ``meta``, wrapped by the master key like the store's other secrets, and its
own domain string, so a token of one kind never verifies as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError as DuplicateKey

from pledge.store.keys import KeyProvider
from pledge.store.schema import meta

KEY_BYTES = 32
MAC_BYTES = 16


def named_secret(engine: Engine, keys: KeyProvider, name: str) -> bytes:
    """The secret ``name``: created (and wrapped by the master key) on first use, unwrapped
    after. Two processes creating it at once both try to insert; the loser reads the
    winner's."""
    for _ in range(2):
        with engine.begin() as connection:
            wrapped = connection.execute(select(meta.c.value).where(meta.c.key == name)).scalar()
            if wrapped is not None:
                return keys.unwrap(wrapped)
        fresh = os.urandom(KEY_BYTES)
        try:
            with engine.begin() as connection:
                connection.execute(insert(meta).values(key=name, value=keys.wrap(fresh)))
        except DuplicateKey:
            continue
        return fresh
    raise RuntimeError(f"the secret '{name}' was neither readable nor creatable")


class Sealer:
    """Seals a body as ``base64url(body | HMAC-SHA256(domain | body)[:16])`` and opens it."""

    def __init__(self, key: bytes, domain: str) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a signing key is {KEY_BYTES} bytes")
        self._mac = hmac.new(key, f"pledge/{domain}|".encode(), hashlib.sha256)

    def seal(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(body + self._sign(body)).decode("ascii").rstrip("=")

    def open(self, token: str, size: int) -> bytes | None:
        """The body of a token this sealer made with a ``size``-byte body, else None."""
        if not token.isascii() or len(token) > 4 * (size + MAC_BYTES):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            return None
        body, mac = raw[:size], raw[size:]
        if len(raw) != size + MAC_BYTES or not hmac.compare_digest(mac, self._sign(body)):
            return None
        if self.seal(body) != token:  # one spelling per token
            return None
        return body

    def _sign(self, body: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(body)
        return mac.digest()[:MAC_BYTES]
