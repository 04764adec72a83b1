"""What the store holds, counted: values per collection point, field, category and policy
version, and the people behind them. Nothing is decrypted and no one is named, so these counts
need no purpose and leave no audit entry; they answer "what would this policy change touch?"
before the change is published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from pledge.store.schema import personal_values, subjects

_ACTIVE = subjects.c.status == "active"


@dataclass(frozen=True, slots=True)
class Holding:
    """``values`` values of ``point.field`` (category ``category``) collected under
    ``version``, from active subjects."""

    point: str
    field: str
    category: str
    version: str
    values: int


def holdings(connection: Connection) -> list[Holding]:
    query = (
        select(
            personal_values.c.point,
            personal_values.c.field,
            personal_values.c.category,
            personal_values.c.policy_version,
            func.count(),
        )
        .join(subjects, subjects.c.subject_id == personal_values.c.subject_id)
        .where(_ACTIVE)
        .group_by(
            personal_values.c.point,
            personal_values.c.field,
            personal_values.c.category,
            personal_values.c.policy_version,
        )
    )
    return [Holding(*row) for row in connection.execute(query)]


def people(connection: Connection, points: Iterable[str] | None) -> int:
    """Active subjects holding a value from any of ``points`` (every active subject: None)."""
    if points is None:
        query = select(func.count()).select_from(subjects).where(_ACTIVE)
    else:
        wanted = sorted(set(points))
        if not wanted:
            return 0
        # One index probe per subject (the primary key starts with the subject): cheaper
        # than a DISTINCT over every value at those points.
        held = (
            select(personal_values.c.subject_id)
            .where(
                personal_values.c.subject_id == subjects.c.subject_id,
                personal_values.c.point.in_(wanted),
            )
            .exists()
        )
        query = select(func.count()).select_from(subjects).where(_ACTIVE, held)
    count: int = connection.execute(query).scalar_one()
    return count


def holders(
    connection: Connection, points: Iterable[str] | None, after: str, limit: int
) -> list[str]:
    """Active subjects holding a value from any of ``points`` (every active subject: None),
    in id order after ``after``: one page of the people a policy change must be told of."""
    if points is None:
        query = select(subjects.c.subject_id).where(_ACTIVE, subjects.c.subject_id > after)
        column = subjects.c.subject_id
    else:
        query = (
            select(personal_values.c.subject_id)
            .distinct()
            .join(subjects, subjects.c.subject_id == personal_values.c.subject_id)
            .where(
                _ACTIVE,
                personal_values.c.point.in_(sorted(set(points))),
                personal_values.c.subject_id > after,
            )
        )
        column = personal_values.c.subject_id
    return list(connection.execute(query.order_by(column).limit(limit)).scalars())


def points_held(connection: Connection, subject_ids: Iterable[str]) -> dict[str, set[str]]:
    """The points each of ``subject_ids`` gave values at (none named: points only)."""
    wanted = list(subject_ids)
    found: dict[str, set[str]] = {s: set() for s in wanted}
    if wanted:
        query = (
            select(personal_values.c.subject_id, personal_values.c.point)
            .distinct()
            .where(personal_values.c.subject_id.in_(wanted))
        )
        for subject, point in connection.execute(query):
            found[subject].add(point)
    return found
