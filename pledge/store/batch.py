"""Writes committed together: audited reads and collections hand their part in, and one
thread per process writes everything waiting in one transaction with one commit.

A read needs a write for its leaf only, not for its decision. Deciding inside a transaction
shared by every concurrent reader (as :class:`~pledge.store.commit.GroupCommit` does for other
writes) makes the readers take turns for the decision work too, and on SQLite holds the file's
writer lock meanwhile. So a read decides on a snapshot of its own (no lock, in parallel with
the others and with other processes), hands its leaves here and waits (a thread, or a
coroutine that lets its event loop serve other requests meanwhile). A collection checks,
normalises and hashes its submission and makes its keys first, then hands in the rest of its
work (resolving the subject, encrypting, inserting), which needs the transaction. The
process's committer thread writes everything handed in while it wrote the previous batch.

Nothing is released or acknowledged before it is durable: a batch whose commit fails fails
every ticket in it. Each collection runs in a savepoint of its own, so one that fails (a
subject erased meanwhile, a constraint) is rolled back alone and the others still commit; and
collections run one after another on the batch's connection, so the second of two concurrent
submissions with the same email sees the first's lookup row and waits for that person's
confirmation like any later one.

Between a read's snapshot and its leaf's commit, a consent may be withdrawn or the subject
erased. Inside the batch's transaction (after the batch's collections) each subject's mark
(status and latest consent event) is read again, after locking the subject row against such
writers on PostgreSQL (SQLite's writer lock does that there); a read whose subjects changed
decides again, in that transaction, on what is committed now. A leaf is thus never written
for a decision the log already contradicts.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, bindparam, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from pledge.errors import AuditWriteError
from pledge.store.audit import Record
from pledge.store.commit import WriterLock
from pledge.store.consents import NEVER_CHOSE
from pledge.store.schema import consent_state, subjects

Mark = tuple[str, int | None]
"""A subject's state as a decision saw it: its status and the sequence number of its latest
consent event (None when the decision did not read consents)."""

_MARKS = (
    select(
        subjects.c.subject_id,
        subjects.c.status,
        func.coalesce(func.max(consent_state.c.seq), NEVER_CHOSE),
    )
    .select_from(
        subjects.outerjoin(consent_state, consent_state.c.subject_id == subjects.c.subject_id)
    )
    .where(subjects.c.subject_id.in_(bindparam("ids", expanding=True)))
    .group_by(subjects.c.subject_id, subjects.c.status)
)
_LOCK = text("SELECT 1 FROM subjects WHERE subject_id = ANY(:ids) ORDER BY subject_id FOR SHARE")
# PostgreSQL's deadlock and serialization failures: a writer holding one subject's row while
# waiting for another that this batch holds. One side is rolled back whole and may run again.
_RETRY = {"40P01", "40001"}
_TRIES = 3


def marks(connection: Connection, subject_ids: Sequence[str]) -> dict[str, Mark]:
    """Each subject's mark now. On PostgreSQL the rows are locked first (in a statement of
    their own, so the marks are read after any writer holding them has committed)."""
    ids = list(subject_ids)
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"ids": ids})
    return {s: (status, seq) for s, status, seq in connection.execute(_MARKS, {"ids": ids})}


def changed(seen: dict[str, Mark], now: dict[str, Mark]) -> bool:
    """Whether any subject moved on since ``seen`` (a consent not read does not count)."""
    for subject, (status, seq) in seen.items():
        current = now.get(subject)
        if current is None or current[0] != status or (seq is not None and current[1] != seq):
            return True
    return False


Redo = Callable[[Connection], list[Record]]
"""Decides a read again inside the batch's transaction; its leaves."""
Work = Callable[[Connection], object]
"""A write's part inside the batch's transaction (run in a savepoint); its result."""
Queue = Callable[[Connection, Sequence[Record]], list[int]]
"""Queues leaves in a transaction; their queue ids (``Vault.record``)."""


