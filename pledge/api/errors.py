"""Errors only the HTTP service raises, in the same hierarchy as :mod:`pledge.errors`, so the
one problem handler renders them like any other. Each may add response headers the HTTP
specs ask for (``WWW-Authenticate`` on 401, ``Retry-After`` on 429).

    PledgeError
    ├── ApiError                  an error with HTTP headers of its own
    │   ├── Unauthenticated       no API key, a malformed one, an unknown or revoked one
    │   ├── ScopeForbidden        a valid key whose scope may not call this endpoint
    │   ├── BodyTooLarge          the request body is over the configured limit
    │   └── RateLimited           the key used up its tokens; try again after a while
    └── Unhealthy                 the database does not answer the health check
"""

from __future__ import annotations

import math

from pledge.errors import PledgeError


class ApiError(PledgeError):
    """A PledgeError that carries the HTTP headers its status calls for."""

    headers: dict[str, str] = {}  # noqa: RUF012 (overridden per instance, never mutated)


class Unauthenticated(ApiError):
    """The request has no usable API key. The message never says which part was wrong."""

    code = "unauthenticated"
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="pledge"'}  # noqa: RUF012


class ScopeForbidden(ApiError):
    """The key is valid, but keys of its scope do not call this endpoint."""

    code = "forbidden"
    status = 403


class BodyTooLarge(ApiError):
    code = "body_too_large"
    status = 413


class RateLimited(ApiError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            f"this API key made too many requests; retry in {seconds} s",
            retry_after=seconds,
        )
        self.headers = {"Retry-After": str(seconds)}


class Unhealthy(PledgeError):
    code = "unhealthy"
    status = 503
