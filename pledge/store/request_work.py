"""Due work on requests, one request at a time, and the emails the person is owed.

Expiring the unverified runs per request, each in its own transaction: one that fails records
its error on its request (``attempts``, ``last_error``) and the others go on. Each step of a
request waits in ``request_events`` until :mod:`pledge.mail.request_notices` has queued its
email; a step whose email keeps failing is counted and, after a few attempts, left alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select, update

from pledge.errors import PledgeError
from pledge.store import requests as steps
from pledge.store.requests import EXPIRED, RECEIVED
from pledge.store.schema import request_events, requests

if TYPE_CHECKING:
    from pledge.store.vault import Vault


@dataclass(frozen=True)
class Notice:
    """A step the person has not yet been emailed about."""

    request_id: str
    subject: str
    seq: int
    kind: str
    step: str
    respond_by: dt.date
    message: str | None


@dataclass(frozen=True)
class RunReport:
    expired: int
    failed: dict[str, str]  # request id -> what went wrong


# --- due work, one request at a time ---------------------------------------------------


def run_due(vault: Vault, *, actor: str = "requests") -> RunReport:
    """Expire unverified requests whose time is up. Each in its own transaction: a failure
    is recorded on its request (``attempts``, ``last_error``) and the rest go on."""
    now = vault.clock()
    with vault.snapshot() as connection:
        due = (
            connection.execute(
                select(requests.c.request_id).where(
                    requests.c.state == RECEIVED, requests.c.expires_at <= now
                )
            )
            .scalars()
            .all()
        )
    expired, failed = 0, {}
    for request_id in due:
        try:
            steps.act(
                vault,
                request_id,
                (RECEIVED,),
                lambda c, row: steps.record_step(vault, c, row, EXPIRED, actor, state=EXPIRED),
            )
            expired += 1
        except Exception as exc:  # isolated and recorded: the others go on
            failed[request_id] = _failure(exc)
            _record_failure(vault, request_id, failed[request_id])
    return RunReport(expired, failed)


def _failure(exc: BaseException) -> str:
    """What went wrong, without a personal value: a deliberate error's message names none;
    anything else is named by its class only."""
    text = exc.message if isinstance(exc, PledgeError) else type(exc).__name__
    return text[:200]


def _record_failure(vault: Vault, request_id: str, error: str) -> None:
    with vault.write() as connection:
        connection.execute(
            update(requests)
            .where(requests.c.request_id == request_id)
            .values(attempts=requests.c.attempts + 1, last_error=error)
        )


# --- the person's emails (sent by pledge.mail.request_notices) --------------------------


def unsent(vault: Vault, *, limit: int = 200, max_attempts: int = 5) -> list[Notice]:
    """Steps whose email has not been queued yet, oldest first, leaving out those that failed
    ``max_attempts`` times. A step of an erased subject comes without its message."""
    with vault.snapshot() as connection:
        rows = connection.execute(
            select(request_events, requests.c.kind, requests.c.respond_by)
            .join(
                requests,
                and_(
                    requests.c.subject_id == request_events.c.subject_id,
                    requests.c.request_id == request_events.c.request_id,
                ),
            )
            .where(
                request_events.c.notified_at.is_(None),
                request_events.c.notice_attempts < max_attempts,
            )
            .order_by(request_events.c.at, request_events.c.seq)
            .limit(limit)
        ).all()
    ciphers = vault.ciphers({r.subject_id for r in rows})
    notices = []
    for r in rows:
        cipher = ciphers.get(r.subject_id)
        message = None
        if r.message is not None and cipher is not None:
            message = cipher.decrypt(
                r.message,
                steps.sealing_aad(r.subject_id, r.request_id, r.seq),
                context=f"request {r.request_id}, step {r.seq}",
            ).decode()
        notices.append(
            Notice(r.request_id, r.subject_id, r.seq, r.kind, r.step, r.respond_by, message)
        )
    return notices


def notice_done(vault: Vault, notice: Notice, *, error: str | None = None) -> None:
    """Mark a step's email queued (or, with ``error``, one more failed attempt at it)."""
    where = and_(
        request_events.c.subject_id == notice.subject,
        request_events.c.request_id == notice.request_id,
        request_events.c.seq == notice.seq,
    )
    values: dict[str, Any] = (
        {"notified_at": vault.clock(), "notice_error": None}
        if error is None
        else {"notice_attempts": request_events.c.notice_attempts + 1, "notice_error": error[:200]}
    )
    with vault.write() as connection:
        connection.execute(update(request_events).where(where).values(**values))
