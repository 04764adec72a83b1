"""A cache that cannot grow without bound, for caches keyed by what callers send.

The decision caches are keyed by actors, purposes and category lists that come from requests;
a caller who varies them (a new ordering, a made-up purpose) would otherwise add an entry per
request for ever. When full, the oldest entry goes: a lookup costs what a dict lookup costs,
with no bookkeeping on hits, and an entry evicted while still useful is simply recomputed.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(dict[K, V]):
    """A dict holding at most ``limit`` entries; :meth:`put` evicts the oldest when full."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: K, value: V) -> V:
        """Store ``value`` under ``key`` and return it."""
        while len(self) >= self.limit:
            try:
                self.pop(next(iter(self)), None)
            except (StopIteration, RuntimeError):  # emptied or resized by another thread
                break
        self[key] = value
        return value
