"""Checking the log: recompute it from its entries and hold it to every checkpoint it gave out.

Entries are read in order and each must be the next index and link to its predecessor's leaf
hash, so an entry edited, removed or moved is named, not just "the root is wrong". The tree
recomputed from them must match the latest signed checkpoint in the database, and (what a
wiped or cut log cannot escape) any checkpoint kept outside it. A log with no entries in a
store that holds subjects fails on its own: every subject got there by an audited collection.

Verification is incremental: where it got to (size, the tree's frontier, the last leaf) is kept
next to the published checkpoints, and the next run reads only the entries after it. ``full``
reads everything again, which is what catches an entry edited behind an earlier run.
"""

from __future__ import annotations

import binascii
import bisect
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from pledge.store.audit import merkle
from pledge.store.audit.checkpoint import Checkpoint, verify_checkpoint
from pledge.store.audit.entries import well_formed
from pledge.store.schema import audit_checkpoints, audit_entries, audit_queue, subjects

STATE_FILE = "verified.json"


@dataclass(frozen=True)
class Problem:
    seq: int
    # altered | removed | reordered | unsigned | truncated | bad_signature | wiped | foreign
    # | queue_malformed | queue_integrated
    kind: str
    message: str


@dataclass(frozen=True)
class Verification:
    entries: int  # the log's size as checked
    checkpoint: Checkpoint | None  # the latest signed checkpoint in the database
    problem: Problem | None
    read: int = 0  # entries read by this run (all of them unless incremental)

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Progress:
    """How far a verification got: the tree over the first ``size`` entries."""

    size: int
    subtrees: tuple[bytes, ...]
    last_leaf: bytes

    @classmethod
    def start(cls) -> Progress:
        return cls(0, (), b"")

    def save(self, directory: Path) -> None:
        data = {
            "size": self.size,
            "subtrees": [h.hex() for h in self.subtrees],
            "last_leaf": self.last_leaf.hex(),
        }
        temporary = directory / f".{STATE_FILE}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, directory / STATE_FILE)

    @classmethod
    def load(cls, directory: Path) -> Progress | None:
        try:
            data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
            return cls(
                int(data["size"]),
                tuple(bytes.fromhex(h) for h in data["subtrees"]),
                bytes.fromhex(data["last_leaf"]),
            )
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None


def verify(
    connection: Connection,
    public_key: Ed25519PublicKey,
    origin: str,
    *,
    since: Progress,
    outside: Sequence[Checkpoint],
    every_checkpoint: bool = False,
) -> tuple[Verification, Progress | None]:
    """Check the log from ``since`` on; the result and, when it verified, the new progress."""
    latest = latest_checkpoint(connection, origin)
    query = select(audit_checkpoints.c.size, audit_checkpoints.c.root)
    if not every_checkpoint:
        query = query.where(audit_checkpoints.c.size == (latest.size if latest else -1))
    roots = {size: root for size, root in connection.execute(query) if size >= since.size}
    for kept in outside:
        if kept.size > since.size:
            roots.setdefault(kept.size, kept.root)
    cursor = connection.connection.cursor()
    try:
        # The stored leaf hashes serve proofs; verification recomputes its own.
        start = int(since.size)  # an int, so nothing to quote; the driver cursor is for speed
        cursor.execute(f"SELECT seq, entry FROM audit_entries WHERE seq >= {start} ORDER BY seq")  # noqa: S608
        walked = _walk(_fetch(cursor), since, roots)
    finally:
        cursor.close()
    problem = walked.problem or _against_checkpoints(
        public_key, origin, latest, outside, walked.count, since
    )
    problem = problem or queue_problem(connection, walked.count)
    if problem is None and walked.count == 0:
        problem = _empty_with_subjects(connection)
    result = Verification(walked.count, latest, problem, walked.count - since.size)
    return result, None if problem else walked.progress


def latest_checkpoint(connection: Connection, origin: str) -> Checkpoint | None:
    """The newest checkpoint signed in the C2SP format (older ones only count for roots)."""
    row = connection.execute(
        select(audit_checkpoints)
        .where(audit_checkpoints.c.note.is_not(None))
        .order_by(audit_checkpoints.c.size.desc())
        .limit(1)
    ).first()
    return None if row is None else Checkpoint(origin, row.size, row.root, row.signature)


@dataclass
class _Walked:
    problem: Problem | None
    count: int
    progress: Progress


def _fetch(cursor: Any) -> Iterator[list[tuple[int, bytes]]]:
    """Rows straight from the driver, in large chunks: verification reads the whole log."""
    while chunk := cursor.fetchmany(10_000):
        yield chunk


