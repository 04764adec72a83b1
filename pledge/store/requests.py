"""Data-subject requests: what a person asked for, where it stands, and by when it is due.

Every access, export, correction, erasure, objection, complaint and inquiry is a request that
moves ``received -> verified -> in_progress -> done`` or ends ``refused`` (with a reason) or
``expired`` (its identity never verified in time, so it leaves the queue). Each step is a row
of ``request_events`` and an audit leaf, written in one transaction with the state change;
the person hears of each step by email (:mod:`pledge.mail.request_notices` sends what
:func:`pledge.store.request_work.unsent` lists). Deadlines come from the pure core
(:mod:`pledge.policy.deadlines`).

What can be done at once (an export, a correction, a change of choices) is done, then
recorded as a request already answered. Due work (expiring the unverified) runs per request
(:mod:`pledge.store.request_work`).

Free text (the complaint, a refusal's reason, an answer) is sealed under the subject's data
key: it is theirs, and an erasure shreds it with the rest. The audit log names only the step,
the kind and the request id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update

from pledge.errors import ConflictError, InputError, NotFoundError
from pledge.policy.deadlines import Deadlines, Urgency, deadlines, extension_refusal, urgency
from pledge.store import outbox, rights
from pledge.store.audit import Record
from pledge.store.schema import request_events, requests

if TYPE_CHECKING:
    from pledge.store.vault import Vault

KINDS = ("access", "export", "rectify", "erase", "object", "choices", "complaint", "inquiry")
AT_ONCE = ("export", "rectify", "choices")
RECEIVED, VERIFIED, IN_PROGRESS = "received", "verified", "in_progress"
DONE, REFUSED, EXPIRED, EXTENDED = "done", "refused", "expired", "extended"
OPEN = (RECEIVED, VERIFIED, IN_PROGRESS)
ANSWERABLE = (VERIFIED, IN_PROGRESS)  # extended or answered only once the person is known
VERIFY_WITHIN = dt.timedelta(days=14)
MAX_TEXT = 4000
REQUEST_ID_LENGTH = 32


@dataclass(frozen=True)
class Step:
    seq: int
    step: str
    actor: str
    at: dt.datetime
    message: str | None  # None when there is none, or the subject's key is gone


@dataclass(frozen=True)
class Request:
    request_id: str
    subject: str
    kind: str
    state: str
    received_at: dt.datetime
    acknowledge_by: dt.date
    respond_by: dt.date
    extended: bool
    expires_at: dt.datetime | None
    closed_at: dt.datetime | None
    law: str | None
    last_error: str | None
    urgency: Urgency | None  # None once closed
    steps: tuple[Step, ...] = ()

    @property
    def open(self) -> bool:
        return self.state in OPEN


# --- helpers ---------------------------------------------------------------------------


def _new_id() -> str:
    return secrets.token_hex(REQUEST_ID_LENGTH // 2)


def sealing_aad(subject: str, request_id: str, seq: int) -> bytes:
    return f"request|{subject}|{request_id}|{seq}".encode()


def _text(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    clean = text.strip()
    if not clean:
        raise InputError(f"{what} is empty; write a few words", field=what)
    if len(clean) > MAX_TEXT:
        raise InputError(f"{what} is longer than {MAX_TEXT} characters", field=what)
    return clean


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(
            f"unknown kind of request '{kind}'; use one of {', '.join(KINDS)}", kind=kind
        )


def _terms(vault: Vault, received: dt.datetime) -> Deadlines:
    return deadlines(vault.policy.policy.rights, received.date())


def _row(connection: Connection, request_id: str, *, lock: bool = False) -> Any:
    query = select(requests).where(requests.c.request_id == request_id)
    row = connection.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"no request '{request_id}'", request=request_id)
    return row


def _view(row: Any, today: dt.date, steps: Sequence[Step] = ()) -> Request:
    due = row.respond_by
    return Request(
        row.request_id,
        row.subject_id,
        row.kind,
        row.state,
        row.received_at,
        row.acknowledge_by,
        due,
        row.extended,
        row.expires_at,
        row.closed_at,
        row.law,
        row.last_error,
        urgency(due, today) if row.state in OPEN else None,
        tuple(steps),
    )


def record_step(
    vault: Vault,
    connection: Connection,
    row: Any,
    step: str,
    actor: str,
    *,
    message: str | None = None,
    state: str | None = None,
    values: dict[str, Any] | None = None,
    told: bool = False,
) -> None:
    """Record one step: the event, the new state, and its audit leaf, in ``connection``.
    ``told``: the person's email about it is queued already (an erasure's farewell)."""
    subject, request_id = row.subject_id, row.request_id
    now = vault.clock()
    seq = (
        connection.execute(
            select(func.max(request_events.c.seq)).where(
                request_events.c.subject_id == subject, request_events.c.request_id == request_id
            )
        ).scalar()
        or 0
    ) + 1
    sealed = None
    if message is not None:
        cipher = vault.ciphers([subject]).get(subject)
        if cipher is None:
            raise NotFoundError(f"subject '{subject}' was erased", subject=subject)
        sealed = cipher.encrypt(message.encode(), sealing_aad(subject, request_id, seq))
    connection.execute(
        insert(request_events).values(
            subject_id=subject,
            request_id=request_id,
            seq=seq,
            step=step,
            actor=actor,
            at=now,
            message=sealed,
            notice_attempts=0,
            notified_at=now if told else None,
        )
    )
    changes = dict(values or {})
    if state is not None:
        changes["state"] = state
        if state not in OPEN:
            changes["closed_at"] = now
    if changes:
        connection.execute(
            update(requests)
            .where(requests.c.subject_id == subject, requests.c.request_id == request_id)
            .values(**changes)
        )
    vault.record(
        connection,
        Record(
            action="request",
            actor=actor,
            subject_ref=vault.subject_ref(subject),
            detail={"request": request_id, "kind": row.kind, "step": step},
        ),
    )


def _verified(vault: Vault, connection: Connection, row: Any, actor: str) -> None:
    record_step(
        vault, connection, row, VERIFIED, actor, state=VERIFIED, values={"expires_at": None}
    )


def _insert(
    vault: Vault,
    connection: Connection,
    subject: str,
    kind: str,
    *,
    expires: dt.datetime | None,
) -> Any:
    now = vault.clock()
    terms = _terms(vault, now)
    request_id = _new_id()
    rights = vault.policy.policy.rights
    connection.execute(
        insert(requests).values(
            subject_id=subject,
            request_id=request_id,
            kind=kind,
            state=RECEIVED,
            received_at=now,
            acknowledge_by=terms.acknowledge_by,
            respond_by=terms.respond_by,
            extended=False,
            expires_at=expires,
            law=rights.law.value if rights.law else None,
            policy_version=vault.policy.version,
            attempts=0,
        )
    )
    return _row(connection, request_id)


# --- the person's side -----------------------------------------------------------------


def open_request(
    vault: Vault,
    subject: str,
    kind: str,
    text: str | None = None,
    *,
    actor: str = "subject",
    verified: bool = True,
    verify_within: dt.timedelta = VERIFY_WITHIN,
) -> Request:
    """Receive a request. ``verified``: the person proved who they are (signed in); else
    the request waits for :func:`verify` and expires after ``verify_within``."""
    _check_kind(kind)
    message = _text(text, "the request's text")
    with vault.write() as connection:
        vault.subject_row(connection, subject, lock=True)
        expires = None if verified else vault.clock() + verify_within
        row = _insert(vault, connection, subject, kind, expires=expires)
        record_step(vault, connection, row, RECEIVED, actor, message=message)
        if verified:
            _verified(vault, connection, row, actor)
        return _view(_row(connection, row.request_id), vault.clock().date())


def fulfilled(vault: Vault, subject: str, kind: str, *, actor: str) -> Request:
    """Record a request done at once (an export, a correction, a change of choices): the
    person was signed in, so it was received, verified and answered together."""
    if kind not in AT_ONCE:
        raise InputError(f"a request to {kind} is not answered at once", kind=kind)
    with vault.write() as connection:
        vault.subject_row(connection, subject, lock=True)
        row = _insert(vault, connection, subject, kind, expires=None)
        record_step(vault, connection, row, RECEIVED, actor)
        record_step(vault, connection, row, VERIFIED, actor, state=VERIFIED)
        record_step(vault, connection, row, DONE, actor, state=DONE)
        return _view(_row(connection, row.request_id), vault.clock().date())


def of_subject(vault: Vault, subject: str) -> list[Request]:
    """The subject's requests, newest first, with their steps (what the person may read)."""
    with vault.snapshot() as connection:
        vault.subject_row(connection, subject)
        rows = connection.execute(
            select(requests)
            .where(requests.c.subject_id == subject)
            .order_by(requests.c.received_at.desc())
        ).all()
        steps = _steps(vault, connection, subject, [r.request_id for r in rows])
    today = vault.clock().date()
    return [_view(r, today, steps.get(r.request_id, [])) for r in rows]


