"""The consent ledger: append-only events; a subject's current choices are the latest event
per choice, always.

A choice key names what it is about: ``purpose:<data use>``, ``recipient:<name>``,
``channel:<email|sms|phone|post>``, ``show:<category>`` (a field the person shows to others),
``policy:<version>`` (express consent to a newer policy) and ``stop:all`` (no correspondence
at all). ``consent_state`` holds the latest event per key, written in the same transaction as
the event, so reading current choices costs one indexed query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from pledge.errors import InputError
from pledge.policy import Choices, CompiledPolicy
from pledge.policy.loader import suggest
from pledge.policy.taxonomy import covers
from pledge.store.schema import consent_events, consent_state

STOP_ALL = "stop:all"
PREFIXES = ("purpose", "recipient", "channel", "show", "policy", "stop")


@dataclass(frozen=True)
class ConsentEvent:
    seq: int
    choice: str
    granted: bool
    source: str
    policy_version: str
    at: dt.datetime


def normalise(policy: CompiledPolicy, choice: str) -> str:
    """Check a choice key against the policy; a bare purpose key means ``purpose:<key>``."""
    prefix, sep, name = choice.partition(":")
    if not sep:
        prefix, name = "purpose", choice
    p = policy.policy
    known: dict[str, Iterable[str]] = {
        "purpose": p.purposes,
        "recipient": p.recipients,
        "channel": ("email", "sms", "phone", "post"),
        "show": {
            s.category
            for cp in p.collection_points.values()
            for s in cp.fields.values()
            if s.visibility_choice
        },
        "policy": [policy.version, *policy.history],
        "stop": ("all",),
    }
    if prefix not in known:
        raise InputError(
            f"unknown kind of choice '{prefix}'{suggest(prefix, PREFIXES)}; "
            f"use one of {', '.join(p + ':' for p in PREFIXES)}",
            choice=choice,
        )
    names = list(known[prefix])
    if name not in names:
        raise InputError(
            f"the policy offers no choice '{prefix}:{name}'{suggest(name, names)}", choice=choice
        )
    return f"{prefix}:{name}"


def check_offered(policy: CompiledPolicy, point: str, choice: str) -> str:
    """A collection point records only the choices it offers on its form."""
    key = normalise(policy, choice)
    spec = policy.policy.collection_points[point]
    prefix, _, name = key.partition(":")
    offered = (prefix == "purpose" and any(covers(c, name) for c in spec.choices)) or (
        prefix == "show"
        and any(f.visibility_choice and f.category == name for f in spec.fields.values())
    )
    if not offered:
        raise InputError(
            f"collection point '{point}' does not offer the choice '{key}'", choice=choice
        )
    return key


def append(
    connection: Connection,
    subject: str,
    choices: Iterable[tuple[str, bool]],
    *,
    source: str,
    version: str,
    at: dt.datetime,
) -> list[tuple[str, bool]]:
    """Record events (keys already :func:`normalise`-d); the caller holds the subject's row
    lock, so sequence numbers never race."""
    events = [(c, bool(g)) for c, g in choices]
    if not events:
        return []
    last = connection.execute(
        select(func.max(consent_events.c.seq)).where(consent_events.c.subject_id == subject)
    ).scalar()
    seq = 0 if last is None else last + 1
    rows = [
        {
            "subject_id": subject,
            "seq": seq + i,
            "choice": c,
            "granted": g,
            "source": source,
            "policy_version": version,
            "at": at,
        }
        for i, (c, g) in enumerate(events)
    ]
    connection.execute(insert(consent_events), rows)
    latest = {row["choice"]: row for row in rows}
    connection.execute(
        delete(consent_state).where(
            consent_state.c.subject_id == subject, consent_state.c.choice.in_(list(latest))
        )
    )
    connection.execute(
        insert(consent_state),
        [
            {"subject_id": subject, "choice": c, "granted": r["granted"], "seq": r["seq"]}
            for c, r in latest.items()
        ],
    )
    return events


def current(connection: Connection, subject: str) -> Choices:
    rows = connection.execute(
        select(consent_state.c.choice, consent_state.c.granted).where(
            consent_state.c.subject_id == subject
        )
    ).all()
    granted = frozenset(c for c, g in rows if g and c != STOP_ALL)
    withdrawn = frozenset(c for c, g in rows if not g and c != STOP_ALL)
    stop_all = any(c == STOP_ALL and g for c, g in rows)
    return Choices(granted, withdrawn, stop_all)


def history(connection: Connection, subject: str) -> list[ConsentEvent]:
    return [
        ConsentEvent(r.seq, r.choice, r.granted, r.source, r.policy_version, r.at)
        for r in connection.execute(
            select(consent_events)
            .where(consent_events.c.subject_id == subject)
            .order_by(consent_events.c.seq)
        )
    ]
