"""Limits that keep one caller from starving the others: request body size and a per-key rate.

The rate limit is a token bucket per API key, in this process's memory: no shared store to
run, nothing to fail. With several workers or nodes each keeps its own buckets, so the
effective limit is the configured one times the number of processes; set it accordingly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge.api.problems import from_pledge_error
from pledge.errors import BodyTooLarge


class TokenBuckets:
    """``burst`` requests at once, refilled at ``rate`` a second, for each key separately."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend a token of ``key``'s: 0 if there was one, else the seconds until there is."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"the request body is over the limit of {limit} bytes; send less, or split a bulk "
        "request into smaller ones",
        limit=limit,
    )


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with a 413 problem.

    A declared ``Content-Length`` over the limit is refused before the app runs. A body
    without one (chunked) is counted as it arrives; going over raises an HTTPException
    from ``receive``, which FastAPI lets through its body parsing to the problem handler.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await from_pledge_error(scope, _too_large(self.limit))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, _too_large(self.limit).message)
            return message

        await self.app(scope, counted, send)
