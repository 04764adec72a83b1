"""Business transfers: the recorded event a successor waits for before it receives any data.

A policy may name who acquires the business (Bitrix's and Zimbra's "successor"); that
recipient gets nothing until the organisation records that the transfer happened, with a
reference to the deal. The record is the organisation's, not a person's: one row per
transfer, and an audit leaf. Every process sees a new record within ``REFRESH`` (the one that
wrote it, at once): decisions read the recorded set from the compiled policy, never the table.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select

from pledge.errors import InputError
from pledge.policy.loader import suggest
from pledge.policy.model import RecipientKind
from pledge.store.audit import Record
from pledge.store.schema import business_transfers

if TYPE_CHECKING:
    from pledge.store.vault import Vault

REFRESH = dt.timedelta(seconds=5)


def recorded(connection: Connection) -> frozenset[str]:
    """The recipients a business transfer was recorded to."""
    query = select(business_transfers.c.recipient).distinct()
    return frozenset(connection.execute(query).scalars())


def record(vault: Vault, recipient: str, reference: str, *, actor: str) -> str:
    """Record a transfer to ``recipient`` (one that waits for it); its id."""
    policy = vault.policy.policy
    spec = policy.recipients.get(recipient)
    if spec is None:
        raise InputError(
            f"the policy has no recipient '{recipient}'{suggest(recipient, policy.recipients)}",
            recipient=recipient,
        )
    if spec.after_event is None and spec.kind is not RecipientKind.successor:
        raise InputError(
            f"recipient '{recipient}' does not wait for a business transfer; only a successor "
            "(or a recipient with after_event: business_transfer) does",
            recipient=recipient,
        )
    if not reference.strip() or len(reference) > 500:
        raise InputError(
            "a business transfer needs a reference to the deal (1 to 500 characters)",
            field="reference",
        )
    transfer = os.urandom(16).hex()
    with vault.write() as connection:
        connection.execute(
            insert(business_transfers).values(
                transfer_id=transfer,
                recipient=recipient,
                reference=reference.strip(),
                actor=actor,
                recorded_at=vault.clock(),
            )
        )
        vault.record(
            connection,
            Record(
                action="business_transfer",
                actor=actor,
                detail={"transfer": transfer, "recipient": recipient},
            ),
        )
    return transfer