def _walk(
    chunks: Iterable[Sequence[tuple[int, bytes]]], since: Progress, roots: dict[int, bytes]
) -> _Walked:
    """Entries in order: contiguous, each linking to the one before, the tree matching
    ``roots`` at their sizes. An entry edited in place breaks the link the next one holds to
    it; the last entry, which nothing links to, is covered by the checkpoint's root.

    Each chunk is checked whole (hashes, links and indices in flat loops inside C); only a
    chunk that fails is walked entry by entry, to name the first bad one."""
    sha256, hexlify, starts = hashlib.sha256, binascii.hexlify, bytes.startswith
    first, second = itemgetter(0), itemgetter(1)
    tree = merkle.TreeBuilder.restore(since.size, since.subtrees)
    wanted = sorted(size for size in roots if size > since.size)
    prev, expected = since.last_leaf, since.size
    if since.size in roots and roots[since.size] != tree.root():
        return _Walked(_mismatch(since.size), expected, Progress.start())
    for chunk in chunks:
        # itemgetter, not zip(*chunk): that makes an iterator per row, and so many tracked
        # objects set off the garbage collector's full passes over the whole heap.
        n = len(chunk)
        seqs, entries = list(map(first, chunk)), list(map(second, chunk))
        hashes = [sha256(b"\x00" + entry).digest() for entry in entries]
        headers = map(
            b"%d %s\n".__mod__,
            zip(range(expected, expected + n), map(hexlify, [prev, *hashes[:-1]]), strict=True),
        )
        if seqs != list(range(expected, expected + n)) or not all(map(starts, entries, headers)):
            return _Walked(_first_problem(chunk, expected, prev), expected, Progress.start())
        done = 0
        for size in wanted[bisect.bisect_right(wanted, expected) :]:
            if size > expected + n:
                break
            tree.extend(hashes[done : size - expected])
            done = size - expected
            if tree.root() != roots[size]:
                return _Walked(_mismatch(size), expected + done, Progress.start())
        tree.extend(hashes[done:])
        prev, expected = hashes[-1], expected + n
    return _Walked(None, expected, Progress(tree.size, tree.subtrees, prev))


def _first_problem(chunk: Sequence[tuple[int, bytes]], expected: int, prev: bytes) -> Problem:
    """The first entry of a chunk that is missing, moved or unlinked from its predecessor."""
    prev_hex = binascii.hexlify(prev)
    for seq, entry in chunk:
        if seq != expected:
            return Problem(expected, "removed", f"entry {expected} is missing")
        if not entry.startswith(b"%d %s\n" % (seq, prev_hex)):
            return _misplaced(seq, entry, prev_hex)
        prev_hex = binascii.hexlify(hashlib.sha256(b"\x00" + entry).digest())
        expected += 1
    raise AssertionError("a chunk that failed its check has no bad entry")


def _misplaced(seq: int, entry: bytes, prev_hex: bytes) -> Problem:
    cut = entry.find(b"\n")
    if cut < 0:
        return Problem(seq, "altered", f"entry {seq} is not in the log's format")
    claimed = entry[:cut].partition(b" ")[0]
    if claimed != b"%d" % seq:
        shown = claimed[:20].decode(errors="replace")
        return Problem(seq, "reordered", f"entry {seq} holds the content of entry {shown}")
    return Problem(
        seq - 1, "altered", f"entry {seq - 1} was altered (entry {seq} no longer links to it)"
    )


def _mismatch(size: int) -> Problem:
    return Problem(
        size - 1, "altered", f"entries before {size} do not match the checkpoint at size {size}"
    )


def _against_checkpoints(
    public_key: Ed25519PublicKey,
    origin: str,
    latest: Checkpoint | None,
    outside: Sequence[Checkpoint],
    count: int,
    since: Progress,
) -> Problem | None:
    for kept in outside:
        if kept.origin != origin:
            return Problem(0, "foreign", f"the checkpoint given is of another log ({kept.origin})")
        if count < kept.size:
            return Problem(
                count,
                "truncated",
                f"the log has {count} entries but a checkpoint kept outside the database "
                f"vouches for {kept.size}: entries were wiped or cut",
            )
    if count < since.size:
        return Problem(
            count,
            "truncated",
            f"the log has {count} entries but {since.size} were verified before",
        )
    if latest is None:
        if count:
            return Problem(0, "unsigned", "the log has entries but no checkpoint")
        return None
    if not verify_checkpoint(public_key, latest):
        return Problem(
            latest.size,
            "bad_signature",
            f"the checkpoint at size {latest.size} has a bad signature",
        )
    if count < latest.size:
        return Problem(count, "truncated", f"entries {count} to {latest.size - 1} were removed")
    if count > latest.size:
        return Problem(
            latest.size,
            "unsigned",
            f"entries from {latest.size} on are not covered by any checkpoint "
            "(added outside Pledge?)",
        )
    return None


def queue_problem(connection: Connection, size: int) -> Problem | None:
    """Queued leaves must be records Pledge wrote, and none may be in the tree already (the
    sequencer removes a batch from the queue in the transaction that integrates it)."""
    again = connection.execute(
        select(audit_queue.c.id, audit_entries.c.seq)
        .join(audit_entries, audit_entries.c.queue_id == audit_queue.c.id)
        .limit(1)
    ).first()
    if again is not None:
        return Problem(
            again.seq,
            "queue_integrated",
            f"queued leaf {again.id} is still queued but already integrated as entry {again.seq}",
        )
    for queue_id, raw in connection.execute(select(audit_queue.c.id, audit_queue.c.body)):
        if not well_formed(raw):
            return Problem(
                size, "queue_malformed", f"queued leaf {queue_id} is not an audit record"
            )
    return None


def _empty_with_subjects(connection: Connection) -> Problem | None:
    held = connection.execute(select(func.count()).select_from(subjects)).scalar_one()
    queued = connection.execute(select(func.count()).select_from(audit_queue)).scalar_one()
    if held and not queued:
        return Problem(
            0,
            "wiped",
            f"the log is empty but the store holds {held} subject(s), each collected with an "
            "audit entry: the log was wiped",
        )
    return None
