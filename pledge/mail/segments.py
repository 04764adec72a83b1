"""Who a campaign goes to, as a command or the API names it: ``all`` (every active subject)
or ``point:NAME`` (the active subjects whose data was collected at collection point NAME, e.g.
the newsletter sign-up). The store reads its people (:mod:`pledge.store.segments`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pledge.errors import InputError
from pledge.policy import CompiledPolicy
from pledge.policy.loader import suggest
from pledge.store import segments as people
from pledge.store.vault import Vault


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

    def count(self, vault: Vault) -> int:
        return people.count(vault, self.point)

    def chunks(self, vault: Vault, size: int) -> Iterator[list[str]]:
        return people.chunks(vault, self.point, size)
