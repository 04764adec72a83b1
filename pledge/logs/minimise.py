"""Turning a parsed hit into the least the policy lets us keep.

Each element is kept only when the policy's ``web_logs.keep`` names it, and then only in its
smallest useful form: an address cut to its network (/24, /48) or replaced by a keyed hash,
a user agent cut to browser family and major version, a page without its query string and
without path segments that look like an email address or a token, a referrer cut to its
host. Nothing on a kept row can tie a visit to an email address.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ua_parser import parse_user_agent

from pledge.logs.age import years
from pledge.logs.parse import Hit
from pledge.policy.model import IpHandling, LogElement, WebLogs

_IPV4 = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_TOKENISH = re.compile(r"[A-Za-z0-9_\-=.~]{16,}")
_HAS_DIGIT = re.compile(r"\d")
_MAX_PAGE = 512
_CACHE_LIMIT = 50_000
# Second-level labels under which a registrable domain has three labels (example.co.uk).
_SHARED_SECOND_LEVEL = frozenset(("co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"))


#: One minimised request: (day, hour, visitor, page, referrer, browser, isp, status), each
#: None where the policy keeps nothing. Identical visits are counted together before storing.
Visit = tuple[str, int, str | None, str | None, str | None, str | None, str | None, int]


def truncate_ip(text: str) -> str | None:
    """``203.0.113.0/24`` for ``203.0.113.9``, the /48 for IPv6; None for a host name."""
    if _IPV4.fullmatch(text):
        head, _, last = text.rpartition(".")
        if all(int(part) <= 255 for part in (*head.split("."), last)):
            return f"{head}.0/24"
        return None
    try:
        address = ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return truncate_ip(str(address.ipv4_mapped))
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, bits), strict=False))


def isp_domain(host: str) -> str | None:
    """``example.net`` for ``dsl-42.city.example.net``: the ISP, not the line. None for an
    address (Pledge looks nothing up)."""
    host = host.rstrip(".").lower()
    if "." not in host or ":" in host or _IPV4.fullmatch(host):
        return None
    labels = host.split(".")
    shared = len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SHARED_SECOND_LEVEL
    keep = 3 if shared else 2
    return ".".join(labels[-keep:])


def browser(agent: str) -> str | None:
    """``Firefox 126``: family and major version, never the rest of the user agent."""
    found = parse_user_agent(agent)
    if found is None or found.family == "Other":
        return "Other"
    return f"{found.family} {found.major}" if found.major else found.family


def _segment(segment: str) -> str:
    lowered = segment.lower()
    if "@" in segment or "%40" in lowered:
        return ":email"
    if _TOKENISH.fullmatch(segment) and _HAS_DIGIT.search(segment):
        return ":token"
    return segment


def page(target: str) -> str | None:
    """The path without query or fragment; segments that look like an email or token go."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    return "/".join(_segment(s) for s in path.split("/"))[:_MAX_PAGE]


def referrer_host(referrer: str) -> str | None:
    try:
        host = urlsplit(referrer).hostname
    except ValueError:
        return None
    return host[:255] if host else None


class Minimiser:
    """Apply one policy's ``web_logs`` to hits; ``hasher`` is the store's keyed hash, and
    ``minimum_age`` the policy's minimum age at the web-log point (None: no minimum): a hit
    stating a younger age is dropped whole."""

    def __init__(
        self, rules: WebLogs, hasher: Callable[[str], str], *, minimum_age: int | None
    ) -> None:
        self.minimum_age = minimum_age
        keep = rules.keep
        self.visitor: Callable[[str], str | None] = _nothing
        if LogElement.ip_address in keep:
            hashing = rules.ip_addresses is IpHandling.hash
            self.visitor = hasher if hashing else _network_or_isp
        # Pages, referrers and user agents repeat: each distinct one is worked out once
        # (bounded caches, so memory stays flat however long the log).
        self._browser = _cached(browser) if LogElement.browser in keep else _nothing
        self._page = _cached(page) if LogElement.page in keep else _nothing
        self._referrer = _cached(referrer_host) if LogElement.referrer in keep else _nothing
        self._isp = LogElement.isp in keep

    def __call__(self, hit: Hit) -> Visit | None:
        """The visit to keep; None for a visit from someone younger than the minimum age."""
        host, day, hour, target, status, referrer, agent, stated = hit
        if stated is not None and self.minimum_age is not None:
            age = years(stated, day)
            if age is not None and age < self.minimum_age:
                return None
        return (
            day,
            hour,
            self.visitor(host),
            self._page(target) if target else None,
            self._referrer(referrer) if referrer else None,
            self._browser(agent) if agent else None,
            isp_domain(host) if self._isp else None,
            status,
        )


def _cached(compute: Callable[[str], str | None]) -> Callable[[str], str | None]:
    return functools.lru_cache(maxsize=_CACHE_LIMIT)(compute)


def _nothing(_value: str) -> None:
    return None


def _network_or_isp(host: str) -> str | None:
    """An address's network; for a host name (logged with lookups on) its ISP's domain."""
    return truncate_ip(host) or isp_domain(host)
