"""RFC 6962 Merkle tree hashing for the audit log.

A hash chain shows that entries were not reordered, but checking one entry means replaying
the whole log, and showing it to an auditor means showing every other subject's entries too.
Over a Merkle tree a signed root (a checkpoint) lets anyone check that one entry is in the
log, or that a later log only appended to an earlier one, from O(log n) hashes that reveal
nothing about the other entries.

The hashing is exactly that of RFC 6962 / RFC 9162 (Certificate Transparency): leaves and
interior nodes are domain-separated so one can never pass for the other, and unbalanced trees
split at the largest power of two. Proofs can therefore be checked by any transparency-log
tooling, and the published test vectors apply.

Everything here is pure (no I/O, no clock, no state beyond the arguments) but
:class:`SubtreeCache`, which keeps the roots of subtrees that can no longer change and reads
leaves only through the function it is given.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence

from pledge.errors import InputError

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT = _sha256(b"").digest()
"""The root of a log with no entries (RFC 9162 section 2.1.1)."""


def leaf_hash(entry: bytes) -> bytes:
    """Hash an entry as a leaf; the 0x00 prefix stops an entry from posing as an interior node."""
    return _sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children; the 0x01 prefix stops a node from posing as a 64-byte leaf entry."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The tree head over ``leaf_hashes``, as a checkpoint signs it.

    Built level by level, an unpaired last node being carried up unchanged: this gives the
    same tree as RFC 6962's split at the largest power of two, but each level is one flat loop
    that spends its time inside hashlib rather than in a Python call per node.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = leaf_hashes
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def _parent_level(level: Sequence[bytes]) -> list[bytes]:
    """Hash a level's nodes pairwise; a lone last node moves up as it is."""
    pairs = iter(level)
    parents = [
        _sha256(_NODE_PREFIX + left + right).digest()
        for left, right in zip(pairs, pairs, strict=False)
    ]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


class TreeBuilder:
    """The root of a log that grows one entry at a time, in O(log n) memory.

    Recomputing ``root()`` over every leaf after each append would cost O(n) per entry. The
    builder keeps only the roots of the perfect subtrees the log decomposes into (one per set
    bit of its size), so an append costs amortised O(1) hashes and the root O(log n).
    """

    __slots__ = ("_size", "_subtrees")

    def __init__(self) -> None:
        self._size = 0
        self._subtrees: list[bytes] = []

    @classmethod
    def restore(cls, size: int, subtrees: Sequence[bytes]) -> TreeBuilder:
        """Resume a log from a saved ``size`` and :attr:`subtrees`, without replaying it."""
        if size < 0 or len(subtrees) != size.bit_count():
            raise InputError(
                f"a log of {size} entries has {size.bit_count()} subtrees, not {len(subtrees)}"
            )
        builder = cls()
        builder._size = size
        builder._subtrees = list(subtrees)
        return builder

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    @property
    def subtrees(self) -> tuple[bytes, ...]:
        """The roots of the perfect subtrees, largest first: the state to save."""
        return tuple(self._subtrees)

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf, merging the perfect subtrees it completes (like a binary carry)."""
        node = leaf_hash
        carry = self._size
        while carry & 1:
            node = _sha256(_NODE_PREFIX + self._subtrees.pop() + node).digest()
            carry >>= 1
        self._subtrees.append(node)
        self._size += 1

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append many leaves: the largest perfect subtrees the size allows are hashed level
        by level (flat loops inside hashlib), then joined like one ``append`` each."""
        done, total = 0, len(leaf_hashes)
        while done < total:
            aligned = self._size & -self._size or 1 << 62
            width = min(aligned, 1 << ((total - done).bit_length() - 1))
            level: Sequence[bytes] = leaf_hashes[done : done + width]
            while len(level) > 1:
                level = _parent_level(level)
            self._join(level[0], width.bit_length() - 1)
            done += width

    def _join(self, node: bytes, height: int) -> None:
        """Add a perfect subtree of ``2**height`` leaves; the size must be a multiple of it."""
        carry = self._size >> height
        while carry & 1:
            node = _sha256(_NODE_PREFIX + self._subtrees.pop() + node).digest()
            carry >>= 1
        self._subtrees.append(node)
        self._size += 1 << height

    def root(self) -> bytes:
        """The root over everything appended so far, equal to ``root()`` over the same leaves."""
        if not self._subtrees:
            return EMPTY_ROOT
        head = self._subtrees[-1]
        for left in reversed(self._subtrees[:-1]):
            head = node_hash(left, head)
        return head


