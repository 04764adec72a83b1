"""Group commit: many concurrent operations, one durable commit, each caller told only after it.

Every write must be on disk before the caller hears back, and a commit costs a disk flush.
(Audited reads and collections, the busiest, hand their part to :mod:`pledge.store.batch`
instead; the other writes hold their transaction open in the caller's own code, so they
share it here.) Threads that arrive while a commit is being flushed put their work into the
next transaction; whoever commits next commits all of it at once. A sequential caller sees no
difference from one transaction per call. Audit leaves are only queued in these transactions
(see :mod:`pledge.store.audit.queue`): the tree's head is the sequencer's, not theirs.

Each unit of work runs in its own savepoint, so one that fails is rolled back alone (its queued
audit leaves with it) and the others still commit. If the commit itself fails, every unit in it
fails: nobody is told "done" for work that is not on disk.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import Connection, Engine, RootTransaction

from pledge.errors import AuditWriteError, PledgeError


class _Epoch:
    """One shared transaction and the outcome its members wait for."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.transaction: RootTransaction = connection.begin()
        self.done = False
        self.error: BaseException | None = None


class WriterLock:
    """Queues the writers of one SQLite file (the audit sequencer among them) in the kernel
    (``flock``) before they ask SQLite for its write lock. SQLite's own busy handler sleeps
    and retries at growing intervals,
    which wakes writers late and serves them unfairly when several processes share a file;
    a blocked ``flock`` wakes the moment the lock is free. A no-op for other databases."""

    def __init__(self, engine: Engine) -> None:
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._fd = (
            os.open(f"{path}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            if path and path != ":memory:"
            else None
        )

    def acquire(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class GroupCommit:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writers = WriterLock(engine)
        self._work = threading.Lock()  # one unit of work at a time on the shared connection
        self._flush = threading.Lock()  # one commit at a time
        self._open: _Epoch | None = None

    def close(self) -> None:
        self._writers.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside the current shared transaction; returns once it is durable."""
        failure: BaseException | None = None
        with self._work:
            epoch = self._open
            if epoch is None:
                epoch = self._open = self._start()
            savepoint = epoch.connection.begin_nested()
            try:
                yield epoch.connection
                savepoint.commit()
            except BaseException as exc:
                savepoint.rollback()
                failure = exc
        if failure is None:
            self._commit(epoch)
            return
        # A failed unit still ends the shared transaction: left open, it would keep the
        # database's write lock until some later write.
        with suppress(PledgeError):  # the unit's own error says what went wrong
            self._commit(epoch)
        raise failure

    def _start(self) -> _Epoch:
        self._writers.acquire()
        try:
            return _Epoch(self._engine.connect())
        except PledgeError:
            self._writers.release()
            raise
        except Exception as exc:
            self._writers.release()
            raise AuditWriteError(f"could not start a transaction ({type(exc).__name__})") from None

    def _commit(self, epoch: _Epoch) -> None:
        with self._flush:
            if not epoch.done:
                with self._work:
                    if self._open is epoch:
                        self._open = None
                try:
                    epoch.transaction.commit()
                except BaseException as exc:
                    epoch.error = exc
                    epoch.transaction.rollback()
                finally:
                    epoch.connection.close()
                    self._writers.release()
                    epoch.done = True
        if epoch.error is not None:
            if isinstance(epoch.error, PledgeError):
                raise epoch.error
            raise AuditWriteError(
                "the transaction could not be committed, so the operation was not carried "
                f"out ({type(epoch.error).__name__})"
            ) from None
