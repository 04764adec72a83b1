"""The audit log: every use of personal data leaves an entry, and nobody can quietly change one.

Entries are the leaves of an RFC 6962 Merkle tree. Each transaction that appends entries also
writes a checkpoint (size, root, time) signed with the log's Ed25519 key, so an auditor holding
a checkpoint can check that a given entry is in the log (inclusion proof) and that the log only
grew since (consistency proof). Each entry also carries its predecessor's leaf hash, which lets
``verify`` name the first entry that was altered, removed or reordered rather than only say
that the root is wrong.

Entries name subjects by a keyed pseudonym and hold no personal values. The append runs inside
the caller's transaction: if it fails, the operation it records fails with it.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from pledge.errors import AuditWriteError, NotFoundError
from pledge.store import merkle
from pledge.store.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from pledge.store.database import reading
from pledge.store.schema import audit_checkpoints, audit_entries, audit_head

HASH = 32
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Record:
    """What happened, before it gets its place in the log."""

    action: str
    actor: str
    subject_ref: str | None = None
    purpose: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # altered | removed | reordered | unsigned | truncated | bad_signature
    message: str


@dataclass(frozen=True)
class Verification:
    entries: int
    checkpoint: Checkpoint | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def encode(seq: int, at: str, prev: bytes, record: Record) -> bytes:
    """Canonical bytes of an entry: a header line ``<seq> <previous leaf hash>`` that
    verification reads without parsing JSON, then the record as canonical JSON."""
    body = {
        "at": at,
        "action": record.action,
        "actor": record.actor,
        "subject": record.subject_ref,
        "purpose": record.purpose,
        "detail": record.detail,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return b"%d %s\n%s" % (seq, prev.hex().encode(), text.encode())


def decode(entry: bytes) -> dict[str, Any]:
    """An entry as a dict, its header fields included."""
    header, _, body = entry.partition(b"\n")
    seq, _, prev = header.partition(b" ")
    decoded: dict[str, Any] = json.loads(body)
    return {"seq": int(seq), "prev": prev.decode(), **decoded}


class AuditLog:
    def __init__(self, signing_key: Ed25519PrivateKey, clock: Callable[[], str]) -> None:
        self.signing_key = signing_key
        self.public_key: Ed25519PublicKey = signing_key.public_key()
        self.clock = clock

    # --- writing ------------------------------------------------------------------------------

    def append(self, connection: Connection, records: Sequence[Record]) -> list[int]:
        """Append ``records`` inside the caller's transaction.

        Under a :class:`~pledge.store.commit.GroupCommit` the transaction's open
        :class:`AuditBatch` takes them and signs one checkpoint at commit; otherwise this call
        is a batch of its own and signs its checkpoint at once.
        """
        batch: AuditBatch | None = connection.info.get(AuditBatch.KEY)
        if batch is not None:
            return batch.append(records)
        batch = self.open_batch(connection)
        seqs = batch.append(records)
        batch.close()
        return seqs

    def open_batch(self, connection: Connection) -> AuditBatch:
        return AuditBatch(self, connection)

    # --- reading and checking -----------------------------------------------------------------

    def latest_checkpoint(self, engine: Engine) -> Checkpoint | None:
        with reading(engine) as connection:
            row = connection.execute(
                select(audit_checkpoints).order_by(audit_checkpoints.c.size.desc()).limit(1)
            ).first()
        return None if row is None else Checkpoint(row.size, row.root, row.timestamp, row.signature)

    def verify(self, engine: Engine, *, every_checkpoint: bool = False) -> Verification:
        """Recompute the log from its entries and check it against the latest checkpoint, whose
        signature vouches for everything before it; ``every_checkpoint`` also checks each
        earlier checkpoint's root (slower: a root per checkpoint)."""
        latest = self.latest_checkpoint(engine)
        with reading(engine) as connection:
            query = select(audit_checkpoints.c.size, audit_checkpoints.c.root)
            if not every_checkpoint:
                query = query.where(audit_checkpoints.c.size == (latest.size if latest else -1))
            sizes = dict(connection.execute(query).all())
            cursor = connection.connection.cursor()
            try:
                # The stored leaf hashes serve proofs; verification recomputes its own.
                cursor.execute("SELECT seq, entry FROM audit_entries ORDER BY seq")
                problem, count = _walk(_fetch(cursor), sizes)
            finally:
                cursor.close()
        if problem is None and latest is not None:
            if not verify_checkpoint(self.public_key, latest):
                problem = Problem(
                    latest.size,
                    "bad_signature",
                    f"the checkpoint at size {latest.size} has a bad signature",
                )
            elif count < latest.size:
                problem = Problem(
                    count, "truncated", f"entries {count} to {latest.size - 1} were removed"
                )
            elif count > latest.size:
                problem = Problem(
                    latest.size,
                    "unsigned",
                    f"entries from {latest.size} on are not covered by any "
                    "checkpoint (added outside Pledge?)",
                )
        elif problem is None and count:
            problem = Problem(0, "unsigned", "the log has entries but no checkpoint")
        return Verification(count, latest, problem)

    def leaf_hashes(self, engine: Engine, size: int | None = None) -> list[bytes]:
        query = select(audit_entries.c.leaf_hash).order_by(audit_entries.c.seq)
        if size is not None:
            query = query.where(audit_entries.c.seq < size)
        with reading(engine) as connection:
            return list(connection.execute(query).scalars())

    def entry(self, engine: Engine, seq: int) -> dict[str, Any]:
        with reading(engine) as connection:
            raw = connection.execute(
                select(audit_entries.c.entry).where(audit_entries.c.seq == seq)
            ).scalar()
        if raw is None:
            raise NotFoundError(f"no audit entry {seq}")
        return decode(raw)

    def prove(self, engine: Engine, seq: int) -> dict[str, Any]:
        """An inclusion proof of entry ``seq`` against the latest checkpoint."""
        checkpoint = self.latest_checkpoint(engine)
        if checkpoint is None or seq >= checkpoint.size or seq < 0:
            raise NotFoundError(f"audit entry {seq} is not covered by a checkpoint")
        leaves = self.leaf_hashes(engine, checkpoint.size)
        entry = self.entry(engine, seq)
        return {
            "entry": entry,
            "leaf_index": seq,
            "leaf_hash": leaves[seq].hex(),
            "tree_size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "checkpoint_timestamp": checkpoint.timestamp,
            "checkpoint_signature": checkpoint.signature.hex(),
            "proof": [h.hex() for h in merkle.inclusion_proof(leaves, seq)],
        }

    def consistency(self, engine: Engine, old_size: int) -> dict[str, Any]:
        """A proof that the log at the latest checkpoint extends the log of ``old_size``
        entries: nothing recorded then was changed or removed since."""
        checkpoint = self.latest_checkpoint(engine)
        if checkpoint is None or not 0 <= old_size <= checkpoint.size:
            raise NotFoundError(f"there is no checkpointed log of {old_size} entries to extend")
        leaves = self.leaf_hashes(engine, checkpoint.size)
        return {
            "old_size": old_size,
            "old_root": merkle.root(leaves[:old_size]).hex(),
            "tree_size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "checkpoint_timestamp": checkpoint.timestamp,
            "checkpoint_signature": checkpoint.signature.hex(),
            "proof": [h.hex() for h in merkle.consistency_proof(leaves, old_size)],
        }

    def entries_for(self, engine: Engine, subject_ref: str) -> list[dict[str, Any]]:
        with reading(engine) as connection:
            raws = connection.execute(
                select(audit_entries.c.entry)
                .where(audit_entries.c.subject_ref == subject_ref)
                .order_by(audit_entries.c.seq)
            ).scalars()
            return [decode(raw) for raw in raws]


