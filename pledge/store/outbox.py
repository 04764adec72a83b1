"""The outbox: messages the email gate allowed, waiting for a sender worker.

A row moves ``pending -> sending -> sent | bounced | failed``, or to ``suppressed`` when the
person withdrew the choice it depends on (or was erased) after it was queued.

A *farewell* is the one message that outlives its person: the answer to their request to be
erased, which they are owed once the erasure is done. It is rendered while they still exist,
sealed under a key of its own (``sealed_by``, a key-store entry that is not a subject's) and
``held``; the erasure's own transaction releases it (:func:`release_farewells`), and its key is
destroyed once it reaches a final status, so the address it carries goes the way of the rest.
A farewell whose erasure never came is swept after a day (:func:`sweep_farewells`). A worker
*claims* due rows: it marks them ``sending`` with its name and a lease, counting the attempt,
in one short transaction. On PostgreSQL the claim takes ``FOR UPDATE SKIP LOCKED`` so workers
never wait for or take each other's rows; on SQLite the transaction holds the database's one
write lock, which serialises claims the same way. A claim whose lease ran out (its worker
died) is due again, so nothing claimed is ever lost.

The gate queues a chunk of a campaign in one transaction of the store (:func:`queueing`): the
decisions, their audit leaves and the messages commit together or not at all. A message's
envelope recipient and bytes are sealed here under the subject's data key, bound to their row,
and opened here for the sender (:func:`unseal`): the outbox holds no personal value in clear.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Update, bindparam, delete, func, insert, or_, select, update

from pledge.errors import PledgeError
from pledge.store import release as read_path
from pledge.store.audit import Record
from pledge.store.consents import STOP_ALL
from pledge.store.database import reading
from pledge.store.release import Actorish, Grant, Recorder
from pledge.store.schema import consent_state, mail_outbox, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault

HELD = "held"  # a farewell waiting for its erasure
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
BOUNCED = "bounced"
FAILED = "failed"
SUPPRESSED = "suppressed"
OPEN_STATUSES = (PENDING, SENDING)
FINAL_STATUSES = (SENT, BOUNCED, FAILED, SUPPRESSED)
HELD_FOR_AT_MOST = dt.timedelta(days=1)

ERASED = "the person was erased before the message was sent"
WITHDRAWN = "the person withdrew '{}' after the message was queued"


def payload_aad(subject: str, campaign: str) -> bytes:
    """Binds an outbox payload to its row: it cannot be moved to another person's message."""
    return f"outbox|{subject}|{campaign}".encode()


# --- queuing (the gate) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A rendered message for one person, to be sealed under their key and queued."""

    grant: Grant  # the decision that allowed it; its cipher seals the payload
    message_id: str
    sender: str  # envelope MAIL FROM
    recipient: str  # envelope RCPT TO
    data: bytes  # the RFC 5322 message
    stop_keys: Sequence[str]


class Queueing:
    """One chunk of a campaign, inside one transaction of the store (see :func:`queueing`)."""

    def __init__(
        self,
        vault: Vault,
        connection: Connection,
        campaign: str,
        communication: str,
        *,
        farewell: bool = False,
    ) -> None:
        self.vault = vault
        self._connection = connection
        self.campaign = campaign
        self.communication = communication
        self.farewell = farewell
        self._rows: list[dict[str, object]] = []

    def already_queued(self, subject_ids: Sequence[str]) -> set[str]:
        """Who of ``subject_ids`` this campaign has queued a message for already."""
        return set(
            self._connection.execute(
                select(mail_outbox.c.subject_id).where(
                    mail_outbox.c.campaign_id == self.campaign,
                    mail_outbox.c.subject_id.in_(list(subject_ids)),
                )
            ).scalars()
        )

    def sent_since(self, subject_ids: Sequence[str], start: dt.datetime) -> dict[str, int]:
        """Messages of this communication type queued for each person after ``start``."""
        if not subject_ids:
            return {}
        rows = self._connection.execute(
            select(mail_outbox.c.subject_id, func.count())
            .where(
                mail_outbox.c.subject_id.in_(list(subject_ids)),
                mail_outbox.c.communication == self.communication,
                mail_outbox.c.queued_at > start,
            )
            .group_by(mail_outbox.c.subject_id)
        )
        return {subject: count for subject, count in rows}

    def judge(
        self, subject_ids: Sequence[str], actor: Actorish, purpose: str, categories: Iterable[str]
    ) -> dict[str, Grant | PledgeError]:
        """The decisions, recording nothing (a dry run)."""
        return read_path.judge(
            self.vault, self._connection, subject_ids, actor, purpose, categories
        )

    def decide(
        self,
        subject_ids: Sequence[str],
        actor: Actorish,
        purpose: str,
        categories: Iterable[str],
        *,
        record: Recorder,
        lock: bool,
    ) -> None:
        """Decide and queue each person's audit leaf (built by ``record``) in this chunk's
        transaction; ``lock`` holds the people's rows until it commits."""
        read_path.within(
            self.vault,
            self._connection,
            subject_ids,
            actor,
            purpose,
            categories,
            record=record,
            lock=lock,
        )

    def record(self, *records: Record) -> None:
        """Audit leaves of this chunk that no decision made (a refused rendering)."""
        self.vault.record(self._connection, *records)

    def add(self, message: Message, now: dt.datetime) -> None:
        """Seal ``message`` under its person's key (a farewell: under a new key of its own,
        held); it is queued when the chunk commits."""
        subject = message.grant.subject
        sealed_by = secrets.token_hex(16) if self.farewell else None
        cipher = (
            message.grant.cipher(self.vault)
            if sealed_by is None
            else self.vault.new_keys([sealed_by])[sealed_by]
        )
        payload = cipher.encrypt(
            message.recipient.encode() + b"\n" + message.data,
            payload_aad(sealed_by or subject, self.campaign),
        )
        self._rows.append(
            {
                "subject_id": subject,
                "campaign_id": self.campaign,
                "communication": self.communication,
                "message_id": message.message_id,
                "sender": message.sender,
                "payload": payload,
                "sealed_by": sealed_by,
                "stop_keys": list(message.stop_keys),
                "status": HELD if sealed_by else PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "queued_at": now,
            }
        )

    def _flush(self) -> None:
        if self._rows:
            self._connection.execute(insert(mail_outbox), self._rows)


