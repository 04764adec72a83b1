"""Everything the gate needs about a chunk of people, in three queries: their key, the
encrypted rows that could address them, and their current choices.

Nothing is decrypted here. The gate decides first and opens an address only for a message
the policy allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from pledge.policy import NO_CHOICES, Choices
from pledge.store.consents import current_many
from pledge.store.schema import personal_values, subjects

EMAIL = "user.contact.email"
NAME = "user.name"


@dataclass(frozen=True, slots=True)
class Value:
    """One stored field, still encrypted."""

    point: str
    field: str
    category: str
    ciphertext: bytes
    policy_version: str
    collected_at: dt.datetime


@dataclass(slots=True)
class Person:
    subject: str
    wrapped_key: bytes | None
    values: list[Value] = field(default_factory=list)
    choices: Choices = NO_CHOICES

    def best(self, category: str, points: frozenset[str] | None) -> Value | None:
        """The newest value of ``category``, preferring one collected at ``points``: the
        address a person gave for this purpose, not one they gave for another."""
        found = [v for v in self.values if v.category == category]
        preferred = [v for v in found if points is None or v.point in points]
        pool = preferred or found
        return max(pool, key=lambda v: v.collected_at) if pool else None


def load(connection: Connection, subject_ids: Sequence[str]) -> dict[str, Person]:
    """The people among ``subject_ids`` who are still active, by subject id."""
    if not subject_ids:
        return {}
    ids = list(subject_ids)
    people = {
        row.subject_id: Person(row.subject_id, row.wrapped_key)
        for row in connection.execute(
            select(subjects.c.subject_id, subjects.c.wrapped_key).where(
                subjects.c.subject_id.in_(ids), subjects.c.status == "active"
            )
        )
    }
    rows = connection.execute(
        select(
            personal_values.c.subject_id,
            personal_values.c.point,
            personal_values.c.field,
            personal_values.c.category,
            personal_values.c.ciphertext,
            personal_values.c.policy_version,
            personal_values.c.collected_at,
        ).where(
            personal_values.c.subject_id.in_(ids),
            personal_values.c.category.in_((EMAIL, NAME)),
        )
    )
    for row in rows:
        person = people.get(row.subject_id)
        if person is not None:
            person.values.append(Value(*row[1:]))
    choices = current_many(connection, list(people))
    for subject, person in people.items():
        person.choices = choices[subject]
    return people
