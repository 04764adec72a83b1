"""The outbox: messages the gate allowed, waiting for a sender worker.

A row moves ``pending -> sending -> sent | bounced | failed``, or to ``suppressed`` when the
person withdrew the choice it depends on (or was erased) after it was queued. A worker
*claims* due rows: it marks them ``sending`` with its name and a lease, counting the attempt,
in one short transaction. On PostgreSQL the claim takes ``FOR UPDATE SKIP LOCKED`` so workers
never wait for or take each other's rows; on SQLite the transaction holds the database's one
write lock, which serialises claims the same way. A claim whose lease ran out (its worker
died) is due again, so nothing claimed is ever lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Update, bindparam, func, select, update

from pledge.mail.tables import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    PENDING,
    SENDING,
    SUPPRESSED,
    mail_outbox,
)
from pledge.store.consents import STOP_ALL
from pledge.store.database import reading
from pledge.store.schema import consent_state, subjects

ERASED = "the person was erased before the message was sent"
WITHDRAWN = "the person withdrew '{}' after the message was queued"


@dataclass(frozen=True, slots=True)
class Claimed:
    subject_id: str
    campaign_id: str
    message_id: str
    sender: str
    payload: bytes
    attempts: int


def claim(
    engine: Engine, worker: str, now: dt.datetime, limit: int, lease: dt.timedelta
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
    with engine.begin() as connection:
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
            erased = r.subject_id not in active
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


def finish(
    connection: Connection,
    message: Claimed,
    worker: str,
    status: str,
    now: dt.datetime,
    error: str | None = None,
) -> bool:
    """Record a final outcome; False if the claim was no longer ours (lease lost)."""
    params = _keys([message], worker, status=status, now=now, error=error)[0]
    return connection.execute(_FINISH, params).rowcount == 1


def retry_later(
    connection: Connection,
    messages: Sequence[Claimed],
    worker: str,
    when: dt.datetime,
    error: str | None,
) -> None:
    """Put claimed messages back as pending, due at ``when``."""
    if messages:
        connection.execute(_RETRY, _keys(messages, worker, when=when, error=error))


def release(
    connection: Connection, messages: Sequence[Claimed], worker: str, now: dt.datetime
) -> None:
    """Give back claimed messages that were never tried, due now, their attempt uncounted."""
    if messages:
        connection.execute(_RELEASE, _keys(messages, worker, when=now))


def next_due(engine: Engine) -> dt.datetime | None:
    """When the earliest open message becomes due (now or later); None when none is open."""
    with reading(engine) as connection:
        pending = connection.execute(
            select(func.min(mail_outbox.c.next_attempt_at)).where(mail_outbox.c.status == PENDING)
        ).scalar()
        leased = connection.execute(
            select(func.min(mail_outbox.c.lease_until)).where(mail_outbox.c.status == SENDING)
        ).scalar()
    found = [v for v in (pending, leased) if v is not None]
    return min(found) if found else None


def counts(engine: Engine, campaign: str | None = None) -> dict[str, int]:
    """Messages per status (every status present, zero when none)."""
    query = select(mail_outbox.c.status, func.count()).group_by(mail_outbox.c.status)
    if campaign is not None:
        query = query.where(mail_outbox.c.campaign_id == campaign)
    with reading(engine) as connection:
        found: dict[str, int] = {status: n for status, n in connection.execute(query)}
    return {status: found.get(status, 0) for status in (*OPEN_STATUSES, *FINAL_STATUSES)}
