"""Field encryption under per-subject data keys, and keyed hashes for lookups and the audit log.

Each subject has its own data key, so erasing a subject can be done by destroying one key
(crypto-shredding) and a leaked key exposes one subject. Ciphertexts are bound to their row
by associated data, so a stolen ciphertext cannot be pasted into another subject's row and
decrypted there under that subject's identity.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pledge.errors import IntegrityError

DATA_KEY_BYTES = 32
_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_BODY_START = len(_VERSION) + _NONCE_BYTES


def new_data_key() -> bytes:
    """A fresh AES-256 key for one subject."""
    return os.urandom(DATA_KEY_BYTES)


def _require_key(key: bytes, what: str) -> None:
    """Reject short keys early: AESGCM would silently accept a 16-byte key as AES-128."""
    if len(key) != DATA_KEY_BYTES:
        raise ValueError(f"{what} must be {DATA_KEY_BYTES} bytes, got {len(key)}")


class SubjectCipher:
    """AES-256-GCM under one subject's data key, built once and reused for all its fields.

    Building the AESGCM object is the expensive part of a small encryption, and the store
    encrypts several fields per subject at a time. Nonces are random 96-bit values, safe
    for far more encryptions than one subject's key will ever see.

    Blob layout: version (1 byte) | nonce (12) | ciphertext + tag (16).
    """

    __slots__ = ("_aead",)

    def __init__(self, data_key: bytes) -> None:
        _require_key(data_key, "a data key")
        self._aead = AESGCM(data_key)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt one value; ``aad`` (e.g. ``b"42|email"``) must be given again to decrypt."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes, *, context: str) -> bytes:
        """Decrypt one value; ``context`` (e.g. ``"subject 42, field email"``) names it in errors.

        A failure means tampering, a ciphertext moved from another row, or the wrong key;
        the three cannot be told apart, and the plaintext is never exposed either way.
        """
        if blob[:1] != _VERSION or len(blob) < _BODY_START + _TAG_BYTES:
            raise IntegrityError(
                f"{context}: the ciphertext is truncated or has an unknown format",
                context=context,
            )
        try:
            return self._aead.decrypt(blob[1:_BODY_START], blob[_BODY_START:], aad)
        except InvalidTag:
            raise IntegrityError(
                f"{context}: the ciphertext failed authentication; it was altered, copied "
                "from another row, or encrypted under another data key",
                context=context,
            ) from None


class BlindIndex:
    """Keyed hashes that let the store find and name people without storing who they are.

    ``token`` supports equality lookups (by email, username...) over encrypted columns;
    ``pseudonym`` lets the audit log refer to a personal value without containing it. Each
    uses its own key derived from ``key``, so a value's token and pseudonym cannot be
    matched against each other, and without ``key`` neither can be reversed by guessing.
    """

    __slots__ = ("_index", "_pseudonym")

    def __init__(self, key: bytes) -> None:
        _require_key(key, "a blind-index key")
        self._index = hmac.new(_subkey(key, b"index"), digestmod=hashlib.sha256)
        self._pseudonym = hmac.new(_subkey(key, b"pseudonym"), digestmod=hashlib.sha256)

    def token(self, kind: str, value: str) -> str:
        """Lookup token for ``value``; variants a person would call the same value collide.

        ``kind`` is hashed in too, so the same string used as an email and as a username
        yields unrelated tokens.
        """
        kind_bytes = kind.encode()
        mac = self._index.copy()
        mac.update(b"%d:" % len(kind_bytes) + kind_bytes + normalise(kind, value).encode())
        return mac.hexdigest()

    def pseudonym(self, value: str) -> str:
        """Stable stand-in for ``value`` in the audit log; exact, so normalise beforehand."""
        mac = self._pseudonym.copy()
        mac.update(value.encode())
        return mac.hexdigest()


def _subkey(key: bytes, purpose: bytes) -> bytes:
    return hmac.digest(key, b"pledge/blind-index/v1/" + purpose, hashlib.sha256)


def normalise(kind: str, value: str) -> str:
    """Canonical form for lookups: NFC first, so composed and decomposed accents agree.

    Email addresses are lower-cased whole: providers treat the local part case-blind in
    practice and users type it inconsistently. Usernames are case-folded (``ß`` == ``ss``).
    """
    value = unicodedata.normalize("NFC", value).strip()
    if kind == "email":
        return value.lower()
    if kind == "username":
        return value.casefold()
    return value
