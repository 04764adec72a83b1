"""The audit log as auditors and the store's operations see it: queue a leaf, check the log,
prove an entry is in it, list a subject's entries.

Reads first wait for what was queued before them to be integrated (:meth:`AuditLog.sync`),
so a caller sees its own operations in the log, as it did when appends were synchronous.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, select

from pledge.errors import NotFoundError
from pledge.store.audit import merkle, queue
from pledge.store.audit.checkpoint import Checkpoint, origin_for
from pledge.store.audit.entries import Record, decode
from pledge.store.audit.publish import Publisher
from pledge.store.audit.sequencer import Sequencer
from pledge.store.audit.verify import (
    Progress,
    Verification,
    latest_checkpoint,
    queue_problem,
    verify,
)
from pledge.store.database import reading
from pledge.store.schema import audit_checkpoints, audit_entries


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey,
        publisher_dir: Path | None,
        *,
        publish_url: str | None = None,
        clock: Any,
        max_wait: float = 1.0,
        batch_size: int = 10_000,
    ) -> None:
        self.public_key: Ed25519PublicKey = signing_key.public_key()
        self.origin = origin_for(self.public_key)
        self.publisher = Publisher(self.public_key, publisher_dir, publish_url)
        self.sequencer = Sequencer(
            engine,
            signing_key,
            self.origin,
            self.publisher,
            clock,
            max_wait=max_wait,
            batch_size=batch_size,
        )
        self._clock = clock
        self._subtree_cache: merkle.SubtreeCache | None = None

    # --- writing ------------------------------------------------------------------------------

    def append(self, connection: Connection, records: Sequence[Record]) -> list[int]:
        """Queue ``records`` inside the caller's transaction; their queue ids."""
        return queue.enqueue(connection, records, self._clock())

    def sync(self, timeout: float = 30.0) -> None:
        """Wait until everything queued so far is in the tree (integrating it here if no
        other process is the sequencer)."""
        self.sequencer.sync(timeout)

    # --- reading and checking -----------------------------------------------------------------

    def latest_checkpoint(self, engine: Engine) -> Checkpoint | None:
        self.sync()
        with reading(engine) as connection:
            return latest_checkpoint(connection, self.origin)

    def verify(
        self,
        engine: Engine,
        *,
        full: bool = False,
        every_checkpoint: bool = False,
        outside: Checkpoint | None = None,
    ) -> Verification:
        """Check the log from where the last verification got to (everything when ``full``),
        against its latest signed checkpoint, against ``outside`` (a checkpoint kept apart
        from the database) and against the newest one published; ``every_checkpoint`` also
        checks each earlier checkpoint's root. A queue that fails its check is left as it is
        (integrating it would put what is wrong with it into the log)."""
        with reading(engine) as connection:
            queue_ok = queue_problem(connection, 0) is None
        if queue_ok:
            self.sync()
        directory = self.publisher.directory
        since = None if full or directory is None else Progress.load(directory)
        kept = [c for c in (outside, self.publisher.latest()) if c is not None]
        with reading(engine) as connection:
            result, progress = verify(
                connection,
                self.public_key,
                self.origin,
                since=since or Progress.start(),
                outside=kept,
                every_checkpoint=every_checkpoint,
            )
        if progress is not None and directory is not None and directory.exists():
            progress.save(directory)
        return result

    def leaf_hashes(self, engine: Engine, size: int | None = None) -> list[bytes]:
        query = select(audit_entries.c.leaf_hash).order_by(audit_entries.c.seq)
        if size is not None:
            query = query.where(audit_entries.c.seq < size)
        with reading(engine) as connection:
            return list(connection.execute(query).scalars())

    def entry(self, engine: Engine, seq: int) -> dict[str, Any]:
        return decode(self.raw_entry(engine, seq))

    def raw_entry(self, engine: Engine, seq: int) -> bytes:
        self.sync()
        with reading(engine) as connection:
            raw: bytes | None = connection.execute(
                select(audit_entries.c.entry).where(audit_entries.c.seq == seq)
            ).scalar()
        if raw is None:
            raise NotFoundError(f"no audit entry {seq}")
        return raw

    def prove(self, engine: Engine, seq: int) -> dict[str, Any]:
        """An inclusion proof of entry ``seq`` against the latest checkpoint."""
        checkpoint = self.latest_checkpoint(engine)
        if checkpoint is None or seq >= checkpoint.size or seq < 0:
            raise NotFoundError(f"audit entry {seq} is not (yet) covered by a checkpoint")
        raw = self.raw_entry(engine, seq)
        return {
            "entry": decode(raw),
            # The entry's exact bytes, so a verifier hashes what it reads (the leaf hash is
            # SHA-256(0x00 || these bytes)) rather than trusting leaf_hash.
            "entry_bytes": base64.b64encode(raw).decode("ascii"),
            "leaf_index": seq,
            "leaf_hash": merkle.leaf_hash(raw).hex(),
            **self._signed(engine, checkpoint),
            "proof": [
                h.hex() for h in self._subtrees(engine).inclusion_proof(seq, checkpoint.size)
            ],
        }

    def _subtrees(self, engine: Engine) -> merkle.SubtreeCache:
        """The roots of this log's complete subtrees, kept between proofs (the log only
        grows, so they never change)."""
        if self._subtree_cache is None:

            def load(low: int, high: int) -> list[bytes]:
                with reading(engine) as connection:
                    return list(
                        connection.execute(
                            select(audit_entries.c.leaf_hash)
                            .where(audit_entries.c.seq >= low, audit_entries.c.seq < high)
                            .order_by(audit_entries.c.seq)
                        ).scalars()
                    )

            self._subtree_cache = merkle.SubtreeCache(load)
        return self._subtree_cache

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
            **self._signed(engine, checkpoint),
            "proof": [h.hex() for h in merkle.consistency_proof(leaves, old_size)],
        }

    def _signed(self, engine: Engine, checkpoint: Checkpoint) -> dict[str, Any]:
        with reading(engine) as connection:
            at = connection.execute(
                select(audit_checkpoints.c.timestamp).where(
                    audit_checkpoints.c.size == checkpoint.size
                )
            ).scalar_one()
        return {
            "tree_size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "checkpoint": checkpoint.note(self.public_key),
            "checkpoint_timestamp": at,
            "checkpoint_signature": checkpoint.signature.hex(),
        }

    def entries_for(self, engine: Engine, subject_ref: str) -> list[dict[str, Any]]:
        self.sync()
        with reading(engine) as connection:
            raws = connection.execute(
                select(audit_entries.c.entry)
                .where(audit_entries.c.subject_ref == subject_ref)
                .order_by(audit_entries.c.seq)
            ).scalars()
            return [decode(raw) for raw in raws]

    def close(self) -> None:
        self.sequencer.stop()
