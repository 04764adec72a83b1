"""Unsubscribe tokens: proof that we sent this person a message they may opt out of.

A token carries the subject id, the choice to withdraw and the day it was issued, signed with
HMAC-SHA256 under a key kept in the store's ``meta`` table, wrapped by the master key like the
store's other secrets. Nothing else is needed to honour it: no session, no login, no lookup of
an address, so the link works from any mail client and the URL holds no personal data.

The token must fit the local part of ``unsubscribe+TOKEN@domain``, which RFC 5321 limits to
64 characters, and survive mail systems that change the case of addresses. So it is 32 bytes
in lower-case base32 (52 characters):

    version (1) | subject id (16) | issue day (2) | choice tag (3) | HMAC-SHA256, first 10 bytes

The choice is named by a 3-byte hash of its key and looked up among the choices the policy
(and its earlier versions) offer. The MAC is 80 bits: forging one means guessing it online,
one request per try.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from pledge.errors import TokenInvalid
from pledge.policy import CompiledPolicy

KEY_NAME = "mail_unsubscribe_key"  # the store secret tokens are signed with
_VERSION = 1
_EPOCH = dt.date(2020, 1, 1)
_SUBJECT_BYTES = 16
_TAG_BYTES = 3
_MAC_BYTES = 10
_BODY_BYTES = 1 + _SUBJECT_BYTES + 2 + _TAG_BYTES
TOKEN_BYTES = _BODY_BYTES + _MAC_BYTES
TOKEN_CHARS = 52
_DOMAIN = b"pledge/unsubscribe/v1|"
CHANNELS = ("email", "sms", "phone", "post")


def offered_choices(policy: CompiledPolicy) -> list[str]:
    """Every choice a token may name: each purpose of this policy and the versions before
    it (a link outlives a policy change), each channel, and "stop everything"."""
    purposes: dict[str, None] = {}
    for compiled in (policy, *policy.history.values()):
        purposes.update(dict.fromkeys(compiled.policy.purposes))
    return [*(f"purpose:{p}" for p in purposes), *(f"channel:{c}" for c in CHANNELS), "stop:all"]


@dataclass(frozen=True)
class Ticket:
    """What a valid token says."""

    subject: str
    choice: str
    issued: dt.date
    expires: dt.date


class UnsubscribeTokens:
    """Issues and checks tokens. ``valid_days`` counts from the issue day, inclusive."""

    def __init__(self, key: bytes, choices: Iterable[str], *, valid_days: int) -> None:
        if len(key) != 32:
            raise ValueError("the unsubscribe key must be 32 bytes")
        self._mac = hmac.new(key, _DOMAIN, hashlib.sha256)
        self._by_tag: dict[bytes, list[str]] = {}
        for choice in dict.fromkeys(choices):
            self._by_tag.setdefault(_tag(choice), []).append(choice)
        self.valid_days = valid_days

    def issue(self, subject: str, choice: str, day: dt.date) -> str:
        try:
            subject_bytes = bytes.fromhex(subject)
        except ValueError:
            subject_bytes = b""
        if len(subject_bytes) != _SUBJECT_BYTES:
            raise ValueError(
                f"subject id '{subject}' is not 32 hex digits, as the store makes them"
            )
        if choice not in self._by_tag.get(_tag(choice), ()):
            raise ValueError(f"'{choice}' is not a choice the policy offers")
        body = (
            bytes([_VERSION])
            + subject_bytes
            + (day - _EPOCH).days.to_bytes(2, "big")
            + _tag(choice)
        )
        return _encode(body + self._sign(body))

    def verify(self, token: str, today: dt.date) -> Ticket:
        """The ticket in ``token``, or TokenInvalid saying (without detail an attacker could
        use) whether it is damaged or expired."""
        raw = _decode(token)
        body, mac = raw[:_BODY_BYTES], raw[_BODY_BYTES:]
        if raw[0] != _VERSION or not hmac.compare_digest(mac, self._sign(body)):
            raise _damaged()
        issued = _EPOCH + dt.timedelta(days=int.from_bytes(body[17:19], "big"))
        expires = issued + dt.timedelta(days=self.valid_days)
        if issued > today + dt.timedelta(days=1):
            raise _damaged()
        if today > expires:
            raise TokenInvalid(
                f"this unsubscribe link expired on {expires.isoformat()}; use the link in a "
                "more recent message, or write to the privacy contact",
                reason="expired",
            )
        candidates = self._by_tag.get(body[19:_BODY_BYTES], [])
        if len(candidates) != 1:
            raise TokenInvalid(
                "this unsubscribe link names a choice the policy no longer offers; write to "
                "the privacy contact to opt out",
                reason="unknown_choice",
            )
        return Ticket(body[1:17].hex(), candidates[0], issued, expires)

    def _sign(self, body: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(body)
        return mac.digest()[:_MAC_BYTES]


def _tag(choice: str) -> bytes:
    return hashlib.sha256(b"pledge/choice|" + choice.encode()).digest()[:_TAG_BYTES]


def _decode(token: str) -> bytes:
    if len(token) != TOKEN_CHARS or not token.isascii():
        raise _damaged()
    try:
        raw = base64.b32decode(token.upper() + "====")
    except (binascii.Error, ValueError):
        raise _damaged() from None
    # The last character carries one bit and four padding bits: only the canonical spelling
    # is accepted, so no two strings are the same token.
    if len(raw) != TOKEN_BYTES or _encode(raw) != token.lower():
        raise _damaged()
    return raw


def _encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _damaged() -> TokenInvalid:
    return TokenInvalid(
        "this unsubscribe link is damaged or was not issued by us; copy the whole link from "
        "the message, or write to the privacy contact",
        reason="damaged",
    )
