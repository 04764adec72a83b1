"""Unsubscribing by email: a message to ``unsubscribe+TOKEN@domain`` (the ``mailto:`` of the
List-Unsubscribe header) withdraws the token's choice, whatever its subject or body says.

The token is read from the SMTP envelope recipients when the receiving server passes them on
(they are what the sender addressed), else from the delivery headers an MTA adds
(``Delivered-To``, ``X-Original-To``), else from ``To``/``Cc``. The From address is ignored:
anyone holding the token may use it, exactly as with the link, and the reply goes nowhere, so
nothing about the person is revealed to whoever sent it.

Wire it to whatever receives mail for the domain: an aiosmtpd handler (see the tests), a
pipe from the MTA (``pledge.mail.inbound.handle(unsubscribes, sys.stdin.buffer.read())``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email import message_from_bytes, policy
from email.utils import getaddresses

from pledge.errors import TokenInvalid
from pledge.mail.tokens import TOKEN_CHARS
from pledge.mail.unsubscribe import MAILBOX, Unsubscribed, Unsubscribes

_ADDRESS = re.compile(rf"^unsubscribe\+([a-z2-7]{{{TOKEN_CHARS}}})@", re.IGNORECASE)
_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")


def tokens_in(message: bytes, envelope_recipients: Iterable[str] = ()) -> list[str]:
    """The unsubscribe tokens a message is addressed to, envelope first, in order, once each."""
    found: dict[str, None] = {}
    for address in envelope_recipients:
        match = _ADDRESS.match(address.strip().strip("<>"))
        if match:
            found[match.group(1).lower()] = None
    if found:
        return list(found)
    parsed = message_from_bytes(message, policy=policy.compat32)
    for header in _HEADERS:
        for _, address in getaddresses(parsed.get_all(header, [])):
            match = _ADDRESS.match(address)
            if match:
                found[match.group(1).lower()] = None
        if found:
            break
    return list(found)


def handle(
    unsubscribes: Unsubscribes, message: bytes, envelope_recipients: Iterable[str] = ()
) -> list[Unsubscribed]:
    """Withdraw the choice of each valid token the message is addressed to.

    Raises TokenInvalid when it holds no token, or only invalid ones, so the receiving server
    can refuse the message and the sender learns the address does not work.
    """
    tokens = tokens_in(message, envelope_recipients)
    if not tokens:
        raise TokenInvalid(
            "this message is not addressed to an unsubscribe+TOKEN@ address", reason="no_token"
        )
    done: list[Unsubscribed] = []
    error: TokenInvalid | None = None
    for token in tokens:
        try:
            done.append(unsubscribes.apply(token, source=MAILBOX))
        except TokenInvalid as invalid:
            error = invalid
    if not done and error is not None:
        raise error
    return done
