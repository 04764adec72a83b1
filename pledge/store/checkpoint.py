"""Signed checkpoints: the audit log's commitment to its own contents at one moment.

A Merkle root alone proves nothing, since whoever rewrites the log can recompute it. Signing
(size, root, time) with the log's Ed25519 key turns it into a statement the operator cannot
take back: once a checkpoint has been handed to an auditor, any later log must be shown
consistent with it, or the tampering is evident.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pledge.errors import InputError

_PAYLOAD_HEADER = "pledge-audit-checkpoint/v1"
_ROOT_BYTES = 32


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head: ``root`` over the first ``size`` entries, as of ``timestamp``.

    Fields are checked on construction so that no malformed checkpoint can be signed, and
    the payload stays unambiguous: only the timestamp is free text, and it cannot hold a
    newline.
    """

    size: int
    root: bytes
    timestamp: str
    signature: bytes

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InputError(f"checkpoint size must be a non-negative integer, got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != _ROOT_BYTES:
            raise InputError(f"checkpoint root must be a {_ROOT_BYTES}-byte SHA-256 hash")
        _check_utc_timestamp(self.timestamp)

    def signing_payload(self) -> bytes:
        """The exact bytes signed: versioned and line-based, so no two checkpoints share one."""
        text = f"{_PAYLOAD_HEADER}\n{self.size}\n{self.root.hex()}\n{self.timestamp}\n"
        return text.encode("utf-8")


def _check_utc_timestamp(timestamp: str) -> None:
    """A naive time cannot be placed on a timeline; UTC gives every checkpoint the same clock."""
    try:
        offset = datetime.fromisoformat(timestamp).utcoffset()
    except (TypeError, ValueError):
        offset = None
    if offset != timedelta(0):
        raise InputError(
            f"checkpoint timestamp must be ISO 8601 in UTC (e.g. 2024-05-01T12:00:00Z), "
            f"got {timestamp!r}"
        )


def sign_checkpoint(
    private_key: Ed25519PrivateKey, size: int, root: bytes, timestamp: str
) -> Checkpoint:
    """Commit to the log's state; the caller supplies the time so this stays deterministic."""
    unsigned = Checkpoint(size=size, root=root, timestamp=timestamp, signature=b"")
    return replace(unsigned, signature=private_key.sign(unsigned.signing_payload()))


def verify_checkpoint(public_key: Ed25519PublicKey, cp: Checkpoint) -> bool:
    """Whether ``cp`` was signed by the holder of ``public_key``; a bad signature is just False."""
    try:
        public_key.verify(cp.signature, cp.signing_payload())
    except InvalidSignature:
        return False
    return True
