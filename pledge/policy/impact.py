"""What a policy change would touch, before it is published.

Each material change of :func:`pledge.policy.diff.diff_policies` touches data collected at some
collection points (or everyone's, for a change to rights or notice); given counts of the values
held per point, field, category and version, :func:`impact` says how many values each change
touches, which points' people must be told, and which new uses would wait for consent (or for
the notice period to end), since data keeps the limits of the version it was collected under
until its person agrees otherwise or, where the policy says so, the notice period is over.
Pure: the counts come from the store, the people behind a set of points are counted there too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pledge.policy.diff import Change, PolicyDiff
from pledge.policy.model import Policy
from pledge.policy.taxonomy import covers


class Held(Protocol):
    """Counts of values held (see :class:`pledge.store.holdings.Holding`)."""

    @property
    def point(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def values(self) -> int: ...


# Changes that concern every person the store holds, whatever was collected from them.
_EVERYONE = {
    "right_removed",
    "response_time_longer",
    "notice_period_shorter",
    "older_limits_loosened",
    "message_class_changed",
    "message_purpose_changed",
    "ad_notice_removed",
}
# Changes that concern only visitors' browsers (the banner tells them), or data not yet held.
_NO_STORED_DATA = {"cookie_added", "cookie_category_changed", "cookie_lifetime_longer",
                   "cookie_provider_changed", "category_now_stored", "children_rules_removed",
                   "consent_age_lowered", "parental_consent_allowed"}  # fmt: skip


@dataclass(frozen=True)
class Touch:
    """What one material change reaches in the store."""

    change: Change
    points: frozenset[str] | None  # None: every person held
    values: int
    by_version: dict[str, int]
    waits_for_consent: bool  # older data follows it only with the person's express consent
    waits_for_notice: bool  # older data follows it once the notice period is over


def impact(old: Policy, new: Policy, diff: PolicyDiff, held: Sequence[Held]) -> list[Touch]:
    """One :class:`Touch` per material change in ``diff`` (from ``old`` to ``new``)."""
    keeps_limits = new.changes.material_change_needs_consent
    touches = []
    for change in diff.material:
        points, chosen = _reach(old, new, change, held)
        by_version: dict[str, int] = {}
        for h in chosen:
            by_version[h.version] = by_version.get(h.version, 0) + h.values
        waits = any(v != new.version for v in by_version) and _is_new_use(change)
        touches.append(
            Touch(
                change,
                points,
                sum(by_version.values()),
                dict(sorted(by_version.items())),
                waits_for_consent=waits and keeps_limits,
                waits_for_notice=waits and not keeps_limits,
            )
        )
    return touches


def _is_new_use(change: Change) -> bool:
    return change.kind in {
        "point_purpose_added",
        "grant_purpose_added",
        "grant_category_added",
        "recipient_added",
        "role_added",
        "basis_weakened",
        "condition_weakened",
        "recipient_kind_changed",
        "group_size_lowered",
        "field_category_changed",
        "field_purpose_added",
        "event_wait_dropped",
        "role_aggregates_dropped",
    }


def _reach(
    old: Policy, new: Policy, change: Change, held: Sequence[Held]
) -> tuple[frozenset[str] | None, list[Held]]:
    if change.kind in _EVERYONE:
        return None, list(held)
    if change.kind in _NO_STORED_DATA:
        return frozenset(), []
    path = (change.new_path or change.old_path or "").split(".")
    section, name = path[0], path[1] if len(path) > 1 else ""
    if section == "collection_points":
        if len(path) > 3 and path[2] == "fields":
            return frozenset({name}), [h for h in held if h.point == name and h.field == path[3]]
        return frozenset({name}), [h for h in held if h.point == name]
    if section in ("roles", "recipients"):
        grant = getattr(new, section).get(name) or getattr(old, section).get(name)
        if grant is None:
            return frozenset(), []
        chosen = [h for h in held if _in(h.category, grant.categories)]
        return frozenset(h.point for h in chosen), chosen
    if section == "purposes":
        purpose = ".".join(path[1:-1]) if path[-1] in {"basis", "channel"} else ".".join(path[1:])
        points = {
            key
            for key, point in new.collection_points.items()
            if any(covers(p, purpose) or covers(purpose, p) for p in point.purposes)
        }
        return frozenset(points), [h for h in held if h.point in points]
    if section.startswith(("retention", "legal_holds")):
        categories = _categories_of(new, old, section)
        chosen = [h for h in held if _in(h.category, categories)]
        return frozenset(h.point for h in chosen), chosen
    return None, list(held)  # a change the map above does not place: assume it reaches everyone


def _categories_of(new: Policy, old: Policy, path: str) -> list[str]:
    """The categories of the rule at ``retention[i]`` / ``legal_holds[i]`` in either version."""
    section, _, rest = path.partition("[")
    index = int(rest.rstrip("]")) if rest else 0
    found: list[str] = []
    for policy in (new, old):
        rules = getattr(policy, section)
        if index < len(rules):
            found.extend(rules[index].categories)
    return found


def _in(category: str, granted: Iterable[str]) -> bool:
    return any(covers(g, category) or covers(category, g) for g in granted)