@dataclass(eq=False)
class Ticket:
    """One read waiting for its leaves to be durable, or one write (``work``) for its commit."""

    records: list[Record] = field(default_factory=list)
    seen: dict[str, Mark] = field(default_factory=dict)
    redo: Redo | None = None
    work: Work | None = None
    result: object = None  # what ``work`` returned, once committed
    ids: list[int] = field(default_factory=list)  # queue ids, once written
    redone: bool = False
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    notify: Callable[[], object] | None = None  # also called when done (an event loop's)


class BatchCommit:
    """Per process: hand in a read's leaves or a write's work, get it back durable (or an
    error).

    One thread of its own writes the batches, so a caller on an event loop can await its
    leaves without holding a thread, and nobody in a request writes for the others."""

    def __init__(self, engine: Engine, queue: Queue) -> None:
        self._engine = engine
        self._queue = queue
        self._writers = WriterLock(engine)
        self._ready = threading.Condition()
        self._waiting: list[Ticket] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False

    def close(self) -> None:
        """Write what is handed in, then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread if self._pid == os.getpid() else None
        if thread is not None:
            thread.join()
        self._writers.close()

    def commit(self, ticket: Ticket) -> None:
        """Return once ``ticket``'s leaves or work are committed; raise if they were not."""
        self._hand_in(ticket)
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    async def commit_async(self, ticket: Ticket) -> None:
        """:meth:`commit` for a caller on an event loop, which serves others meanwhile."""
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        ticket.notify = lambda: loop.call_soon_threadsafe(_resolve, written)
        self._hand_in(ticket)
        await written
        if ticket.error is not None:
            raise ticket.error

    def _hand_in(self, ticket: Ticket) -> None:
        with self._ready:
            if self._closed:
                raise AuditWriteError("the store is closed, so the operation was not carried out")
            if self._pid != os.getpid():  # first use, or a forked child: the thread is not here
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="pledge-leaf-commit", daemon=True
                )
                self._thread.start()
            self._waiting.append(ticket)
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                batch, self._waiting = self._waiting, []
            self._write(batch)
            for ticket in batch:
                ticket.done.set()
                if ticket.notify is not None:
                    ticket.notify()

    def _write(self, batch: list[Ticket]) -> None:
        error: BaseException | None = None
        for _ in range(_TRIES):
            for ticket in batch:
                ticket.error = None  # a work's own failure in an attempt rolled back whole
            try:
                self._attempt(batch)
                error = None
            except SQLAlchemyError as exc:
                error = AuditWriteError(
                    "the audit log could not be written, so the operation was not carried out "
                    f"({type(getattr(exc, 'orig', None) or exc).__name__})"
                )
                if _retryable(exc):
                    continue  # rolled back whole: the batch can simply run again
            except Exception as exc:  # every ticket in the batch fails with it: nothing released
                error = exc
            break
        if error is not None:
            for ticket in batch:
                ticket.error = error

    def _attempt(self, batch: list[Ticket]) -> None:
        self._writers.acquire()
        try:
            with self._engine.connect() as connection, connection.begin():
                for ticket in batch:
                    if ticket.work is not None:
                        _run(connection, ticket, ticket.work)
                reads = [t for t in batch if t.work is None]
                seen = {s: m for t in reads for s, m in t.seen.items()}
                now = marks(connection, sorted(seen)) if seen else {}
                for ticket in reads:
                    if ticket.redo is not None and changed(ticket.seen, now):
                        ticket.records, ticket.redone = ticket.redo(connection), True
                ids = iter(self._queue(connection, [r for t in reads for r in t.records]))
                for ticket in reads:
                    ticket.ids = [next(ids) for _ in ticket.records]
        finally:
            with suppress(Exception):
                self._writers.release()


def _run(connection: Connection, ticket: Ticket, work: Work) -> None:
    """``work`` in a savepoint: on failure it alone is rolled back, and told so."""
    savepoint = connection.begin_nested()
    try:
        ticket.result = work(connection)
    except Exception as exc:
        savepoint.rollback()
        if _retryable(exc):
            raise  # the whole transaction is lost: the batch runs again
        ticket.error = exc
    else:
        savepoint.commit()


def _retryable(exc: BaseException) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _RETRY


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # the waiting request may have been cancelled
        future.set_result(None)
