"""Opting out of a policy change: the link in the notice, and the choice it records.

A person told of a material change may refuse it: the choice ``policy:<version>`` withdrawn,
after which data they gave before that version keeps the earlier limits (see
:mod:`pledge.policy.windows`). The link in the notice names the person and the version, sealed
with a store secret like a confirmation link (:mod:`pledge.store.pending`): it cannot be forged
or moved to another person, and it expires some weeks after the notice period ends (a late
opt-out is honoured too: data then goes back to the earlier limits). Nothing is stored for a
link; using it twice records one event, because the choice is recorded only when it changes,
under the subject's lock. The privacy center calls :func:`opt_out` directly for a signed-in
person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pledge.errors import ConfirmationInvalid, InputError
from pledge.policy import version_choice
from pledge.store.signing import Sealer

if TYPE_CHECKING:
    from pledge.store.vault import Vault

KEY_NAME = "policy_opt_out_key"
LINK_OUTLIVES_WINDOW = dt.timedelta(days=60)
_VERSION = 1
_SIZE = 1 + 16 + 8 + 8


@dataclass(frozen=True)
class OptOut:
    """The outcome of an opt-out: who, from which version, and whether it was new (False: the
    person had already opted out; the ledger then records nothing more)."""

    subject: str
    version: str
    recorded: bool


def _digest(version: str) -> bytes:
    return hashlib.sha256(f"policy-version|{version}".encode()).digest()[:8]


class OptOutLinks:
    def __init__(self, key: bytes) -> None:
        self._sealer = Sealer(key, "policy-opt-out/v1")

    def token(self, subject: str, version: str, expires: dt.datetime) -> str:
        body = (
            bytes([_VERSION])
            + bytes.fromhex(subject)
            + int(expires.timestamp()).to_bytes(8, "big")
            + _digest(version)
        )
        return self._sealer.seal(body)

    def check(self, vault: Vault, token: str) -> tuple[str, str]:
        """The (subject, version) a genuine, unexpired link names."""
        body = self._sealer.open(token, _SIZE)
        if body is None or body[0] != _VERSION:
            raise ConfirmationInvalid(
                "this opt-out link is damaged or was not issued by us; copy the whole link "
                "from the message, or opt out in the privacy center",
                reason="damaged",
            )
        if int.from_bytes(body[17:25], "big") <= vault.clock().timestamp():
            raise ConfirmationInvalid(
                "this opt-out link has expired; opt out in the privacy center, or write to us",
                reason="expired",
            )
        version = next((v for v in vault.policy.windows.order if _digest(v) == body[25:33]), None)
        if version is None:
            raise ConfirmationInvalid(
                "this opt-out link names a policy version this store does not have",
                reason="damaged",
            )
        return body[1:17].hex(), version


def link_expiry(vault: Vault, version: str) -> dt.datetime:
    end = vault.policy.windows.end_of(version) or vault.clock()
    return max(end, vault.clock()) + LINK_OUTLIVES_WINDOW


def opt_out(vault: Vault, subject: str, version: str, *, source: str) -> OptOut:
    """Record that ``subject`` refuses the changes of ``version``; once, however often asked."""
    order = vault.policy.windows.order
    if version not in order or order.index(version) == 0:
        raise InputError(
            f"there is no change to opt out of in policy version '{version}'", version=version
        )
    key = version_choice(version)
    before = vault.choices(subject).withdrawn
    vault.record_choice(subject, key, False, source=source, change_only=True)
    return OptOut(subject, version, key not in before)