def verify_waiting(vault: Vault, subject: str, *, actor: str = "subject") -> int:
    """The person proved who they are (they signed in): their waiting requests are verified."""
    with vault.write() as connection:
        vault.subject_row(connection, subject, lock=True)
        rows = connection.execute(
            select(requests).where(requests.c.subject_id == subject, requests.c.state == RECEIVED)
        ).all()
        for row in rows:
            _verified(vault, connection, row, actor)
    return len(rows)


def _steps(
    vault: Vault, connection: Connection, subject: str, request_ids: Sequence[str]
) -> dict[str, list[Step]]:
    if not request_ids:
        return {}
    events = connection.execute(
        select(request_events)
        .where(
            request_events.c.subject_id == subject,
            request_events.c.request_id.in_(list(request_ids)),
        )
        .order_by(request_events.c.request_id, request_events.c.seq)
    ).all()
    cipher = vault.ciphers([subject]).get(subject)
    out: dict[str, list[Step]] = {}
    for e in events:
        message = None
        if e.message is not None and cipher is not None:
            message = cipher.decrypt(
                e.message,
                sealing_aad(subject, e.request_id, e.seq),
                context=f"request {e.request_id}, step {e.seq}",
            ).decode()
        out.setdefault(e.request_id, []).append(Step(e.seq, e.step, e.actor, e.at, message))
    return out


