"""Message frequency limits: at most N messages of one kind to one person per period.

A policy promises "a one-time confirmation" or "infrequent alerts"; ``communications.C.frequency``
states it as a number, and the email gate refuses the message that would exceed it. Pure: the
gate counts what was already queued for each person since :func:`since` and asks
:func:`exceeded`.
"""

from __future__ import annotations

import datetime as dt

from pledge.policy.decision import Reason
from pledge.policy.model import Communication


def since(spec: Communication, now: dt.datetime) -> dt.datetime | None:
    """The start of the period the limit counts over (None: the message has no limit)."""
    if spec.frequency is None:
        return None
    return now - dt.timedelta(days=spec.frequency.days)


def exceeded(name: str, spec: Communication, already: int) -> Reason | None:
    """Why one more message of ``name`` to a person already sent ``already`` in the period
    would break the limit; None when it would not."""
    limit = spec.frequency
    if limit is None or already < limit.max:
        return None
    times = "once" if limit.max == 1 else f"{limit.max} times"
    return Reason(
        "frequency_limit",
        f"'{name}' goes to a person at most {times} in {limit.days} days, and this one "
        "was sent that often already",
        f"communications.{name}.frequency",
    )
