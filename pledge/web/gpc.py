"""Browser privacy signals as HTTP carries them, and ``/.well-known/gpc.json``.

Global Privacy Control is ``Sec-GPC: 1``; a request may carry the header more than once (or
proxies may fold copies into one comma-separated value), and the signal is on when any copy
is ``1``. Do Not Track is ``DNT: 1``. What each signal turns off is the policy's to say
(:class:`pledge.policy.cookies.CookieRegistry`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any


def signal_on(values: Iterable[str]) -> bool:
    """Whether any copy of a signal header (folded or not) is exactly ``1``."""
    return any(part.strip() == "1" for value in values for part in value.split(","))


def gpc_document(policy_effective: dt.date) -> dict[str, Any]:
    """The body of ``/.well-known/gpc.json``: this site honours GPC, since the policy's
    effective date (the GPC specification's ``lastUpdate``)."""
    return {"gpc": True, "lastUpdate": policy_effective.isoformat()}
