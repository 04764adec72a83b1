"""Who a campaign goes to, read in chunks so memory stays flat however many people it is.

A segment is ``all`` (every active subject) or ``point:NAME`` (the active subjects whose data
was collected at collection point NAME, e.g. the newsletter sign-up). Deactivated and erased
people are in no segment. Chunks are read by keyset (``subject_id > last``) in separate short
queries, so no cursor stays open across the writes that gate each chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, Select, func, select

from pledge.errors import InputError
from pledge.policy import CompiledPolicy
from pledge.policy.loader import suggest
from pledge.store.database import reading
from pledge.store.schema import personal_values, subjects

ACTIVE = "active"


@dataclass(frozen=True)
class Segment:
    point: str | None = None

    @classmethod
    def parse(cls, text: str, policy: CompiledPolicy) -> Segment:
        if text == "all":
            return cls()
        kind, sep, name = text.partition(":")
        if kind != "point" or not sep:
            raise InputError(
                f"unknown segment '{text}'; use 'all' or 'point:<collection point>'",
                segment=text,
            )
        points = policy.policy.collection_points
        if name not in points:
            raise InputError(
                f"segment '{text}': the policy has no collection point '{name}'"
                f"{suggest(name, points)}",
                segment=text,
            )
        return cls(name)

    def __str__(self) -> str:
        return "all" if self.point is None else f"point:{self.point}"

    def _ids(self) -> Select[tuple[str]]:
        if self.point is None:
            return select(subjects.c.subject_id).where(subjects.c.status == ACTIVE)
        return (
            select(personal_values.c.subject_id)
            .distinct()
            .join(subjects, subjects.c.subject_id == personal_values.c.subject_id)
            .where(personal_values.c.point == self.point, subjects.c.status == ACTIVE)
        )

    def count(self, engine: Engine) -> int:
        with reading(engine) as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(self._ids().subquery())
                ).scalar_one()
            )

    def chunks(self, engine: Engine, size: int) -> Iterator[list[str]]:
        query = self._ids()
        column = subjects.c.subject_id if self.point is None else personal_values.c.subject_id
        last = ""
        while True:
            with reading(engine) as connection:
                ids: list[str] = list(
                    connection.scalars(query.where(column > last).order_by(column).limit(size))
                )
            if not ids:
                return
            yield ids
            last = ids[-1]