def _split(size: int) -> int:
    """RFC 6962's split point: the largest power of two strictly below ``size`` (>= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n & (n - 1) == 0


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise InputError(
            f"leaf index {index} is outside a log of {size} entries", index=index, size=size
        )


def _check_sizes(old_size: int, new_size: int) -> None:
    if not 0 <= old_size <= new_size:
        raise InputError(
            f"a log of {old_size} entries cannot be a prefix of one of {new_size}",
            old_size=old_size,
            new_size=new_size,
        )


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path proving that leaf ``index`` is in the tree over ``leaf_hashes``.

    RFC 9162 section 2.1.3.1, descended iteratively: at each level the sibling subtree the
    leaf is not in joins the path, and the path is returned leaf-first, as verifiers read it.
    """
    _check_index(index, len(leaf_hashes))
    path: list[bytes] = []
    low, high = 0, len(leaf_hashes)
    while high - low > 1:
        middle = low + _split(high - low)
        if index < middle:
            path.append(root(leaf_hashes[middle:high]))
            high = middle
        else:
            path.append(root(leaf_hashes[low:middle]))
            low = middle
    path.reverse()
    return path


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 section 2.1.3.2. A malformed or forged proof gives False; an index outside the
    tree is the caller's mistake, not the proof's, and raises ``InputError``.
    """
    _check_index(index, size)
    position, last = index, size - 1
    head = leaf_hash
    for sibling in proof:
        if last == 0:
            return False
        if position & 1 or position == last:
            head = node_hash(sibling, head)
            while position and not position & 1:
                position >>= 1
                last >>= 1
        else:
            head = node_hash(head, sibling)
        position >>= 1
        last >>= 1
    return last == 0 and head == root


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The hashes proving that the tree over ``leaf_hashes[:old_size]`` is a prefix of this one.

    RFC 9162 section 2.1.4.1 (SUBPROOF), descended iteratively. Empty when there is nothing to
    prove: the old tree is empty or is the whole tree.
    """
    new_size = len(leaf_hashes)
    _check_sizes(old_size, new_size)
    if old_size in (0, new_size):
        return []
    outer: list[bytes] = []
    low, high = 0, new_size
    whole_old_tree_known = True
    while high != old_size:
        middle = low + _split(high - low)
        if old_size <= middle:
            outer.append(root(leaf_hashes[middle:high]))
            high = middle
        else:
            outer.append(root(leaf_hashes[low:middle]))
            low = middle
            whole_old_tree_known = False
    inner = [] if whole_old_tree_known else [root(leaf_hashes[low:high])]
    return inner + outer[::-1]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the log with ``old_root`` is a prefix of the one with ``new_root``.

    RFC 9162 section 2.1.4.2. This is what stops a log operator from rewriting history behind
    a checkpoint already handed out. A malformed or forged proof gives False; sizes that
    cannot describe a prefix raise ``InputError``. Unlike RFC 9162, which leaves size 0 out,
    an empty old log is accepted only with the empty-tree root.
    """
    _check_sizes(old_size, new_size)
    if old_size == 0:
        new_root_possible = new_size > 0 or new_root == EMPTY_ROOT
        return not proof and old_root == EMPTY_ROOT and new_root_possible
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = [old_root, *proof] if _is_power_of_two(old_size) else list(proof)
    position, last = old_size - 1, new_size - 1
    while position & 1:
        position >>= 1
        last >>= 1
    old_head = new_head = path[0]
    for sibling in path[1:]:
        if last == 0:
            return False
        if position & 1 or position == last:
            old_head = node_hash(sibling, old_head)
            new_head = node_hash(sibling, new_head)
            while position and not position & 1:
                position >>= 1
                last >>= 1
        else:
            new_head = node_hash(new_head, sibling)
        position >>= 1
        last >>= 1
    return last == 0 and old_head == old_root and new_head == new_root


class SubtreeCache:
    """Inclusion proofs in about ``chunk + log n`` leaf reads instead of all ``n``.

    A proof is made of subtree roots. Every complete, aligned subtree of ``chunk`` leaves or
    more never changes once its leaves exist (the log only grows), so its root is kept here
    once computed; the few leaves a proof needs below that size, and the short ragged right
    edge, are read through ``load(low, high)`` (the leaf hashes of entries ``low..high-1``).
    The first proof over a large log reads and hashes the log once to fill the cache; later
    ones read one chunk. ``load`` must be exactly the log's leaf hashes: a proof is still
    checked against the signed checkpoint, so a wrong cache can only fail verification.
    """

    def __init__(self, load: Callable[[int, int], Sequence[bytes]], chunk: int = 256) -> None:
        if not _is_power_of_two(chunk):
            raise ValueError("the chunk is a power of two")
        self._load, self._chunk = load, chunk
        self._roots: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The same path as :func:`inclusion_proof` over the log's first ``size`` leaves."""
        _check_index(index, size)
        path: list[bytes] = []
        low, high = 0, size
        while high - low > 1:
            middle = low + _split(high - low)
            if index < middle:
                path.append(self.root(middle, high))
                high = middle
            else:
                path.append(self.root(low, middle))
                low = middle
        path.reverse()
        return path

    def root(self, low: int, high: int) -> bytes:
        """The root over leaves ``low..high-1`` of a subtree of the log."""
        width = high - low
        if width >= self._chunk and _is_power_of_two(width) and low % width == 0:
            with self._lock:
                known = self._roots.get((low, width))
            return known if known is not None else self._fill(low, width)
        if width <= self._chunk:
            return root(self._load(low, high))
        middle = low + _split(width)
        return node_hash(self.root(low, middle), self.root(middle, high))

    def _fill(self, low: int, width: int) -> bytes:
        """Read the subtree's leaves once, keep the roots of its chunks and of every complete
        subtree above them, and return its root."""
        leaves = self._load(low, low + width)
        level = [root(leaves[i : i + self._chunk]) for i in range(0, width, self._chunk)]
        found = {(low + i * self._chunk, self._chunk): h for i, h in enumerate(level)}
        step = self._chunk
        while len(level) > 1:
            level = _parent_level(level)
            step *= 2
            found.update({(low + i * step, step): h for i, h in enumerate(level)})
        with self._lock:
            self._roots.update(found)
        return level[0]
