"""Cookie receipts: every answer a visitor gives the website's cookie banner, on record.

An anonymous visitor has no subject id, so their answers are kept under a receipt id: 128
random bits that live in the visitor's first-party consent cookie and nowhere else. A receipt
holds what was allowed and refused, whether a browser privacy signal (Global Privacy Control,
Do Not Track) was on, the policy version and the time: nothing about the person. When the
visitor signs in, the site links the receipt to their subject, and the answer becomes events in
the subject's consent ledger (``cookies:<category>``); a privacy signal withdraws the purposes
the policy lists under ``cookie_consent.sale_or_sharing_purposes``.

The receipt id is a bearer secret, and whoever has it (a copied cookie, a shared computer) is
not proven to be the person. So an answer under a linked receipt reaches the person's ledger
only in the direction that protects them (refusals, privacy signals); what it allows waits
until the website, which knows who is signed in, relays it by linking the receipt again with
the person's subject token.

Each answer is an audit leaf (under a keyed pseudonym of the receipt id, so the log names no
browser), which makes the record of consent tamper-evident; a browser's answers are kept for
the policy's ``cookie_consent.receipt_days`` after its latest, then retention forgets them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from pledge.errors import ConflictError, InputError, NotFoundError
from pledge.policy import cookie_choice, purpose_choice
from pledge.policy.cookies import CookieRegistry, sale_or_sharing_purposes
from pledge.policy.model import DoNotTrack
from pledge.store import consents as consent_ledger
from pledge.store.audit import Record
from pledge.store.database import reading
from pledge.store.schema import cookie_choices, cookie_receipts

if TYPE_CHECKING:
    from pledge.store.vault import Vault

RECEIPT_PATTERN = r"^[0-9a-f]{32}$"
SOURCE = "cookie_banner"
_CHUNK = 500
_RECEIPT = re.compile(RECEIPT_PATTERN)


@dataclass(frozen=True)
class CookieReceipt:
    """One answer to the banner, as recorded."""

    receipt_id: str
    seq: int
    allowed: tuple[str, ...]
    refused: tuple[str, ...]
    gpc: bool
    dnt: bool
    policy_version: str
    at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> CookieReceipt:
        return cls(
            row.receipt_id,
            row.seq,
            tuple(row.allowed),
            tuple(row.refused),
            row.gpc,
            row.dnt,
            row.policy_version,
            row.at,
        )


def record(
    vault: Vault, receipt_id: str | None, chosen: list[str], *, gpc: bool, dnt: bool
) -> CookieReceipt:
    """Record one answer. A receipt id we never issued starts a new receipt with a fresh id:
    ids are only ever made here, never taken from the visitor."""
    registry = CookieRegistry.of(vault.policy.policy)
    for category in chosen:
        if category not in registry.offered:
            offered = ", ".join(sorted(registry.offered)) or "none"
            raise InputError(
                f"the banner offers no cookie category '{category}' (offered: {offered})",
                field="allowed",
            )
    if receipt_id is not None and not _RECEIPT.match(receipt_id):
        raise InputError("a receipt id is 32 lower-case hex characters", field="receipt")
    allowed = registry.allowed(frozenset(chosen), gpc=gpc, dnt=dnt)
    now = vault.clock()
    with vault.write() as connection:
        header = None
        if receipt_id is not None:
            header = connection.execute(
                select(cookie_receipts)
                .where(cookie_receipts.c.receipt_id == receipt_id)
                .with_for_update()
            ).first()
        if header is None:
            receipt_id = secrets.token_hex(16)
            connection.execute(
                insert(cookie_receipts).values(receipt_id=receipt_id, created_at=now)
            )
        assert receipt_id is not None
        last = connection.execute(
            select(func.max(cookie_choices.c.seq)).where(cookie_choices.c.receipt_id == receipt_id)
        ).scalar()
        receipt = CookieReceipt(
            receipt_id,
            0 if last is None else last + 1,
            tuple(sorted(allowed)),
            tuple(sorted(registry.offered - allowed)),
            gpc,
            dnt,
            vault.policy.version,
            now,
        )
        connection.execute(
            insert(cookie_choices).values(
                receipt_id=receipt_id,
                seq=receipt.seq,
                allowed=list(receipt.allowed),
                refused=list(receipt.refused),
                gpc=gpc,
                dnt=dnt,
                policy_version=receipt.policy_version,
                at=now,
            )
        )
        vault.record(
            connection,
            Record(
                action="cookie_answer",
                actor=SOURCE,
                detail={
                    "receipt_ref": vault.index.pseudonym(receipt_id),
                    "seq": receipt.seq,
                    "allowed": list(receipt.allowed),
                    "refused": list(receipt.refused),
                    "gpc": gpc,
                    "dnt": dnt,
                    "policy_version": receipt.policy_version,
                },
            ),
        )
        if header is not None and header.subject_id is not None:
            _to_ledger(vault, connection, header.subject_id, receipt, grants=False)
    return receipt


def expire(vault: Vault, now: dt.datetime, *, actor: str) -> int:
    """Forget the browsers whose latest answer is older than the policy keeps answers
    (``cookie_consent.receipt_days``), linked or not: a linked person's choices stay in their
    consent ledger, and a browser that answers again gets a new receipt. How many went."""
    before = now - dt.timedelta(days=vault.policy.policy.cookie_consent.receipt_days)
    recent = select(cookie_choices.c.receipt_id).where(cookie_choices.c.at >= before)
    with vault.write() as connection:
        stale = (
            connection.execute(
                select(cookie_receipts.c.receipt_id).where(
                    cookie_receipts.c.created_at < before,
                    cookie_receipts.c.receipt_id.not_in(recent),
                )
            )
            .scalars()
            .all()
        )
        for start in range(0, len(stale), _CHUNK):
            chunk = stale[start : start + _CHUNK]
            connection.execute(delete(cookie_choices).where(cookie_choices.c.receipt_id.in_(chunk)))
            connection.execute(
                delete(cookie_receipts).where(cookie_receipts.c.receipt_id.in_(chunk))
            )
        if stale:
            vault.record(
                connection,
                Record(
                    action="retention_delete",
                    actor=actor,
                    detail={"cookie_receipts": len(stale), "answered_before": before.isoformat()},
                ),
            )
    return len(stale)


def link(vault: Vault, receipt_id: str, subject: str) -> CookieReceipt | None:
    """Link a receipt to the subject who signed in, and put its latest answer in their consent
    ledger, what it allows included: the caller vouches that this is the person's browser.
    Linking again to the same subject relays the latest answer (only what changed is
    recorded); to another subject, it is refused (a receipt is one browser's, so one
    person's). Returns the latest answer."""
    if not _RECEIPT.match(receipt_id):
        raise InputError("a receipt id is 32 lower-case hex characters", field="receipt")
    with vault.write() as connection:
        # The receipt's row first, then the subject's, as record() takes them: no deadlock.
        header = connection.execute(
            select(cookie_receipts)
            .where(cookie_receipts.c.receipt_id == receipt_id)
            .with_for_update()
        ).first()
        if header is None:
            raise NotFoundError("no such cookie receipt", field="receipt")
        vault.subject_row(connection, subject, lock=True)
        if header.subject_id not in (None, subject):
            raise ConflictError(
                "this cookie receipt is already linked to another subject", field="receipt"
            )
        latest = _latest(connection, receipt_id)
        if header.subject_id is None:
            connection.execute(
                update(cookie_receipts)
                .where(cookie_receipts.c.receipt_id == receipt_id)
                .values(subject_id=subject, linked_at=vault.clock())
            )
        if latest is not None:
            _to_ledger(vault, connection, subject, latest, grants=True)
    return latest


def history(vault: Vault, receipt_id: str) -> list[CookieReceipt]:
    """Every answer recorded under a receipt, oldest first (empty for an unknown id)."""
    with reading(vault.engine) as connection:
        return [
            CookieReceipt.of(row)
            for row in connection.execute(
                select(cookie_choices)
                .where(cookie_choices.c.receipt_id == receipt_id)
                .order_by(cookie_choices.c.seq)
            )
        ]


def _latest(connection: Connection, receipt_id: str) -> CookieReceipt | None:
    row = connection.execute(
        select(cookie_choices)
        .where(cookie_choices.c.receipt_id == receipt_id)
        .order_by(cookie_choices.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else CookieReceipt.of(row)


def _to_ledger(
    vault: Vault, connection: Connection, subject: str, receipt: CookieReceipt, *, grants: bool
) -> None:
    """The answer as consent events of a linked subject, those that change something; with
    ``grants`` False, only refusals and signals (see the module docstring). An erased subject
    gets none: the visitor's answer still counts, as an anonymous receipt."""
    try:
        vault.subject_row(connection, subject, lock=True)
    except NotFoundError:
        return
    events = [(cookie_choice(c), True) for c in receipt.allowed] if grants else []
    events += [(cookie_choice(c), False) for c in receipt.refused]
    policy = vault.policy.policy
    answer = policy.cookie_consent.do_not_track
    signal = receipt.gpc or (receipt.dnt and answer is not DoNotTrack.ignored)
    if signal:
        events += [(purpose_choice(p), False) for p in sale_or_sharing_purposes(policy)]
    now = consent_ledger.current(connection, subject)  # one read, under the subject's lock
    events = [
        (choice, granted)
        for choice, granted in events
        if choice not in (now.granted if granted else now.withdrawn)
    ]
    if not events:
        return
    consent_ledger.append(
        connection, subject, events, source=SOURCE, version=receipt.policy_version, at=receipt.at
    )
    vault.record(
        connection,
        Record(
            action="consent",
            actor=SOURCE,
            subject_ref=vault.subject_ref(subject),
            detail={"choices": dict(events), "gpc": receipt.gpc, "dnt": receipt.dnt},
        ),
    )
