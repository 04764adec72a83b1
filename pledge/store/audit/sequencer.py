"""The sequencer: gives queued leaves their places in the tree, in batches, one process at a time.

Queued leaves wait (at most ``max_wait``, a setting) until a sequencer takes a batch of them,
in queue order, gives them contiguous indices after the tree's head, writes the entries, moves
the head, signs one checkpoint for the batch and deletes the batch from the queue, all in one
transaction: a sequencer killed anywhere leaves either the whole batch integrated or the whole
batch still queued, so nothing is lost, integrated twice or reordered. Each checkpoint is then
published outside the database.

Exactly one sequencer works at a time on one database, whichever process or node it is in:
each :class:`~pledge.store.vault.Vault` runs one in a background thread, and they take turns
by a lock only one can hold (a PostgreSQL session advisory lock; an ``flock`` on a file next
to a SQLite database). The kernel or the server drops the lock when its holder dies, and
another process's sequencer takes it within ``max_wait``. The head row is also locked inside
each batch, so even two sequencers would only take turns, never interleave.
"""

from __future__ import annotations

import binascii
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from pledge.errors import AuditPendingError
from pledge.store.audit import merkle
from pledge.store.audit.checkpoint import Checkpoint, sign_checkpoint
from pledge.store.audit.publish import Publisher
from pledge.store.schema import audit_checkpoints, audit_head, audit_queue

log = logging.getLogger(__name__)
HASH = 32


@dataclass(frozen=True)
class Batch:
    """One integration: the checkpoint it signed and how long each of its leaves waited."""

    checkpoint: Checkpoint
    waits: list[float]


class _FileLock:
    """SQLite: an ``flock`` on ``<database>.sequencer-lock``, which the kernel drops when the
    holding process dies. Batches run on a fresh connection each, queued with the other
    writers of the file behind the writers' own lock (see :mod:`pledge.store.commit`)."""

    def __init__(self, engine: Engine) -> None:
        from pledge.store.commit import WriterLock

        self._engine = engine
        self._path = f"{engine.url.database}.sequencer-lock"
        self._writers = WriterLock(engine)
        self._fd: int | None = None
        self.held = False

    def try_acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd, self.held = fd, True
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
        self._fd, self.held = None, False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        self._writers.acquire()
        try:
            with self._engine.begin() as connection:
                yield connection
        finally:
            self._writers.release()

    def close(self) -> None:
        self.release()
        self._writers.close()


class _AdvisoryLock:
    """PostgreSQL: a session advisory lock, keyed by the schema so that stores sharing a server
    do not share a sequencer, held by one dedicated connection that also runs the batches: if
    that connection dies the server drops the lock, and no batch can run without it."""

    _KEY = (
        "SELECT pg_try_advisory_lock(hashtext('pledge.audit.sequencer'), "
        "hashtext(current_schema()))"
    )

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        connection = self._engine.connect()
        try:
            got = bool(connection.execute(text(self._KEY)).scalar())
            connection.commit()
        except SQLAlchemyError:
            connection.invalidate()
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self._connection, self.held = connection, True
        return True

    def release(self) -> None:
        connection, self._connection, self.held = self._connection, None, False
        if connection is not None:
            # Closing the session is what releases a session lock for certain; the pool must
            # not hand a connection still holding it to someone else.
            with suppress(SQLAlchemyError):
                connection.invalidate()
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        if self._connection is None:
            raise AuditPendingError("the audit sequencer lost its lock")
        try:
            with self._connection.begin():
                yield self._connection
        except SQLAlchemyError:
            if self._connection.invalidated or self._connection.closed:
                self.release()
            raise

    def close(self) -> None:
        self.release()


