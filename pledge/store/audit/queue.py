"""The request's half of the log: queue the leaf in the operation's own transaction.

Appending to the tree needs its head (size, frontier, last leaf), and every writer taking that
head would make every writer wait for every other and sign a checkpoint each. So an operation
only inserts its leaves here, in its own transaction: they are durable with whatever they
record, and if the insert fails the operation fails with it (fail closed). The sequencer gives
them their places in the tree later, in batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import SQLAlchemyError

from pledge.errors import AuditWriteError
from pledge.store.audit.entries import Record, body
from pledge.store.schema import audit_entries, audit_queue

T = TypeVar("T")


def enqueue(connection: Connection, records: Sequence[Record], at: str) -> list[int]:
    """Queue ``records`` inside the caller's transaction; their queue ids, in order."""
    if not records:
        return []
    now = time.time()
    rows = [{"subject_ref": r.subject_ref, "body": body(at, r), "queued_at": now} for r in records]
    statement = insert(audit_queue).returning(audit_queue.c.id, sort_by_parameter_order=True)
    return guard(lambda: list(connection.execute(statement, rows).scalars()))


def leaf_index(connection: Connection, queue_id: int) -> int | None:
    """Where the queued leaf ``queue_id`` landed in the tree; None while it waits."""
    seq: int | None = connection.execute(
        select(audit_entries.c.seq).where(audit_entries.c.queue_id == queue_id)
    ).scalar()
    return seq


def guard(operation: Callable[[], T]) -> T:
    """Any database failure while writing the log becomes an AuditWriteError."""
    try:
        return operation()
    except SQLAlchemyError as exc:
        raise AuditWriteError(
            "the audit log could not be written, so the operation was not carried out "
            f"({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None