class AuditBatch:
    """The log's head, held for one transaction: entries appended, then one checkpoint.

    The head row is read (and, on PostgreSQL, locked) once per transaction, so writers in
    other processes queue behind it and sequence numbers never collide. ``mark``/``rewind``
    undo the entries of one unit of work whose savepoint was rolled back.
    """

    KEY = "pledge_audit_batch"

    def __init__(self, log: AuditLog, connection: Connection) -> None:
        self.log = log
        self.connection = connection
        head = _guard(
            lambda: connection.execute(
                select(audit_head).where(audit_head.c.id == 1).with_for_update()
            ).first()
        )
        self._existed = head is not None
        self.tree = merkle.TreeBuilder()
        self.prev = b""
        if head is not None:
            self.tree = merkle.TreeBuilder.restore(head.size, _split(head.frontier))
            self.prev = head.last_leaf
        self._start = self.tree.size

    def mark(self) -> tuple[int, tuple[bytes, ...], bytes]:
        return self.tree.size, self.tree.subtrees, self.prev

    def rewind(self, mark: tuple[int, tuple[bytes, ...], bytes]) -> None:
        size, subtrees, prev = mark
        self.tree = merkle.TreeBuilder.restore(size, subtrees)
        self.prev = prev

    def append(self, records: Sequence[Record]) -> list[int]:
        if not records:
            return []
        at = self.log.clock()
        rows, seqs = [], []
        tree, prev = merkle.TreeBuilder.restore(self.tree.size, self.tree.subtrees), self.prev
        for record in records:
            seq = tree.size
            entry = encode(seq, at, prev, record)
            prev = merkle.leaf_hash(entry)
            tree.append(prev)
            rows.append(
                {"seq": seq, "subject_ref": record.subject_ref, "entry": entry, "leaf_hash": prev}
            )
            seqs.append(seq)
        _guard(lambda: self.connection.execute(insert(audit_entries), rows))
        self.tree, self.prev = tree, prev
        return seqs

    def close(self) -> None:
        """Save the head and sign a checkpoint, if anything was appended."""
        if self.tree.size == self._start:
            return
        state = {
            "size": self.tree.size,
            "frontier": b"".join(self.tree.subtrees),
            "last_leaf": self.prev,
        }
        checkpoint = sign_checkpoint(
            self.log.signing_key, self.tree.size, self.tree.root(), self.log.clock()
        )

        def write() -> None:
            if self._existed:
                self.connection.execute(
                    update(audit_head).where(audit_head.c.id == 1).values(**state)
                )
            else:
                self.connection.execute(insert(audit_head).values(id=1, **state))
            self.connection.execute(
                insert(audit_checkpoints).values(
                    size=checkpoint.size,
                    root=checkpoint.root,
                    timestamp=checkpoint.timestamp,
                    signature=checkpoint.signature,
                )
            )

        _guard(write)
        self._existed, self._start = True, self.tree.size


