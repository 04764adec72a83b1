"""Signed checkpoints in the C2SP ``tlog-checkpoint`` format, as ``signed-note`` Ed25519 notes.

A Merkle root alone proves nothing, since whoever rewrites the log can recompute it. A
checkpoint signed with the log's key is a statement the operator cannot take back: once one
has been handed out, any later log must be shown consistent with it. Writing it in the format
of Go's checksum database, Sigstore and Tessera means standard verifiers and witnesses read it:

    <origin>
    <tree size>
    <base64 root>

    — <key name> <base64(key hash (4 bytes) || Ed25519 signature)>

The signature covers the text above the blank line; the key hash is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || public key), 0x01 naming the Ed25519 algorithm.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pledge.errors import InputError

_ROOT_BYTES = 32
_ED25519 = b"\x01"
_DASH = "\u2014"
# signed-note key names: no spaces and no '+', non-empty; origins are printable.
_NAME = re.compile(r"[!-*,-~]+")
_ORIGIN = re.compile(r"[ -~]+")


def key_hash(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id a note signature line starts with."""
    digest = hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key.public_bytes_raw())
    return digest.digest()[:4]


def origin_for(public_key: Ed25519PublicKey) -> str:
    """A log's default origin: unique per signing key, so two stores never share a name."""
    return f"pledge.audit/{hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]}"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head: ``root`` over the first ``size`` entries of the log ``origin``."""

    origin: str
    size: int
    root: bytes
    signature: bytes = b""

    def __post_init__(self) -> None:
        if not _ORIGIN.fullmatch(self.origin) or not _NAME.fullmatch(self.origin):
            raise InputError(f"checkpoint origin must be printable with no spaces: {self.origin!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InputError(f"checkpoint size must be a non-negative integer, got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != _ROOT_BYTES:
            raise InputError(f"checkpoint root must be a {_ROOT_BYTES}-byte SHA-256 hash")

    def body(self) -> bytes:
        """The signed text: origin, size, base64 root, one line each."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    def note(self, public_key: Ed25519PublicKey) -> str:
        """The whole signed note, as published and as witnesses read it."""
        stamp = base64.b64encode(key_hash(self.origin, public_key) + self.signature).decode()
        return f"{self.body().decode()}\n{_DASH} {self.origin} {stamp}\n"


def sign_checkpoint(
    private_key: Ed25519PrivateKey, origin: str, size: int, root: bytes
) -> Checkpoint:
    unsigned = Checkpoint(origin, size, root)
    return Checkpoint(origin, size, root, private_key.sign(unsigned.body()))


def verify_checkpoint(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    """Whether ``checkpoint`` was signed by the holder of ``public_key``; a bad one is False."""
    try:
        public_key.verify(checkpoint.signature, checkpoint.body())
    except InvalidSignature:
        return False
    return True


def parse_note(text: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """Read a published checkpoint and check its signature by ``public_key``.

    Signature lines by other keys (a witness's cosignature) are allowed and ignored; the note
    must carry one by this log's key, and it must verify.
    """
    body, sep, signatures = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3:
        raise InputError("not a signed checkpoint: expected origin, size and root, then signatures")
    origin, size_text, root_text = lines[:3]
    try:
        size = int(size_text) if size_text.isdigit() else -1
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise InputError("checkpoint root is not base64") from None
    Checkpoint(origin, size, root)  # refuses a malformed origin, size or root
    wanted = key_hash(origin, public_key)
    for line in signatures.splitlines():
        dash, _, rest = line.partition(" ")
        name, _, stamp = rest.partition(" ")
        if dash != _DASH or name != origin:
            continue
        try:
            raw = base64.b64decode(stamp, validate=True)
        except binascii.Error:
            continue
        if raw[:4] != wanted:
            continue
        signed = Checkpoint(origin, size, root, raw[4:])
        if (body + "\n").encode() != signed.body() or not verify_checkpoint(public_key, signed):
            raise InputError("the checkpoint's signature does not verify under this log's key")
        return signed
    raise InputError(f"the checkpoint carries no signature by this log's key ({origin})")