class Sequencer:
    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey,
        origin: str,
        publisher: Publisher,
        clock: Any,
        *,
        max_wait: float = 1.0,
        batch_size: int = 10_000,
    ) -> None:
        self._engine = engine
        self._signing_key = signing_key
        self._origin = origin
        self._publisher = publisher
        self._clock = clock
        self.max_wait = max_wait
        self.batch_size = batch_size
        self._lock: _FileLock | _AdvisoryLock = (
            _AdvisoryLock(engine) if engine.dialect.name == "postgresql" else _FileLock(engine)
        )
        self._mutex = threading.Lock()  # one integration at a time within the process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.waits: deque[float] = deque(maxlen=200_000)  # seconds from queueing to integration

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread: take the lock when free, integrate what is queued."""
        self._thread = threading.Thread(target=self._run, name="pledge-audit-sequencer")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, integrate what is still queued (if this process may), let go."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with suppress(AuditPendingError, SQLAlchemyError), self._mutex:
            if self._lock.held or self._lock.try_acquire():
                self._drain()
        with self._mutex:
            self._lock.close()

    @property
    def holding(self) -> bool:
        """Whether this process is the one sequencer now."""
        return self._lock.held

    def _run(self) -> None:
        # A quarter of the longest wait between looks keeps the longest wait with room to spare
        # for the batch itself; an idle look is one small query (or one flock) per interval.
        interval = self.max_wait / 4
        while not self._stop.is_set():
            try:
                self.integrate()
            except Exception:  # a database hiccup must not end the thread; the next look retries
                log.exception("audit sequencer: integration failed; retrying")
                with self._mutex:
                    self._lock.release()
            self._stop.wait(interval)

    def integrate(self) -> int | None:
        """Integrate everything queued now, if this process is (or can become) the sequencer;
        None when another process is."""
        with self._mutex:
            if not self._lock.held:
                if not self._lock.try_acquire():
                    return None
                self._catch_up()
            return self._drain()

    def sync(self, timeout: float = 30.0) -> None:
        """Return once every leaf queued before the call is in the tree (and its checkpoint
        published): integrate it here, or wait for the process that is the sequencer to."""
        if self._integrate_once():
            return
        with self._engine.connect() as connection:
            last = connection.execute(select(func.max(audit_queue.c.id))).scalar()
        deadline = time.monotonic() + timeout
        while last is not None:
            with self._engine.connect() as connection:
                waiting = connection.execute(
                    select(audit_queue.c.id).where(audit_queue.c.id <= last).limit(1)
                ).first()
            if waiting is None or self._integrate_once():
                return
            if time.monotonic() > deadline:
                raise AuditPendingError(
                    f"queued audit leaves were not integrated within {timeout:g} s; "
                    "check that a Pledge process with a running sequencer can reach the database"
                )
            time.sleep(min(0.05, self.max_wait / 4))

    def _integrate_once(self) -> bool:
        """Integrate what is queued if this process may; a one-off does not keep the turn."""
        if self.integrate() is None:
            return False
        if not self._running_here():
            with self._mutex:
                self._lock.release()
        return True

    def _running_here(self) -> bool:
        return self._thread is not None and not self._stop.is_set()

    # --- one batch --------------------------------------------------------------------------

    def _drain(self) -> int:
        done = 0
        while True:
            batch = self._integrate_batch()
            if batch is None:
                return done
            done += len(batch.waits)
            self.waits.extend(batch.waits)
            self._publisher.publish(batch.checkpoint)
            if len(batch.waits) < self.batch_size:
                return done

    def _catch_up(self) -> None:
        """On taking the turn: sign the head if it has no checkpoint in this format (a store
        upgraded from before the queue), and publish the latest checkpoint, which a sequencer
        killed after its commit may not have published."""
        with self._lock.transaction() as connection:
            head = _head(connection)
            if head is None:
                return
            tree = _tree(head)
            latest = connection.execute(
                select(audit_checkpoints.c.size, audit_checkpoints.c.note)
                .order_by(audit_checkpoints.c.size.desc())
                .limit(1)
            ).first()
            checkpoint = sign_checkpoint(self._signing_key, self._origin, tree.size, tree.root())
            if latest is None or latest.size != tree.size or latest.note is None:
                _write_checkpoint(connection, checkpoint, self._clock(), self._signing_key)
        self._publisher.publish(checkpoint)

    def _integrate_batch(self) -> Batch | None:
        with self._lock.transaction() as connection:
            head = _head(connection)
            # Straight from and to the driver: SQLAlchemy's row objects and per-value binary
            # processing would cost more than everything else a leaf needs here.
            rows = connection.exec_driver_sql(_SELECT_QUEUED % int(self.batch_size)).all()
            if not rows:
                return None
            entries, prev, tree = _entries(head, rows)
            connection.exec_driver_sql(_insert_entries(connection), entries)
            ids = [row[0] for row in rows]
            removed = _delete_queued(connection, ids)
            if removed != len(ids):
                raise AuditPendingError("the audit queue changed under the sequencer; retrying")
            state = {"size": tree.size, "frontier": b"".join(tree.subtrees), "last_leaf": prev}
            if head is None:
                connection.execute(insert(audit_head).values(id=1, **state))
            else:
                connection.execute(update(audit_head).where(audit_head.c.id == 1).values(**state))
            checkpoint = sign_checkpoint(self._signing_key, self._origin, tree.size, tree.root())
            _write_checkpoint(connection, checkpoint, self._clock(), self._signing_key)
        now = time.time()
        return Batch(checkpoint, [now - row[3] for row in rows])


_SELECT_QUEUED = "SELECT id, subject_ref, body, queued_at FROM audit_queue ORDER BY id LIMIT %d"


def _entries(
    head: Any, rows: Sequence[Any]
) -> tuple[list[tuple[Any, ...]], bytes, merkle.TreeBuilder]:
    """The batch's entries as driver parameters, the last leaf hash and the grown tree."""
    tree = _tree(head)
    prev = b"" if head is None else head.last_leaf
    sha256, hexlify = hashlib.sha256, binascii.hexlify
    entries: list[tuple[Any, ...]] = []
    leaves: list[bytes] = []
    seq = tree.size
    for queue_id, subject_ref, body, _queued in rows:
        entry = b"%d %s\n%s" % (seq, hexlify(prev), body)  # the bytes entries.encode gives
        prev = sha256(b"\x00" + entry).digest()
        leaves.append(prev)
        entries.append((seq, subject_ref, entry, prev, queue_id))
        seq += 1
    tree.extend(leaves)
    return entries, prev, tree


