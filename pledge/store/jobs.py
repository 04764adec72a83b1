"""Jobs: work asked for over HTTP that a worker thread of the service runs later (campaigns).

A job is a row of the ``jobs`` table. A worker *takes* one with a lease, by a conditional
update that only one of two racing workers can win; while it runs, every change is made only
while that worker still holds it, so a worker that lost its job to another (its lease ran
out) changes nothing. A job whose worker died is due again once the lease runs out.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update

from pledge.store.database import reading
from pledge.store.schema import jobs

if TYPE_CHECKING:
    from pledge.store.vault import Vault

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class JobRow:
    job_id: str
    kind: str
    status: str
    params: dict[str, Any]
    progress: int
    total: int | None
    result: dict[str, Any] | None
    error: dict[str, str] | None
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def submit(vault: Vault, kind: str, params: dict[str, Any]) -> str:
    """Queue a job of ``kind``; it is on disk when this returns its id."""
    job_id = os.urandom(16).hex()
    with vault.engine.begin() as connection:
        connection.execute(
            insert(jobs).values(
                job_id=job_id,
                kind=kind,
                params=params,
                status=QUEUED,
                progress=0,
                attempts=0,
                created_at=vault.clock(),
            )
        )
    return job_id


def find(vault: Vault, kind: str, job_id: str) -> JobRow | None:
    with reading(vault.engine) as connection:
        row = connection.execute(
            select(jobs).where(jobs.c.job_id == job_id, jobs.c.kind == kind)
        ).first()
    if row is None:
        return None
    return JobRow(
        row.job_id,
        row.kind,
        row.status,
        row.params,
        row.progress,
        row.total,
        row.result,
        row.error,
        row.attempts,
        row.created_at,
        row.started_at,
        row.finished_at,
    )


def _due(kind: str, now: dt.datetime) -> ColumnElement[bool]:
    """Queued, or running under a lease that ran out (its worker died)."""
    return and_(
        jobs.c.kind == kind,
        jobs.c.status.in_((QUEUED, RUNNING)),
        or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now),
    )


def oldest_due(vault: Vault, kind: str, now: dt.datetime) -> tuple[str, int] | None:
    """The id and attempts so far of the oldest due job of ``kind``."""
    with reading(vault.engine) as connection:
        row = connection.execute(
            select(jobs.c.job_id, jobs.c.attempts)
            .where(_due(kind, now))
            .order_by(jobs.c.created_at, jobs.c.job_id)
            .limit(1)
        ).first()
    return None if row is None else (row.job_id, row.attempts)


def take(
    vault: Vault, kind: str, job_id: str, worker: str, now: dt.datetime, lease: dt.timedelta
) -> bool:
    """Take a due job for ``worker``, counting the attempt; False when another worker took
    it first (the update is conditional on it still being due)."""
    with vault.engine.begin() as connection:
        won = connection.execute(
            update(jobs)
            .where(jobs.c.job_id == job_id, _due(kind, now))
            .values(
                status=RUNNING,
                claimed_by=worker,
                lease_until=now + lease,
                attempts=jobs.c.attempts + 1,
                progress=0,
                started_at=now,
            )
        ).rowcount
    return bool(won)


def _update(vault: Vault, job_id: str, worker: str, **values: Any) -> bool:
    """Change a job this worker still holds; False once it lost it to another."""
    with vault.engine.begin() as connection:
        moved = connection.execute(
            update(jobs)
            .where(jobs.c.job_id == job_id, jobs.c.claimed_by == worker)
            .values(**values)
        ).rowcount
    return bool(moved)


def set_total(vault: Vault, job_id: str, worker: str, total: int) -> bool:
    """How much work this attempt has (people in the segment when it began)."""
    return _update(vault, job_id, worker, total=total)


def advance(
    vault: Vault, job_id: str, worker: str, progress: int, lease_until: dt.datetime
) -> bool:
    """Record progress and move the lease on; False once the job was lost to another."""
    return _update(vault, job_id, worker, progress=progress, lease_until=lease_until)


def hand_back(vault: Vault, job_id: str, worker: str) -> bool:
    """Queue a job again that this worker stops running before its end."""
    return _update(vault, job_id, worker, status=QUEUED, claimed_by=None, lease_until=None)


def finish(
    vault: Vault,
    job_id: str,
    worker: str | None,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
) -> None:
    """Record the end of a job: done with ``result``, or failed with ``error``. ``worker``
    None for a job nobody holds (abandoned)."""
    held = jobs.c.job_id == job_id
    if worker is not None:
        held = and_(held, jobs.c.claimed_by == worker)
    values: dict[str, Any] = (
        {"status": FAILED, "error": error} if error is not None else {"status": DONE}
    )
    if result is not None:
        values["result"] = result
    with vault.engine.begin() as connection:
        connection.execute(
            update(jobs).where(held).values(lease_until=None, finished_at=vault.clock(), **values)
        )
