"""The vocabulary a policy speaks: data categories, data uses (purposes) and data subjects.

Keys follow fideslang's default taxonomy, read from the ``fideslang`` package itself so that a
Pledge data map and a Fides data map name things alike. A policy may add its own keys under an
existing parent (``user.error_report`` under ``user``).

Keys are dotted paths and the taxonomy is a tree: ``user.contact`` covers ``user.contact.email``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

Kind = Literal["data_category", "data_use", "data_subject"]
KINDS: tuple[Kind, ...] = ("data_category", "data_use", "data_subject")


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    name: str
    description: str
    parent: str | None


@dataclass(frozen=True)
class Taxonomy:
    """One tree per kind, keyed by dotted key."""

    terms: dict[Kind, dict[str, Term]] = field(default_factory=dict)

    def has(self, kind: Kind, key: str) -> bool:
        return key in self.terms[kind]

    def keys(self, kind: Kind) -> list[str]:
        return list(self.terms[kind])

    def extended(self, kind: Kind, extra: Iterable[Term]) -> Taxonomy:
        merged = dict(self.terms)
        merged[kind] = {**self.terms[kind], **{t.key: t for t in extra}}
        return Taxonomy(merged)


def ancestors(key: str) -> Iterator[str]:
    """``a.b.c`` yields ``a.b.c``, ``a.b``, ``a``: the key and everything that covers it."""
    while True:
        yield key
        dot = key.rfind(".")
        if dot < 0:
            return
        key = key[:dot]


def covers(general: str, specific: str) -> bool:
    """True when ``general`` is ``specific`` or one of its ancestors."""
    return specific == general or specific.startswith(general + ".")


@cache
def default_taxonomy() -> Taxonomy:
    """fideslang's default taxonomy, loaded once per process."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    terms: dict[Kind, dict[str, Term]] = {}
    for kind in KINDS:
        terms[kind] = {
            item.fides_key: Term(
                key=item.fides_key,
                name=item.name or item.fides_key,
                description=item.description or "",
                parent=getattr(item, "parent_key", None),
            )
            for item in getattr(DEFAULT_TAXONOMY, kind)
        }
    return Taxonomy(terms)
