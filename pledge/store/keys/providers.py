"""Master-key providers: the one secret that protects every per-subject data key.

Personal data is encrypted under per-subject data keys (``pledge.store.crypto``); those
data keys are stored *wrapped* by a master key that never touches the database. Keeping the
master key behind this small interface is what lets it live in a local file, an environment
variable or a KMS, and be rotated by re-wrapping data keys instead of re-encrypting data.

Usage::

    provider = LocalKeyFileProvider("/var/lib/pledge/master.key", create=True)
    wrapped = provider.wrap(new_data_key())     # store ``wrapped`` next to the subject
    data_key = provider.unwrap(wrapped)         # on read

A KMS provider only needs ``key_id``, ``wrap`` and ``unwrap``; it calls the KMS's
encrypt/decrypt with the data key as the payload and never sees personal data::

    class AwsKmsProvider:
        def __init__(self, client, key_arn: str) -> None:
            self.client, self.key_id = client, key_arn

        def wrap(self, data_key: bytes) -> bytes:
            return self.client.encrypt(KeyId=self.key_id, Plaintext=data_key)["CiphertextBlob"]

        def unwrap(self, wrapped: bytes) -> bytes:
            return self.client.decrypt(KeyId=self.key_id, CiphertextBlob=wrapped)["Plaintext"]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pledge.errors import IntegrityError, MasterKeyError

MASTER_KEY_BYTES = 32
_KEY_ID_CHARS = 16
_NONCE_BYTES = 12
_TAG_BYTES = 16
_WRAP_VERSION = b"\x01"
_HEADER_BYTES = len(_WRAP_VERSION) + _KEY_ID_CHARS
_GENERATE_HINT = "python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"


class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a master key the store never sees."""

    @property
    def key_id(self) -> str:
        """A non-secret name for the master key, recorded so a mismatch can be named."""
        ...

    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` so it can be stored next to the data it protects."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes:
        """Recover a data key; raises ``MasterKeyError`` if another master key wrapped it."""
        ...


def key_fingerprint(master_key: bytes) -> str:
    """Name a key without revealing it; domain-separated so it is no hash used elsewhere."""
    return hashlib.sha256(b"pledge-key-id" + master_key).hexdigest()[:_KEY_ID_CHARS]


def rotate(old: KeyProvider, new: KeyProvider, wrapped: bytes) -> bytes:
    """Re-wrap one data key under ``new``: rotation touches keys, never the encrypted data."""
    return new.wrap(old.unwrap(wrapped))


class _AesGcmKeyProvider:
    """AES-256-GCM key wrapping shared by the providers that hold the master key in memory.

    Wrapped layout: version (1 byte) | key id (16 ASCII bytes) | nonce (12) | ciphertext+tag.
    The key id travels in the clear so a wrong master key is reported as such, by name,
    rather than as a corrupt blob; it is also the associated data, so it cannot be edited.
    """

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)
        self._key_id = key_fingerprint(master_key)

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        key_id = self._key_id.encode("ascii")
        return _WRAP_VERSION + key_id + nonce + self._aead.encrypt(nonce, data_key, key_id)

    def unwrap(self, wrapped: bytes) -> bytes:
        if wrapped[:1] != _WRAP_VERSION or len(wrapped) < _HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES:
            raise IntegrityError("a wrapped data key is truncated or has an unknown format")
        found = wrapped[1:_HEADER_BYTES].decode("ascii", errors="replace")
        if found != self._key_id:
            raise MasterKeyError(
                "the master key does not match the one this data was written with; "
                f"key id {found} expected, {self._key_id} found",
                expected_key_id=found,
                found_key_id=self._key_id,
            )
        nonce = wrapped[_HEADER_BYTES : _HEADER_BYTES + _NONCE_BYTES]
        try:
            return self._aead.decrypt(
                nonce, wrapped[_HEADER_BYTES + _NONCE_BYTES :], self._key_id.encode("ascii")
            )
        except InvalidTag:
            raise IntegrityError(
                f"a data key wrapped under master key {self._key_id} failed authentication; "
                "the stored wrapped key was altered"
            ) from None


def _decode_key(text: str, where: str, fix: str) -> bytes:
    """Parse a base64 master key; the message names the source but never echoes its content."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise MasterKeyError(
            f"{where} does not hold a base64-encoded {MASTER_KEY_BYTES}-byte key; {fix}"
        )
    return key


class EnvKeyProvider(_AesGcmKeyProvider):
    """Master key from an environment variable, for containers fed by a secret manager."""

    def __init__(self, var: str = "PLEDGE_MASTER_KEY") -> None:
        text = os.environ.get(var)
        if text is None:
            raise MasterKeyError(
                f"the environment variable {var} is not set; set it to the key the data was "
                f"written with, or for a new installation to the output of: {_GENERATE_HINT}",
                var=var,
            )
        fix = f"check its value; a valid key looks like the output of: {_GENERATE_HINT}"
        super().__init__(_decode_key(text, f"the environment variable {var}", fix))


class LocalKeyFileProvider(_AesGcmKeyProvider):
    """The embedded default: a key file created with a brand-new store and reused afterwards.

    The file is the only thing standing between a copied database and its plaintext, so one
    that other users could read is refused rather than silently trusted. A missing file is
    created only when ``create`` says the store is new: for an existing store a new key
    would open nothing, and writing one would hide the real problem (the lost file).
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise MasterKeyError(
                    f"the master key file {self.path} is missing; restore it from your backup "
                    "of the key (only a new, empty store gets a new key)",
                    path=str(self.path),
                )
            _create_key_file(self.path)
        super().__init__(_read_key_file(self.path))


def _create_key_file(path: Path) -> None:
    """Write a fresh key to a private temporary file, then link it into place.

    Linking fails if the name already exists, so when several workers start at once exactly
    one key wins and nobody can read a half-written file.
    """
    text = base64.b64encode(os.urandom(MASTER_KEY_BYTES)) + b"\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, text)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return
        _fsync_dir(path.parent)
    except OSError as exc:
        raise MasterKeyError(
            f"cannot create the master key file {path}: {exc.strerror}; "
            "check that its directory exists and is writable by this user",
            path=str(path),
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    """Make the new name durable: losing the key after data was written loses the data."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_key_file(path: Path) -> bytes:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not a text file"
        raise MasterKeyError(
            f"cannot read the master key file {path}: {reason}", path=str(path)
        ) from None
    if mode & 0o077:
        raise MasterKeyError(
            f"the master key file {path} is accessible to group or others (mode {mode:04o}); "
            f"run `chmod 600 {path}`",
            path=str(path),
        )
    fix = "restore the original file from backup (data written with it is unreadable without it)"
    return _decode_key(text, f"the master key file {path}", fix)