@contextmanager
def queueing(
    vault: Vault, campaign: str, communication: str, *, dry_run: bool, farewell: bool = False
) -> Iterator[Queueing]:
    """A chunk of ``campaign``: its decisions, leaves and messages commit together on exit,
    or (on any error) none of them. A ``dry_run`` chunk only reads."""
    if dry_run:
        with vault.snapshot() as connection:
            yield Queueing(vault, connection, campaign, communication)
        return
    with vault.write() as connection:
        chunk = Queueing(vault, connection, campaign, communication, farewell=farewell)
        yield chunk
        chunk._flush()


# --- claiming and delivering (the sender) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    subject_id: str
    campaign_id: str
    message_id: str
    sender: str
    payload: bytes
    attempts: int
    sealed_by: str | None = None  # a farewell's own key


def unseal(vault: Vault, message: Claimed) -> tuple[str, bytes] | None:
    """The envelope recipient and bytes of a claimed message; None once its key is destroyed
    (the person was erased after the claim; a farewell already finished)."""
    key_id = message.sealed_by or message.subject_id
    cipher = vault.ciphers([key_id]).get(key_id)
    if cipher is None:
        return None
    plain = cipher.decrypt(
        message.payload,
        payload_aad(key_id, message.campaign_id),
        context=f"outbox message {message.message_id}",
    )
    recipient, _, data = plain.partition(b"\n")
    return recipient.decode(), data


