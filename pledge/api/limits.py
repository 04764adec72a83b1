"""Limits that keep one caller from starving the others: request body size, a per-key rate,
and a rate of failures (bad keys, bad tokens) per client address and per key id.

Each limit is a token bucket per name, in this process's memory: no shared store to run,
nothing to fail. With several workers or nodes each keeps its own buckets, so the effective
limit is the configured one times the number of processes; set it accordingly. The buckets
kept are capped (least recently used dropped first), since an attacker chooses the names.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge.api.problems import from_pledge_error
from pledge.errors import BodyTooLarge, RateLimited


class TokenBuckets:
    """``burst`` requests at once, refilled at ``rate`` a second, for each key separately."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
    ) -> None:
        self.rate, self.burst, self.clock, self.max_keys = rate, burst, clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend a token of ``key``'s: 0 if there was one, else the seconds until there is."""
        return self._use(key, spend=True)

    def wait(self, key: str) -> float:
        """The seconds until ``key`` has a token (0 if it has one now), spending none."""
        return self._use(key, spend=False)

    def _use(self, key: str, *, spend: bool) -> float:
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            if spend and tokens >= 1:
                tokens -= 1
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait


class Failures:
    """Failed credential checks, limited per client address and per key id: guessing keys or
    tokens costs the attacker time, while a correct credential is never slowed down."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self._buckets = TokenBuckets(per_minute / 60, burst)

    def check(self, *names: str) -> None:
        """RateLimited if any of ``names`` has used up its failures."""
        wait = max(self._buckets.wait(name) for name in names)
        if wait:
            raise RateLimited(wait, "too many failed attempts from here")

    def fail(self, *names: str) -> None:
        for name in names:
            self._buckets.take(name)


class SignInLimits:
    """Sign-in links asked for, per email address and per client address, each hour.

    Counted for every address asked about, held or not, and refused the same way, so the
    limit tells an attacker nothing about who has an account. Addresses are counted under
    the store's blind-index token of them, never in clear.
    """

    def __init__(self, per_address: int, per_client: int) -> None:
        self._addresses = TokenBuckets(per_address / 3600, per_address)
        self._clients = TokenBuckets(per_client / 3600, per_client)

    def take(self, address_token: str, client: str) -> None:
        """Spend one of each; RateLimited (nothing spent) when either has none left."""
        wait = max(self._addresses.wait(address_token), self._clients.wait(client))
        if wait:
            raise RateLimited(
                wait, "too many sign-in links were asked for from here or for this address"
            )
        self._addresses.take(address_token)
        self._clients.take(client)


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
