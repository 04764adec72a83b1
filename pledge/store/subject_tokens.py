"""Subject tokens: the website's proof that a submission comes from the person it names.

When a person signs in, the website's backend (a collector key) asks for a token for that
person's subject id; it then sends the token with each write into that subject. A token says
who (the subject), for whom (the audience: the collector key it was minted for, so a token
leaked from one website opens nothing through another key) and until when (minutes, not
days). It is sealed with a store secret (see :mod:`pledge.store.signing`); nothing about it
is stored, so checking one costs one HMAC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pledge.errors import ProofRequired
from pledge.store.signing import Sealer

KEY_NAME = "subject_token_key"
MAX_TTL = dt.timedelta(hours=1)
DEFAULT_TTL = dt.timedelta(minutes=15)
_VERSION = 1
_SIZE = 1 + 16 + 8 + 8


@dataclass(frozen=True)
class SubjectToken:
    token: str
    subject: str
    audience: str
    expires: dt.datetime


class SubjectTokens:
    def __init__(self, key: bytes) -> None:
        self._sealer = Sealer(key, "subject-token/v1")

    def issue(
        self, subject: str, audience: str, now: dt.datetime, ttl: dt.timedelta
    ) -> SubjectToken:
        if not dt.timedelta(seconds=1) <= ttl <= MAX_TTL:
            raise ValueError(f"a subject token lives between 1 s and {MAX_TTL}")
        expires = (now + ttl).replace(microsecond=0)
        body = (
            bytes([_VERSION])
            + bytes.fromhex(subject)
            + int(expires.timestamp()).to_bytes(8, "big")
            + bytes.fromhex(audience)
        )
        return SubjectToken(self._sealer.seal(body), subject, audience, expires)

    def check(self, token: str | None, subject: str, audience: str, now: dt.datetime) -> None:
        """Pass if ``token`` proves ``subject`` to ``audience`` at ``now``; else ProofRequired
        (one message for every failure: an attacker learns nothing about which part failed)."""
        body = self._sealer.open(token, _SIZE) if token else None
        if (
            body is None
            or body[0] != _VERSION
            or body[1:17].hex() != subject
            or body[25:33].hex() != audience
            or int.from_bytes(body[17:25], "big") <= now.timestamp()
        ):
            raise ProofRequired(
                "writing into an existing subject needs a valid subject token for that subject, "
                "minted for this key in the last minutes (POST /v1/subject-tokens when the "
                "person signs in)",
                subject=subject,
            )
