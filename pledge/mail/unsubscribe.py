"""Honouring an unsubscribe token: the one place a link click, a one-click POST or an email to
the unsubscribe mailbox turns into a consent-ledger event.

The event is committed before this returns, so a page or an SMTP reply that says "done" is
never ahead of the ledger, and the next campaign (and every message still in the outbox)
already sees it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pledge.errors import NotFoundError
from pledge.mail.settings import MailSettings
from pledge.mail.tokens import KEY_NAME, Ticket, UnsubscribeTokens, offered_choices
from pledge.store.consents import STOP_ALL
from pledge.store.vault import Vault

LINK = "unsubscribe:link"
MAILBOX = "unsubscribe:mail"


@dataclass(frozen=True)
class Unsubscribed:
    """What was recorded: ``choice`` withdrawn, or (``stop_all``) every message stopped;
    ``ticket`` is what the token said."""

    subject: str
    choice: str
    stop_all: bool
    ticket: Ticket


class Unsubscribes:
    """Checks tokens and records the opt-outs they carry."""

    def __init__(self, vault: Vault, tokens: UnsubscribeTokens) -> None:
        self.vault = vault
        self.tokens = tokens

    @classmethod
    def for_vault(cls, vault: Vault, settings: MailSettings | None = None) -> Unsubscribes:
        days = (settings or MailSettings()).token_days
        key = vault.named_secret(KEY_NAME)
        return cls(vault, UnsubscribeTokens(key, offered_choices(vault.policy), valid_days=days))

    def today(self) -> dt.date:
        return self.vault.clock().date()

    def check(self, token: str) -> Ticket:
        """The ticket a token carries; TokenInvalid if it is damaged or expired."""
        return self.tokens.verify(token, self.today())

    def apply(self, token: str, *, stop_all: bool = False, source: str = LINK) -> Unsubscribed:
        """Withdraw the token's choice (or, with ``stop_all``, stop all correspondence).

        Asking twice records one event, even when the requests race: a mail provider may send
        the one-click POST again, and a scanner may fire it many times at once.
        A subject erased since the message was sent has nothing left to stop; that is a
        success too, not an error that would tell a stranger the person was erased.
        """
        ticket = self.check(token)
        choice = STOP_ALL if stop_all else ticket.choice
        try:
            if stop_all:
                self.vault.grant(ticket.subject, STOP_ALL, source=source, change_only=True)
            else:
                self.vault.withdraw(ticket.subject, choice, source=source, change_only=True)
        except NotFoundError:
            pass
        return Unsubscribed(ticket.subject, choice, stop_all, ticket)