def claim(
    vault: Vault, worker: str, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[Claimed]:
    """Claim up to ``limit`` due messages for ``worker``. Messages whose person has since
    opted out or been erased are marked ``suppressed`` on the way, not returned."""
    columns = (
        mail_outbox.c.subject_id,
        mail_outbox.c.campaign_id,
        mail_outbox.c.message_id,
        mail_outbox.c.sender,
        mail_outbox.c.payload,
        mail_outbox.c.stop_keys,
        mail_outbox.c.attempts,
        mail_outbox.c.sealed_by,
    )
    # Two queries, not one with OR: each walks the (status, ...) index in order, where an OR
    # makes SQLite collect and sort every due row on each claim.
    abandoned = (
        select(*columns)
        .where(mail_outbox.c.status == SENDING, mail_outbox.c.lease_until <= now)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    pending = (
        select(*columns)
        .where(mail_outbox.c.status == PENDING, mail_outbox.c.next_attempt_at <= now)
        .order_by(mail_outbox.c.next_attempt_at)
        .with_for_update(skip_locked=True)
    )
    with vault.engine.begin() as connection:
        rows = list(connection.execute(abandoned))
        if len(rows) < limit:
            rows += connection.execute(pending.limit(limit - len(rows)))
        if not rows:
            return []
        ids = list({r.subject_id for r in rows})
        active = set(
            connection.execute(
                select(subjects.c.subject_id).where(
                    subjects.c.subject_id.in_(ids), subjects.c.status != "erased"
                )
            ).scalars()
        )
        stopped = _stopped(connection, ids, {k for r in rows for k in r.stop_keys})
        claimed: list[Claimed] = []
        suppressed: list[dict[str, object]] = []
        for r in rows:
            erased = r.subject_id not in active and r.sealed_by is None  # farewells outlive
            blocking = next((k for k in r.stop_keys if k in stopped.get(r.subject_id, ())), None)
            if erased or blocking is not None:
                reason = ERASED if erased else WITHDRAWN.format(blocking)
                suppressed.append(
                    {"s": r.subject_id, "c": r.campaign_id, "error": reason, "now": now}
                )
                continue
            claimed.append(
                Claimed(
                    r.subject_id,
                    r.campaign_id,
                    r.message_id,
                    r.sender,
                    r.payload,
                    r.attempts + 1,
                    r.sealed_by,
                )
            )
        if suppressed:
            connection.execute(
                _by_key().values(
                    status=SUPPRESSED,
                    last_error=bindparam("error"),
                    finished_at=bindparam("now"),
                    claimed_by=None,
                    lease_until=None,
                ),
                suppressed,
            )
        if claimed:
            connection.execute(
                _by_key().values(
                    status=SENDING,
                    claimed_by=worker,
                    lease_until=now + lease,
                    attempts=mail_outbox.c.attempts + 1,
                ),
                [{"s": c.subject_id, "c": c.campaign_id} for c in claimed],
            )
    return claimed


def _stopped(connection: Connection, ids: list[str], keys: set[str]) -> dict[str, set[str]]:
    """Per subject, which of ``keys`` now stop a message: withdrawn, or stop:all granted."""
    if not keys:
        return {}
    found: dict[str, set[str]] = {}
    for subject, choice, granted in connection.execute(
        select(consent_state.c.subject_id, consent_state.c.choice, consent_state.c.granted).where(
            consent_state.c.subject_id.in_(ids), consent_state.c.choice.in_(list(keys))
        )
    ):
        if granted == (choice == STOP_ALL):
            found.setdefault(subject, set()).add(choice)
    return found


def _by_key() -> Update:
    return update(mail_outbox).where(
        mail_outbox.c.subject_id == bindparam("s"), mail_outbox.c.campaign_id == bindparam("c")
    )


def _claimed_by_worker() -> Update:
    """An update of one message, only while ``worker`` still holds its claim."""
    return _by_key().where(
        mail_outbox.c.claimed_by == bindparam("worker"), mail_outbox.c.status == SENDING
    )


# Built once: the worker runs these once per message.
_FINISH = _claimed_by_worker().values(
    status=bindparam("status"),
    finished_at=bindparam("now"),
    last_error=bindparam("error"),
    lease_until=None,
)
_RETRY = _claimed_by_worker().values(
    status=PENDING,
    next_attempt_at=bindparam("when"),
    claimed_by=None,
    lease_until=None,
    last_error=bindparam("error"),
)
_RELEASE = _claimed_by_worker().values(
    status=PENDING,
    next_attempt_at=bindparam("when"),
    claimed_by=None,
    lease_until=None,
    attempts=mail_outbox.c.attempts - 1,
)


def _keys(messages: Sequence[Claimed], worker: str, **values: object) -> list[dict[str, object]]:
    return [{"s": m.subject_id, "c": m.campaign_id, "worker": worker, **values} for m in messages]


class Outcomes:
    """Records outcomes for all of a worker's lanes, one commit at a time (see
    :func:`outcomes`).

    SQLite has one writer at a time, and a writer that finds the database busy sleeps a
    millisecond or more before it tries again; lanes that queue on a lock here instead take
    their turn as soon as it comes. One connection serves them all, and claims take the same
    lock.
    """

    def __init__(self, vault: Vault, connection: Connection) -> None:
        self.vault = vault
        self._connection = connection
        self._lock = threading.Lock()

    def claim(
        self, worker: str, now: dt.datetime, limit: int, lease: dt.timedelta
    ) -> list[Claimed]:
        """:func:`claim`, in turn with the lanes' outcomes."""
        with self._lock:
            return claim(self.vault, worker, now, limit, lease)

    def finish(
        self,
        message: Claimed,
        worker: str,
        status: str,
        now: dt.datetime,
        error: str | None = None,
    ) -> bool:
        """Record a final outcome; False if the claim was no longer ours (lease lost)."""
        params = _keys([message], worker, status=status, now=now, error=error)[0]
        with self._lock, self._connection.begin():
            ours = self._connection.execute(_FINISH, params).rowcount == 1
        if ours and message.sealed_by is not None:
            self.vault.key_store.destroy([message.sealed_by])  # the farewell said, and gone
        return ours

    def retry_later(
        self, messages: Sequence[Claimed], worker: str, when: dt.datetime, error: str | None
    ) -> None:
        """Put claimed messages back as pending, due at ``when``."""
        if messages:
            with self._lock, self._connection.begin():
                self._connection.execute(_RETRY, _keys(messages, worker, when=when, error=error))

    def release(self, messages: Sequence[Claimed], worker: str, now: dt.datetime) -> None:
        """Give back claimed messages that were never tried, due now, their attempt
        uncounted."""
        if messages:
            with self._lock, self._connection.begin():
                self._connection.execute(_RELEASE, _keys(messages, worker, when=now))


@contextmanager
def outcomes(vault: Vault) -> Iterator[Outcomes]:
    """The recorder of outcomes, on a connection whose commits do not wait for the disk
    (SQLite ``synchronous=NORMAL`` in WAL mode, PostgreSQL ``synchronous_commit=off``): a
    killed worker loses none of them, and a crash of the machine at most the last few, whose
    messages are then sent again (see :mod:`pledge.mail.sender`)."""
    with vault.engine.connect() as connection:
        _wait_for_disk(connection, False)
        try:
            yield Outcomes(vault, connection)
        finally:
            if connection.in_transaction():
                connection.rollback()
            _wait_for_disk(connection, True)


def _wait_for_disk(connection: Connection, wait: bool) -> None:
    """Whether this connection's commits wait until they are on disk (the default)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA synchronous={'FULL' if wait else 'NORMAL'}")
    elif dialect == "postgresql":
        connection.exec_driver_sql(
            "RESET synchronous_commit" if wait else "SET synchronous_commit TO OFF"
        )
        connection.commit()


def next_due(vault: Vault) -> dt.datetime | None:
    """When the earliest open message becomes due (now or later); None when none is open."""
    with reading(vault.engine) as connection:
        pending = connection.execute(
            select(func.min(mail_outbox.c.next_attempt_at)).where(mail_outbox.c.status == PENDING)
        ).scalar()
        leased = connection.execute(
            select(func.min(mail_outbox.c.lease_until)).where(mail_outbox.c.status == SENDING)
        ).scalar()
    found = [v for v in (pending, leased) if v is not None]
    return min(found) if found else None


def counts(vault: Vault, campaign: str | None = None) -> dict[str, int]:
    """Messages per status (every status present, zero when none; ``held``: farewells
    waiting for their erasure)."""
    query = select(mail_outbox.c.status, func.count()).group_by(mail_outbox.c.status)
    if campaign is not None:
        query = query.where(mail_outbox.c.campaign_id == campaign)
    with reading(vault.engine) as connection:
        found: dict[str, int] = {status: n for status, n in connection.execute(query)}
    return {status: found.get(status, 0) for status in (*OPEN_STATUSES, *FINAL_STATUSES, HELD)}


# --- farewells -----------------------------------------------------------------------------


def release_farewells(connection: Connection, subject: str) -> int:
    """Make the subject's held farewells due, in the erasure's own transaction; how many."""
    return connection.execute(
        update(mail_outbox)
        .where(
            mail_outbox.c.subject_id == subject,
            mail_outbox.c.status == HELD,
            mail_outbox.c.sealed_by.is_not(None),
        )
        .values(status=PENDING)
    ).rowcount


def sweep_farewells(vault: Vault, now: dt.datetime) -> int:
    """Destroy the keys of farewells that are over (a final status, or held for longer than
    :data:`HELD_FOR_AT_MOST` by an erasure that never came) and drop the held ones; how many
    keys went. A finished farewell's key is destroyed when it finishes: this catches a worker
    that died in between, and suppressions."""
    with vault.write() as connection:
        rows = connection.execute(
            select(mail_outbox.c.subject_id, mail_outbox.c.campaign_id, mail_outbox.c.sealed_by)
            .where(mail_outbox.c.sealed_by.is_not(None))
            .where(
                or_(
                    mail_outbox.c.status.in_(FINAL_STATUSES),
                    (mail_outbox.c.status == HELD)
                    & (mail_outbox.c.queued_at < now - HELD_FOR_AT_MOST),
                )
            )
        ).all()
        live = vault.key_store.get([r.sealed_by for r in rows])
        if live:
            vault.key_store.destroy(live)
        stale = [{"s": r.subject_id, "c": r.campaign_id} for r in rows]
        if stale:
            connection.execute(
                delete(mail_outbox).where(
                    mail_outbox.c.subject_id == bindparam("s"),
                    mail_outbox.c.campaign_id == bindparam("c"),
                    mail_outbox.c.status == HELD,
                ),
                stale,
            )
    return len(live)
