"""The value of Pledge's consent cookie, read by the middleware and written by the banner.

``<receipt id>:<allowed>:<refused>``, each list of categories joined by ``+``:
``9f86d081884c7d659a2feaa0c55ad015:analytics:preferences+advertising``. Every character is
one RFC 6265 allows in a cookie value without quoting. The banner's JavaScript reads the same
format (``pledge/web/banner/banner.js``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pledge.policy.cookies import CONSENT_COOKIE

_VALUE = re.compile(r"^([0-9a-f]{32}):([a-z+]*):([a-z+]*)$")


@dataclass(frozen=True, slots=True)
class ConsentCookie:
    receipt: str
    allowed: frozenset[str]
    refused: frozenset[str]

    def value(self) -> str:
        return f"{self.receipt}:{'+'.join(sorted(self.allowed))}:{'+'.join(sorted(self.refused))}"


def parse(value: str) -> ConsentCookie | None:
    """The cookie's content, or None for anything malformed (which allows nothing)."""
    found = _VALUE.match(value)
    if found is None:
        return None
    receipt, allowed, refused = found.groups()
    return ConsentCookie(
        receipt,
        frozenset(allowed.split("+")) - {""},
        frozenset(refused.split("+")) - {""},
    )


def from_header(cookie_header: str) -> ConsentCookie | None:
    """The consent cookie among a request's ``Cookie`` header, if it is there and well-formed."""
    start = cookie_header.find(CONSENT_COOKIE + "=")
    while start > 0 and cookie_header[start - 1] not in "; ":
        start = cookie_header.find(CONSENT_COOKIE + "=", start + 1)
    if start < 0:
        return None
    start += len(CONSENT_COOKIE) + 1
    end = cookie_header.find(";", start)
    return parse(cookie_header[start : end if end >= 0 else None].strip())