# --- staff's side ----------------------------------------------------------------------


def queue(vault: Vault, *, closed: bool = False, limit: int = 500) -> list[Request]:
    """Open requests, the most pressing first (overdue, then due soonest); with ``closed``,
    the most recently closed instead. No personal value is read."""
    with vault.snapshot() as connection:
        if closed:
            query = (
                select(requests)
                .where(requests.c.state.not_in(OPEN))
                .order_by(requests.c.closed_at.desc())
            )
        else:
            query = (
                select(requests)
                .where(requests.c.state.in_(OPEN))
                .order_by(requests.c.respond_by, requests.c.received_at)
            )
        rows = connection.execute(query.limit(limit)).all()
    today = vault.clock().date()
    return [_view(r, today) for r in rows]


def detail(vault: Vault, request_id: str, *, actor: str) -> Request:
    """One request with its steps and what was written in them. Reading the person's words
    is a use of their data, so it is audited."""
    with vault.write() as connection:
        row = _row(connection, request_id)
        steps = _steps(vault, connection, row.subject_id, [request_id]).get(request_id, [])
        vault.record(
            connection,
            Record(
                action="request_read",
                actor=actor,
                subject_ref=vault.subject_ref(row.subject_id),
                detail={"request": request_id, "kind": row.kind},
            ),
        )
    return _view(row, vault.clock().date(), steps)


