"""The consent ledger: append-only events; a subject's current choices are the latest event
per choice, always.

A choice key names what it is about: ``purpose:<data use>``, ``recipient:<name>``,
``channel:<email|sms|phone|post>``, ``show:<category>`` (a field the person shows to others),
``policy:<version>`` (express consent to a newer policy), ``cookies:<category>`` (the
website's cookie banner, see :mod:`pledge.store.receipts`) and ``stop:all`` (no
correspondence at all). ``consent_state`` holds the latest event per key, written in the
same transaction as the event, so reading current choices costs one indexed query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from pledge.errors import InputError
from pledge.policy import NO_CHOICES, Choices, CompiledPolicy
from pledge.policy.cookies import offered_categories
from pledge.policy.loader import suggest
from pledge.policy.taxonomy import covers
from pledge.store import driver
from pledge.store.schema import consent_events, consent_state

STOP_ALL = "stop:all"
NEVER_CHOSE = -1  # the latest consent event's number for a subject with none (they start at 0)
PREFIXES = ("purpose", "recipient", "channel", "show", "policy", "cookies", "stop")


@dataclass(frozen=True)
class ConsentEvent:
    seq: int
    choice: str
    granted: bool
    source: str
    policy_version: str
    at: dt.datetime


def known_choices(policy: CompiledPolicy) -> dict[str, Iterable[str]]:
    """Every choice the policy offers, as the names under each kind (prefix) of choice."""
    p = policy.policy
    return {
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
        "cookies": offered_categories(p),
        "stop": ("all",),
    }


def normalise(policy: CompiledPolicy, choice: str) -> str:
    """Check a choice key against the policy; a bare purpose key means ``purpose:<key>``."""
    prefix, sep, name = choice.partition(":")
    if not sep:
        prefix, name = "purpose", choice
    known = known_choices(policy)
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
    """Record one subject's events (keys already :func:`normalise`-d)."""
    events = [(c, bool(g)) for c, g in choices]
    append_many(connection, [(subject, c, g, source) for c, g in events], version=version, at=at)
    return events


def append_many(
    connection: Connection,
    events: Sequence[tuple[str, str, bool, str]],
    *,
    version: str,
    at: dt.datetime,
    fresh: set[str] | None = None,
) -> None:
    """Record (subject, choice, granted, source) events in order, and make each subject's
    latest event per choice its current state. The caller holds the subjects' row locks, so
    sequence numbers never race; ``fresh`` subjects have no events yet."""
    if not events:
        return
    known = list({s for s, *_ in events} - (fresh or set()))
    next_seq: dict[str, int] = dict.fromkeys({s for s, *_ in events}, 0)
    if known:
        for subject, last in connection.execute(
            select(consent_events.c.subject_id, func.max(consent_events.c.seq))
            .where(consent_events.c.subject_id.in_(known))
            .group_by(consent_events.c.subject_id)
        ):
            next_seq[subject] = last + 1
    rows = []
    for subject, choice, granted, source in events:
        rows.append(
            {
                "subject_id": subject,
                "seq": next_seq[subject],
                "choice": choice,
                "granted": bool(granted),
                "source": source,
                "policy_version": version,
                "at": at,
            }
        )
        next_seq[subject] += 1
    connection.execute(insert(consent_events), rows)
    latest = {(r["subject_id"], r["choice"]): r for r in rows}
    for subject in {s for s, _ in latest}:
        connection.execute(
            delete(consent_state).where(
                consent_state.c.subject_id == subject,
                consent_state.c.choice.in_([c for s, c in latest if s == subject]),
            )
        )
    connection.execute(
        insert(consent_state),
        [
            {"subject_id": s, "choice": c, "granted": r["granted"], "seq": r["seq"]}
            for (s, c), r in latest.items()
        ],
    )


def state_of(connection: Connection, subject: str, choice: str) -> bool | None:
    """Whether ``choice`` (a normalised key) is granted now; None when never given."""
    granted: bool | None = connection.execute(
        select(consent_state.c.granted).where(
            consent_state.c.subject_id == subject, consent_state.c.choice == choice
        )
    ).scalar()
    return granted


def current(connection: Connection, subject: str) -> Choices:
    return current_many(connection, [subject])[subject]


_CURRENT_MANY = (
    "SELECT subject_id, choice, granted, seq FROM consent_state WHERE subject_id IN ({ids})"
)


def current_many(connection: Connection, subject_ids: list[str]) -> dict[str, Choices]:
    """Current choices of each subject (empty Choices for one that never chose)."""
    return current_and_latest(connection, subject_ids)[0]


def current_and_latest(
    connection: Connection, subject_ids: list[str]
) -> tuple[dict[str, Choices], dict[str, int]]:
    """Current choices of each subject, and the number of its latest consent event (-1 when
    it never chose): what tells a later look that the choices moved on."""
    state: dict[str, list[tuple[str, bool]]] = {s: [] for s in subject_ids}
    latest = dict.fromkeys(subject_ids, NEVER_CHOSE)
    for subject, choice, granted, seq in driver.select_in(connection, _CURRENT_MANY, subject_ids):
        state[subject].append((choice, bool(granted)))
        latest[subject] = max(latest[subject], seq)
    return {subject: _choices(rows) for subject, rows in state.items()}, latest


def _choices(rows: list[tuple[str, bool]]) -> Choices:
    if not rows:
        return NO_CHOICES
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