def _insert_entries(connection: Connection) -> str:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    columns = "seq, subject_ref, entry, leaf_hash, queue_id"
    return f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join([mark] * 5)})"  # noqa: S608


def _head(connection: Connection) -> Any:
    return connection.execute(
        select(audit_head).where(audit_head.c.id == 1).with_for_update()
    ).first()


def _tree(head: Any) -> merkle.TreeBuilder:
    if head is None:
        return merkle.TreeBuilder()
    frontier = [head.frontier[i : i + HASH] for i in range(0, len(head.frontier), HASH)]
    return merkle.TreeBuilder.restore(head.size, frontier)


def _delete_queued(connection: Connection, ids: list[int]) -> int:
    """Delete exactly the rows integrated. On SQLite the batch holds the write lock from its
    SELECT on, so the id range holds nothing else; on PostgreSQL a leaf committed meanwhile
    could fall in the range, so the ids are named."""
    if connection.dialect.name == "postgresql":
        result = connection.execute(
            text("DELETE FROM audit_queue WHERE id = ANY(:ids)"), {"ids": ids}
        )
    else:
        result = connection.execute(
            delete(audit_queue).where(audit_queue.c.id.between(ids[0], ids[-1]))
        )
    return int(result.rowcount)


def _write_checkpoint(
    connection: Connection, checkpoint: Checkpoint, at: str, key: Ed25519PrivateKey
) -> None:
    note = checkpoint.note(key.public_key())
    values = {
        "root": checkpoint.root,
        "timestamp": at,
        "signature": checkpoint.signature,
        "note": note,
    }
    updated = connection.execute(
        update(audit_checkpoints)
        .where(audit_checkpoints.c.size == checkpoint.size)
        .values(**values)
    )
    if not updated.rowcount:
        connection.execute(insert(audit_checkpoints).values(size=checkpoint.size, **values))