def _guard(operation: Callable[[], T]) -> T:
    """Any database failure while writing the log becomes an AuditWriteError."""
    try:
        return operation()
    except SQLAlchemyError as exc:
        raise AuditWriteError(
            "the audit log could not be written, so the operation was not carried out "
            f"({type(getattr(exc, 'orig', None) or exc).__name__})"
        ) from None


def _split(frontier: bytes) -> list[bytes]:
    return [frontier[i : i + HASH] for i in range(0, len(frontier), HASH)]


def _fetch(cursor: Any) -> Iterator[tuple[int, bytes]]:
    """Rows straight from the driver, in large chunks: verification reads the whole log."""
    while chunk := cursor.fetchmany(10_000):
        yield from chunk


def _walk(
    rows: Iterator[tuple[int, bytes]], checkpoint_roots: dict[int, bytes]
) -> tuple[Problem | None, int]:
    """Check entries in order: contiguous, self-consistent, chained, and matching the
    checkpoint roots given. Returns the first problem and the number of entries read.

    An entry edited in place breaks the link the next entry holds to it; the last entry, which
    no other entry links to, is covered by the checkpoint root."""
    sha256, hexlify = hashlib.sha256, binascii.hexlify
    leaves: list[bytes] = []
    keep = leaves.append
    prev_hex = b""
    expected = 0
    for seq, entry in rows:
        if seq != expected:
            return Problem(expected, "removed", f"entry {expected} is missing"), expected
        leaf = sha256(b"\x00" + entry).digest()
        cut = entry.find(b"\n")
        if cut < 0:
            return Problem(seq, "altered", f"entry {seq} is not in the log's format"), seq
        claimed, _, link = entry[:cut].partition(b" ")
        if claimed != b"%d" % seq:
            shown = claimed[:20].decode(errors="replace")
            return Problem(seq, "reordered", f"entry {seq} holds the content of entry {shown}"), seq
        if link != prev_hex:
            return Problem(
                seq - 1,
                "altered",
                f"entry {seq - 1} was altered (entry {seq} no longer links to it)",
            ), seq
        prev_hex = hexlify(leaf)
        keep(leaf)
        expected += 1
    return _check_roots(leaves, checkpoint_roots), expected


def _check_roots(leaves: list[bytes], checkpoint_roots: dict[int, bytes]) -> Problem | None:
    """Compare each checkpoint (up to the log's size) with the root recomputed from the
    entries; one sweep with a TreeBuilder when there are many, a direct root for one."""
    sizes = sorted(size for size in checkpoint_roots if size <= len(leaves))
    if len(sizes) == 1:
        computed = {sizes[0]: merkle.root(leaves[: sizes[0]])}
    else:
        computed, tree, wanted = {}, merkle.TreeBuilder(), set(sizes)
        for leaf in leaves[: sizes[-1] if sizes else 0]:
            tree.append(leaf)
            if tree.size in wanted:
                computed[tree.size] = tree.root()
    for size in sizes:
        if computed[size] != checkpoint_roots[size]:
            return Problem(
                size - 1,
                "altered",
                f"entries before {size} do not match the checkpoint at size {size}",
            )
    return None
