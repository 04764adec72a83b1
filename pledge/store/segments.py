"""Who a campaign goes to, read in chunks so memory stays flat however many people it is.

A segment is every active subject (``point`` None) or the active subjects whose data was
collected at one collection point (e.g. the newsletter sign-up); deactivated and erased people
are in none. Chunks are read by keyset (``subject_id > last``) in separate short queries, so
no cursor stays open across the writes that gate each chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select

from pledge.store.database import reading
from pledge.store.schema import personal_values, subjects

if TYPE_CHECKING:
    from pledge.store.vault import Vault

ACTIVE = "active"


def _ids(point: str | None) -> Select[tuple[str]]:
    if point is None:
        return select(subjects.c.subject_id).where(subjects.c.status == ACTIVE)
    return (
        select(personal_values.c.subject_id)
        .distinct()
        .join(subjects, subjects.c.subject_id == personal_values.c.subject_id)
        .where(personal_values.c.point == point, subjects.c.status == ACTIVE)
    )


def count(vault: Vault, point: str | None) -> int:
    """How many people the segment holds now."""
    with reading(vault.engine) as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(_ids(point).subquery())
            ).scalar_one()
        )


def chunks(vault: Vault, point: str | None, size: int) -> Iterator[list[str]]:
    """The segment's subject ids, ``size`` at a time, in id order."""
    query = _ids(point)
    column = subjects.c.subject_id if point is None else personal_values.c.subject_id
    last = ""
    while True:
        with reading(vault.engine) as connection:
            ids: list[str] = list(
                connection.scalars(query.where(column > last).order_by(column).limit(size))
            )
        if not ids:
            return
        yield ids
        last = ids[-1]