def act(
    vault: Vault,
    request_id: str,
    allowed_from: tuple[str, ...],
    step: Callable[[Connection, Any], None],
) -> Request:
    """Take ``step`` on a request in one of the states ``allowed_from``, under its row lock."""
    with vault.write() as connection:
        row = _row(connection, request_id, lock=True)
        if row.state not in allowed_from:
            raise ConflictError(
                f"request '{request_id}' is {row.state.replace('_', ' ')}; this step needs it "
                f"to be {' or '.join(s.replace('_', ' ') for s in allowed_from)}",
                request=request_id,
                state=row.state,
            )
        step(connection, row)
        return _view(_row(connection, request_id), vault.clock().date())


def verify(vault: Vault, request_id: str, *, actor: str) -> Request:
    """Staff checked the person's identity another way (a reply from the address on file)."""
    return act(
        vault,
        request_id,
        (RECEIVED,),
        lambda c, row: _verified(vault, c, row, actor),
    )


def start(vault: Vault, request_id: str, *, actor: str) -> Request:
    return act(
        vault,
        request_id,
        (VERIFIED,),
        lambda c, row: record_step(vault, c, row, IN_PROGRESS, actor, state=IN_PROGRESS),
    )


def extend(vault: Vault, request_id: str, reason: str, *, actor: str) -> Request:
    """Move the deadline as far as the law allows, telling the person why; refused when the
    law allows none, once it was extended, or after the law's notice period."""
    why = _text(reason, "the reason for the extension")

    def moved(connection: Connection, row: Any) -> None:
        terms = _terms(vault, row.received_at)
        refusal = extension_refusal(terms, vault.clock().date(), row.extended)
        if refusal is not None:
            raise ConflictError(refusal, request=request_id)
        assert terms.extended_respond_by is not None
        record_step(
            vault,
            connection,
            row,
            EXTENDED,
            actor,
            message=why,
            state=IN_PROGRESS,
            values={"extended": True, "respond_by": terms.extended_respond_by},
        )

    return act(vault, request_id, ANSWERABLE, moved)


def answer(vault: Vault, request_id: str, text: str, *, actor: str) -> Request:
    """Answer the request: done. An erasure is carried out first (see
    :func:`pledge.store.rights.erase`); its answer cannot be sealed under the person's key
    any more, so the only email about it is a farewell queued before (see
    :func:`pledge.mail.request_notices.answer`), which the done step releases."""
    message = _text(text, "the answer")
    with vault.snapshot() as connection:
        row = _row(connection, request_id)
    if row.kind == "erase" and row.state in ANSWERABLE:
        # Erased already: an earlier answer stopped after the erasure.
        with contextlib.suppress(NotFoundError):
            rights.erase(vault, row.subject_id, actor=actor)
        message = None  # sealing it needs the key the erasure destroyed

    def done(connection: Connection, row: Any) -> None:
        told = row.kind == "erase" and outbox.release_farewells(connection, row.subject_id) > 0
        record_step(vault, connection, row, DONE, actor, message=message, state=DONE, told=told)

    return act(vault, request_id, ANSWERABLE, done)


def header(vault: Vault, request_id: str) -> Request:
    """A request's kind, person, state and dates, without its steps: nothing the person
    wrote, so reading it is no use of their data (compare :func:`detail`)."""
    with vault.snapshot() as connection:
        return _view(_row(connection, request_id), vault.clock().date())


def refuse(vault: Vault, request_id: str, reason: str, *, actor: str) -> Request:
    why = _text(reason, "the reason for refusing")
    return act(
        vault,
        request_id,
        OPEN,
        lambda c, row: record_step(vault, c, row, REFUSED, actor, message=why, state=REFUSED),
    )
