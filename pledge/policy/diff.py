"""What changed between two versions of a policy, in plain words, and which changes are material.

A change is *material* when it lets the organisation do more with data it already holds, or
gives the person less say: a new use of a category already collected, a new recipient, a
weaker condition, longer retention, a choice or a right taken away, a shorter notice period.
Material changes are the ones a person must be told about before they take effect (and, where
the policy says so, consent to). Everything else (clearer wording, anything stricter) is listed
too, so the diff is a complete review aid, but it does not hold a release back.

The comparison is semantic, not textual: reordering a list or re-indenting a file is no change,
and each change names the policy path on both sides so a reviewer can find it in either file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pledge.policy.cookies import offered_categories
from pledge.policy.model import (
    Basis,
    CollectionPoint,
    Condition,
    Cookie,
    CookieCategory,
    CookieLifetime,
    DoNotTrack,
    Event,
    Policy,
    Recipient,
    RecipientKind,
    Role,
    Storage,
)

# Every kind of change the diff reports, and when it is material. docs/policy-changes.md lists
# the same table; a test keeps the two in step.
KINDS: dict[str, str] = {
    "organisation_changed": "never material: the name, address or contact changed",
    "sender_domain_added": "never material: marketing mail may come from a new domain",
    "sender_domain_removed": "never material",
    "purpose_added": "never material on its own; material where a point, role or recipient "
    "takes it up",
    "purpose_removed": "never material",
    "basis_weakened": "material: a purpose asks less of the person (opt-in to opt-out, ...)",
    "basis_strengthened": "never material",
    "channel_changed": "material when the purpose now contacts people by a channel",
    "wording_changed": "never material: a description reads differently",
    "category_now_stored": "material: a category only passed on is now kept",
    "category_no_longer_stored": "never material",
    "collection_point_added": "never material: new data is collected under the new version",
    "collection_point_removed": "never material",
    "point_purpose_added": "material: data a point collected is used for a new purpose",
    "point_purpose_removed": "never material",
    "point_field_added": "material: a point collects a new field",
    "point_field_removed": "never material",
    "point_subjects_changed": "material when the point collects from new kinds of people",
    "field_category_changed": "material: a field is recorded as another category",
    "field_requirement_changed": "never material",
    "field_shape_changed": "never material",
    "choice_added": "never material",
    "choice_removed": "material: a choice the person had is gone",
    "min_age_lowered": "material: younger people (or anyone) may be collected from",
    "min_age_raised": "never material",
    "role_added": "material: a new staff role uses data",
    "role_removed": "never material",
    "recipient_added": "material: data may go to a new recipient",
    "recipient_removed": "never material",
    "recipient_kind_changed": "material",
    "grant_purpose_added": "material: a role or recipient may use data for a new purpose",
    "grant_purpose_removed": "never material",
    "grant_category_added": "material: a role or recipient may receive a new category",
    "grant_category_removed": "never material",
    "condition_weakened": "material: a recipient's condition protects the person less",
    "condition_strengthened": "never material",
    "group_size_lowered": "material: aggregate figures may cover smaller groups",
    "group_size_raised": "never material",
    "privacy_noise_weakened": "material: aggregate figures carry less noise, or more of them "
    "may be asked for",
    "privacy_noise_strengthened": "never material",
    "double_opt_in_dropped": "material: a grant no longer waits for the person's emailed "
    "confirmation",
    "double_opt_in_added": "never material",
    "communication_added": "never material: a new message is sent only as its purpose allows",
    "communication_removed": "never material",
    "message_class_changed": "material",
    "message_purpose_changed": "material",
    "ad_notice_removed": "material: marketing no longer says it is an advertisement",
    "retention_longer": "material: data is kept longer (or without a set period)",
    "retention_shorter": "never material",
    "legal_holds_longer": "material: data is held longer after an erasure request",
    "legal_holds_shorter": "never material",
    "right_added": "never material",
    "right_removed": "material: a right the person had is gone",
    "response_time_longer": "material: requests are answered more slowly",
    "response_time_shorter": "never material",
    "response_law_changed": "material: request deadlines and extensions follow another law "
    "(or none)",
    "cookie_added": "material unless the cookie is essential",
    "cookie_removed": "never material",
    "cookie_category_changed": "material",
    "cookie_lifetime_longer": "material",
    "cookie_provider_changed": "material",
    "do_not_track_weaker": "material: a Do Not Track signal now does less",
    "do_not_track_stronger": "never material",
    "sale_or_sharing_changed": "material: which cookie categories sell or share data changed",
    "gpc_purpose_removed": "material: Global Privacy Control no longer stops this purpose",
    "gpc_purpose_added": "never material",
    "field_purpose_added": "material: a field is used for a purpose it was not before",
    "field_purpose_removed": "never material",
    "frequency_raised": "material: more messages of a kind may be sent to a person",
    "frequency_lowered": "never material",
    "event_wait_dropped": "material: a recipient no longer waits for a recorded event (a "
    "business transfer) before receiving data",
    "event_wait_added": "never material",
    "role_aggregates_dropped": "material: a role limited to aggregates now sees people's data",
    "role_aggregates_added": "never material",
    "children_rules_removed": "material: children are no longer held to a consent age",
    "children_rules_added": "never material",
    "consent_age_lowered": "material: younger children may consent for themselves",
    "consent_age_raised": "never material",
    "parental_consent_allowed": "material: children below the consent age may be collected "
    "from with a parent's consent",
    "parental_consent_refused": "never material",
    "notice_period_shorter": "material: changes take effect sooner",
    "notice_period_longer": "never material",
    "older_limits_loosened": "material: older data no longer keeps its version's limits",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the old and the new policy."""

    kind: str  # stable code, e.g. "recipient_added"; listed in docs/policy-changes.md
    material: bool
    summary: str  # plain words, no policy jargon beyond the names in the file
    old_path: str | None  # where it was in the old file (None: it is new)
    new_path: str | None  # where it is in the new file (None: it was removed)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:  # a new kind must be documented before it is reported
            raise ValueError(f"undocumented kind of policy change {self.kind!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PolicyDiff:
    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def material(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.material)

    def as_dict(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "material": bool(self.material),
            "changes": [c.as_dict() for c in self.changes],
        }


# How much a basis asks of the person before a use: higher asks more, so lowering is weaker.
_BASIS_STRICTNESS = {
    Basis.legal_obligation: 0,
    Basis.collection: 1,
    Basis.opt_out: 2,
    Basis.opt_in: 3,
}
# How much a recipient condition protects the person; conditions of equal rank protect in
# different ways, so moving between them is treated as weaker (the reading that protects).
_CONDITION_STRICTNESS = {
    Condition.none: 0,
    Condition.consent: 2,
    Condition.legal_reference: 2,
    Condition.subject_election: 2,
    Condition.aggregate: 3,
}
_LIFETIME_LENGTH = {CookieLifetime.session: 0, CookieLifetime.persistent: 1}


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """Every change from ``old`` to ``new``, material ones first, each group by path."""
    found: list[Change] = []
    for compare in (
        _organisation,
        _purposes,
        _categories,
        _points,
        _roles,
        _recipients,
        _communications,
        _retention,
        _rights,
        _cookies,
        _cookie_consent,
        _children,
        _changes_section,
    ):
        found.extend(compare(old, new))
    found.sort(key=lambda c: (not c.material, c.new_path or c.old_path or "", c.kind))
    return PolicyDiff(old.version, new.version, tuple(found))


# --- helpers ---------------------------------------------------------------------------------


def _added(path: str, kind: str, material: bool, summary: str) -> Change:
    return Change(kind, material, summary, None, path)


def _removed(path: str, kind: str, material: bool, summary: str) -> Change:
    return Change(kind, material, summary, path, None)


def _changed(path: str, kind: str, material: bool, summary: str) -> Change:
    return Change(kind, material, summary, path, path)


def _keyed(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    section: str,
    noun: str,
    *,
    added_material: bool,
    removed_material: bool,
    each: Callable[[str, Any, Any], Iterable[Change]],
) -> Iterable[Change]:
    """Compare two named collections: additions, removals, then ``each`` for the common names."""
    for name in sorted(new.keys() - old.keys()):
        yield _added(f"{section}.{name}", f"{noun}_added", added_material, f"new {noun} '{name}'")
    for name in sorted(old.keys() - new.keys()):
        yield _removed(
            f"{section}.{name}", f"{noun}_removed", removed_material, f"{noun} '{name}' removed"
        )
    for name in sorted(old.keys() & new.keys()):
        if old[name] != new[name]:
            yield from each(name, old[name], new[name])


def _more(
    path: str, kind: str, what: str, old: Iterable[str], new: Iterable[str], *, material: bool
) -> Iterable[Change]:
    """Items a list gained (``<kind>_added``) and lost (``<kind>_removed``, never material:
    the policy does less)."""
    old_set, new_set = set(old), set(new)
    for item in sorted(new_set - old_set):
        yield _changed(path, f"{kind}_added", material, f"{what} now includes '{item}'")
    for item in sorted(old_set - new_set):
        yield _changed(path, f"{kind}_removed", False, f"{what} no longer includes '{item}'")


def _wording(path: str, old: str, new: str, what: str) -> Iterable[Change]:
    if old != new:
        yield _changed(path, "wording_changed", False, f"the {what} reads differently")


# --- sections --------------------------------------------------------------------------------


def _organisation(old: Policy, new: Policy) -> Iterable[Change]:
    a, b = old.organisation, new.organisation
    for name in ("name", "postal_address", "privacy_contact"):
        if getattr(a, name) != getattr(b, name):
            words = name.replace("_", " ")
            path = f"organisation.{name}"
            yield _changed(path, "organisation_changed", False, f"{words} changed")
    yield from _more(
        "organisation.sender_domains",
        "sender_domain",
        "mail may be sent from",
        a.sender_domains,
        b.sender_domains,
        material=False,
    )


def _purposes(old: Policy, new: Policy) -> Iterable[Change]:
    def each(name: str, a: Any, b: Any) -> Iterable[Change]:
        path = f"purposes.{name}"
        if a.basis != b.basis:
            weaker = _BASIS_STRICTNESS[b.basis] < _BASIS_STRICTNESS[a.basis]
            yield _changed(
                f"{path}.basis",
                "basis_weakened" if weaker else "basis_strengthened",
                weaker,
                f"'{name}' now needs {_basis_words(b.basis)} instead of {_basis_words(a.basis)}",
            )
        if a.channel != b.channel:
            yield _changed(
                f"{path}.channel",
                "channel_changed",
                b.channel is not None,
                f"'{name}' now contacts people by {b.channel or 'no channel'}",
            )
        if a.double_opt_in != b.double_opt_in:
            yield _changed(
                f"{path}.double_opt_in",
                "double_opt_in_added" if b.double_opt_in else "double_opt_in_dropped",
                not b.double_opt_in,
                f"a grant of '{name}' "
                + ("now waits" if b.double_opt_in else "no longer waits")
                + " for the person's emailed confirmation",
            )
        yield from _wording(f"{path}.description", a.description, b.description, "description")

    # A purpose on its own uses nothing: it becomes material where a point, role or recipient
    # takes it up, and those sections report that.
    yield from _keyed(
        old.purposes,
        new.purposes,
        "purposes",
        "purpose",
        added_material=False,
        removed_material=False,
        each=each,
    )


def _basis_words(basis: Basis) -> str:
    return {
        Basis.collection: "only that the data was collected for it",
        Basis.opt_in: "the person's opt-in",
        Basis.opt_out: "no objection from the person (opt-out)",
        Basis.legal_obligation: "nothing (a legal obligation)",
    }[basis]


def _categories(old: Policy, new: Policy) -> Iterable[Change]:
    for key in sorted(old.categories.keys() | new.categories.keys()):
        a = old.categories.get(key)
        b = new.categories.get(key)
        was = a.storage if a else Storage.stored
        now = b.storage if b else Storage.stored
        if was is Storage.pass_through and now is Storage.stored:
            yield _changed(
                f"categories.{key}.storage",
                "category_now_stored",
                True,
                f"'{key}' is now kept, where it used to be only passed on",
            )
        elif was is Storage.stored and now is Storage.pass_through:
            yield _changed(
                f"categories.{key}.storage",
                "category_no_longer_stored",
                False,
                f"'{key}' is now only passed on, no longer kept",
            )


def _points(old: Policy, new: Policy) -> Iterable[Change]:
    def each(name: str, a: CollectionPoint, b: CollectionPoint) -> Iterable[Change]:
        path = f"collection_points.{name}"
        yield from _more(
            f"{path}.purposes",
            "point_purpose",
            f"data collected at '{name}' is used for",
            a.purposes,
            b.purposes,
            material=True,
        )
        old_cats = {f.category for f in a.fields.values()}
        for field, spec in sorted(b.fields.items()):
            if field not in a.fields:
                held = spec.category in old_cats
                yield _added(
                    f"{path}.fields.{field}",
                    "point_field_added",
                    True,
                    f"'{name}' now also collects '{field}' ({spec.category})"
                    + ("" if held else ", a category it did not collect before"),
                )
            elif a.fields[field] != spec:
                yield from _field(f"{path}.fields.{field}", name, field, a.fields[field], spec)
                yield from _field_purposes(f"{path}.fields.{field}", f"{name}.{field}", a, b, field)
        for field in sorted(a.fields.keys() - b.fields.keys()):
            yield _removed(
                f"{path}.fields.{field}",
                "point_field_removed",
                False,
                f"'{name}' no longer collects '{field}'",
            )
        for choice in sorted(set(a.choices) - set(b.choices)):
            yield _changed(
                f"{path}.choices",
                "choice_removed",
                True,
                f"'{name}' no longer offers the choice of '{choice}'",
            )
        for choice in sorted(set(b.choices) - set(a.choices)):
            offered = f"'{name}' now offers a choice: '{choice}'"
            yield _changed(f"{path}.choices", "choice_added", False, offered)
        if a.min_age != b.min_age:
            lower = b.min_age is None or (a.min_age is not None and b.min_age < a.min_age)
            yield _changed(
                f"{path}.min_age",
                "min_age_lowered" if lower else "min_age_raised",
                lower,
                f"the minimum age at '{name}' is now {b.min_age or 'not set'}",
            )
        if set(a.subjects) != set(b.subjects):
            yield _changed(
                f"{path}.subjects",
                "point_subjects_changed",
                bool(set(b.subjects) - set(a.subjects)),
                f"'{name}' now collects from {', '.join(b.subjects)}",
            )
        yield from _wording(f"{path}.description", a.description, b.description, "description")

    yield from _keyed(
        old.collection_points,
        new.collection_points,
        "collection_points",
        "collection_point",
        # A new point collects only under the new version, announced at the point itself.
        added_material=False,
        removed_material=False,
        each=each,
    )


def _field(path: str, point: str, field: str, a: Any, b: Any) -> Iterable[Change]:
    if a.category != b.category:
        yield _changed(
            f"{path}.category",
            "field_category_changed",
            True,
            f"'{point}.{field}' is now recorded as {b.category} (was {a.category})",
        )
    if a.visibility_choice and not b.visibility_choice:
        yield _changed(
            f"{path}.visibility_choice",
            "choice_removed",
            True,
            f"people can no longer choose who sees '{point}.{field}'",
        )
    elif b.visibility_choice and not a.visibility_choice:
        yield _changed(
            f"{path}.visibility_choice",
            "choice_added",
            False,
            f"people can now choose who sees '{point}.{field}'",
        )
    if a.required != b.required:
        yield _changed(
            f"{path}.required",
            "field_requirement_changed",
            False,
            f"'{point}.{field}' is now {'required' if b.required else 'optional'}",
        )
    if a.shape != b.shape:
        yield _changed(
            f"{path}.shape", "field_shape_changed", False, f"'{point}.{field}' is checked anew"
        )


def _field_purposes(
    path: str, where: str, a: CollectionPoint, b: CollectionPoint, field: str
) -> Iterable[Change]:
    """A field's own purposes (its point's when it has none), less what the point's own
    purposes changed: those are reported for the point."""
    was = set(a.fields[field].purposes or a.purposes)
    now = set(b.fields[field].purposes or b.purposes)
    point_gained, point_lost = set(b.purposes) - set(a.purposes), set(a.purposes) - set(b.purposes)
    for purpose in sorted(now - was - point_gained):
        yield _changed(
            f"{path}.purposes",
            "field_purpose_added",
            True,
            f"'{where}' is now also used for '{purpose}'",
        )
    for purpose in sorted(was - now - point_lost):
        yield _changed(
            f"{path}.purposes",
            "field_purpose_removed",
            False,
            f"'{where}' is no longer used for '{purpose}'",
        )


def _grants(path: str, who: str, a: Role | Recipient, b: Role | Recipient) -> Iterable[Change]:
    yield from _more(
        f"{path}.purposes", "grant_purpose", f"{who} may use data for", a.purposes,
        b.purposes, material=True,
    )  # fmt: skip
    yield from _more(
        f"{path}.categories", "grant_category", f"{who} may receive", a.categories,
        b.categories, material=True,
    )  # fmt: skip
    yield from _wording(f"{path}.description", a.description, b.description, "description")


def _roles(old: Policy, new: Policy) -> Iterable[Change]:
    def each(name: str, a: Role, b: Role) -> Iterable[Change]:
        path = f"roles.{name}.min_group_size"
        if a.min_group_size is not None and b.min_group_size is None:
            yield _changed(
                path,
                "role_aggregates_dropped",
                True,
                f"staff in role '{name}' now see people's data, not only figures about groups",
            )
        elif a.min_group_size is None and b.min_group_size is not None:
            yield _changed(
                path,
                "role_aggregates_added",
                False,
                f"staff in role '{name}' now see only figures about groups of "
                f"{b.min_group_size} or more",
            )
        elif a.min_group_size != b.min_group_size:
            assert a.min_group_size is not None
            assert b.min_group_size is not None
            smaller = b.min_group_size < a.min_group_size
            yield _changed(
                path,
                "group_size_lowered" if smaller else "group_size_raised",
                smaller,
                f"figures for role '{name}' now cover groups of {b.min_group_size} or more "
                f"(was {a.min_group_size})",
            )
        yield from _grants(f"roles.{name}", f"staff in role '{name}'", a, b)

    yield from _keyed(
        old.roles,
        new.roles,
        "roles",
        "role",
        added_material=True,
        removed_material=False,
        each=each,
    )


def _recipients(old: Policy, new: Policy) -> Iterable[Change]:
    def each(name: str, a: Recipient, b: Recipient) -> Iterable[Change]:
        path = f"recipients.{name}"
        if a.kind != b.kind:
            yield _changed(
                f"{path}.kind",
                "recipient_kind_changed",
                True,
                f"'{name}' is now a {b.kind.value.replace('_', ' ')} (was {a.kind.value})",
            )
        if a.condition != b.condition:
            weaker = _CONDITION_STRICTNESS[b.condition] <= _CONDITION_STRICTNESS[a.condition]
            yield _changed(
                f"{path}.condition",
                "condition_weakened" if weaker else "condition_strengthened",
                weaker,
                f"'{name}' now receives data on condition '{b.condition.value}' "
                f"(was '{a.condition.value}')",
            )
        if (
            a.min_group_size is not None
            and b.min_group_size is not None
            and b.min_group_size != a.min_group_size
        ):
            smaller = b.min_group_size < a.min_group_size
            yield _changed(
                f"{path}.min_group_size",
                "group_size_lowered" if smaller else "group_size_raised",
                smaller,
                f"figures for '{name}' now cover groups of {b.min_group_size} or more "
                f"(was {a.min_group_size})",
            )
        if (a.noise_epsilon, a.privacy_budget) != (b.noise_epsilon, b.privacy_budget):
            weaker = a.noise_epsilon is not None and (
                b.noise_epsilon is None
                or b.noise_epsilon > a.noise_epsilon
                or (b.privacy_budget or 0) > (a.privacy_budget or 0)
            )
            yield _changed(
                f"{path}.noise_epsilon",
                "privacy_noise_weakened" if weaker else "privacy_noise_strengthened",
                weaker,
                f"figures for '{name}' now carry "
                + (
                    f"noise of epsilon {b.noise_epsilon} within a budget of {b.privacy_budget}"
                    if b.noise_epsilon is not None
                    else "no noise"
                ),
            )
        if _waits_for(a) != _waits_for(b):
            yield _changed(
                f"{path}.after_event",
                "event_wait_dropped" if _waits_for(a) else "event_wait_added",
                bool(_waits_for(a)),
                f"'{name}' "
                + ("no longer waits" if _waits_for(a) else "now waits")
                + " for a recorded business transfer before receiving data",
            )
        yield from _grants(path, f"recipient '{name}'", a, b)

    yield from _keyed(
        old.recipients,
        new.recipients,
        "recipients",
        "recipient",
        added_material=True,
        removed_material=False,
        each=each,
    )


def _waits_for(recipient: Recipient) -> Event | None:
    if recipient.after_event is not None:
        return recipient.after_event
    return Event.business_transfer if recipient.kind is RecipientKind.successor else None


def _communications(old: Policy, new: Policy) -> Iterable[Change]:
    def each(name: str, a: Any, b: Any) -> Iterable[Change]:
        path = f"communications.{name}"
        if a.message_class != b.message_class:
            yield _changed(
                f"{path}.class",
                "message_class_changed",
                True,
                f"'{name}' messages are now {b.message_class.value} (were {a.message_class.value})",
            )
        if a.purpose != b.purpose:
            yield _changed(
                f"{path}.purpose",
                "message_purpose_changed",
                True,
                f"'{name}' messages now serve '{b.purpose}' (was '{a.purpose}')",
            )
        if a.frequency != b.frequency:
            more = b.frequency is None or (
                a.frequency is not None
                and (b.frequency.max > a.frequency.max or b.frequency.days < a.frequency.days)
            )
            limit = (
                f"at most {b.frequency.max} in {b.frequency.days} days"
                if b.frequency is not None
                else "without a limit"
            )
            yield _changed(
                f"{path}.frequency",
                "frequency_raised" if more else "frequency_lowered",
                more,
                f"'{name}' messages may now be sent {limit} to each person",
            )
        if a.advertisement_notice and not b.advertisement_notice:
            yield _changed(
                f"{path}.advertisement_notice",
                "ad_notice_removed",
                True,
                f"'{name}' messages no longer say they are advertisements",
            )
        yield from _wording(f"{path}.description", a.description, b.description, "description")

    yield from _keyed(
        old.communications,
        new.communications,
        "communications",
        "communication",
        added_material=False,  # a new kind of message is sent only as its purpose allows
        removed_material=False,
        each=each,
    )


def _longest(rules: Iterable[Any]) -> dict[str, tuple[int, int]]:
    """The longest period per category, with the index of the rule that sets it."""
    out: dict[str, tuple[int, int]] = {}
    for index, rule in enumerate(rules):
        for category in rule.categories:
            if category not in out or rule.days > out[category][0]:
                out[category] = (rule.days, index)
    return out


def _retention(old: Policy, new: Policy) -> Iterable[Change]:
    for section, noun in (("retention", "kept"), ("legal_holds", "held for legal reasons")):
        a, b = _longest(getattr(old, section)), _longest(getattr(new, section))
        for category in sorted(a.keys() | b.keys()):
            was, now = a.get(category), b.get(category)
            if was is not None and now is not None and was[0] == now[0]:
                continue
            old_path = None if was is None else f"{section}[{was[1]}]"
            new_path = None if now is None else f"{section}[{now[1]}]"
            if section == "retention":
                # No retention rule means "kept while needed": adding a limit is stricter.
                longer = now is None or (was is not None and now[0] > was[0])
            else:
                longer = was is None or (now is not None and now[0] > was[0])
            when = "no set period" if now is None else f"{now[0]} days"
            yield Change(
                f"{section}_longer" if longer else f"{section}_shorter",
                longer,
                f"'{category}' is now {noun} for {when}"
                + ("" if was is None else f" (was {was[0]} days)"),
                old_path,
                new_path,
            )


def _rights(old: Policy, new: Policy) -> Iterable[Change]:
    for right in sorted(set(old.rights.offered) - set(new.rights.offered)):
        yield _changed(
            "rights.offered", "right_removed", True, f"people can no longer ask to {right.value}"
        )
    for right in sorted(set(new.rights.offered) - set(old.rights.offered)):
        yield _changed("rights.offered", "right_added", False, f"people can now ask to {right}")
    a, b = old.rights.response_days, new.rights.response_days
    if a != b:
        yield _changed(
            "rights.response_days",
            "response_time_longer" if b > a else "response_time_shorter",
            b > a,
            f"requests are answered within {b} days (was {a})",
        )
    if old.rights.law != new.rights.law:
        named = new.rights.law.value if new.rights.law else "no law"
        yield _changed(
            "rights.law",
            "response_law_changed",
            True,  # deadlines and extensions follow the law: either way, answers change
            f"request deadlines now follow {named} (was "
            f"{old.rights.law.value if old.rights.law else 'no law'})",
        )


def _cookies(old: Policy, new: Policy) -> Iterable[Change]:
    a = {c.name: (i, c) for i, c in enumerate(old.cookies)}
    b = {c.name: (i, c) for i, c in enumerate(new.cookies)}
    for name in sorted(b.keys() - a.keys()):
        index, cookie = b[name]
        yield _added(
            f"cookies[{index}]",
            "cookie_added",
            cookie.category is not CookieCategory.essential,
            f"new {cookie.category.value} cookie '{name}'",
        )
    for name in sorted(a.keys() - b.keys()):
        gone = f"cookie '{name}' removed"
        yield _removed(f"cookies[{a[name][0]}]", "cookie_removed", False, gone)
    for name in sorted(a.keys() & b.keys()):
        (i, was), (j, now) = a[name], b[name]
        if was != now:
            yield from _cookie(f"cookies[{i}]", f"cookies[{j}]", name, was, now)


_DNT_STRENGTH = {
    DoNotTrack.ignored: 0,
    DoNotTrack.opt_out_of_sale_or_sharing: 1,
    DoNotTrack.refuse_optional: 2,
}


def _cookie_consent(old: Policy, new: Policy) -> Iterable[Change]:
    a, b = old.cookie_consent, new.cookie_consent
    if a.do_not_track is not b.do_not_track:
        weaker = _DNT_STRENGTH[b.do_not_track] < _DNT_STRENGTH[a.do_not_track]
        yield _changed(
            "cookie_consent.do_not_track",
            "do_not_track_weaker" if weaker else "do_not_track_stronger",
            weaker,
            f"Do Not Track is now answered '{b.do_not_track.value}' (was '{a.do_not_track.value}')",
        )
    was, now = _sharing_categories(old), _sharing_categories(new)
    if was != now:
        yield _changed(
            "cookie_consent.categories",
            "sale_or_sharing_changed",
            True,
            f"cookie categories that sell or share data: {', '.join(sorted(now)) or 'none'} "
            f"(was {', '.join(sorted(was)) or 'none'})",
        )
    for purpose in sorted(set(a.sale_or_sharing_purposes) - set(b.sale_or_sharing_purposes)):
        yield _changed(
            "cookie_consent.sale_or_sharing_purposes",
            "gpc_purpose_removed",
            True,
            f"Global Privacy Control no longer opts people out of '{purpose}'",
        )
    for purpose in sorted(set(b.sale_or_sharing_purposes) - set(a.sale_or_sharing_purposes)):
        yield _changed(
            "cookie_consent.sale_or_sharing_purposes",
            "gpc_purpose_added",
            False,
            f"Global Privacy Control now opts people out of '{purpose}'",
        )


def _sharing_categories(policy: Policy) -> set[str]:
    return {c.value for c, spec in offered_categories(policy).items() if spec.sale_or_sharing}


def _cookie(old_path: str, new_path: str, name: str, a: Cookie, b: Cookie) -> Iterable[Change]:
    if a.category != b.category:
        yield Change(
            "cookie_category_changed",
            True,
            f"cookie '{name}' is now {b.category.value} (was {a.category.value})",
            old_path,
            new_path,
        )
    longer = _LIFETIME_LENGTH[b.lifetime] > _LIFETIME_LENGTH[a.lifetime] or (
        a.days is not None and (b.days is None or b.days > a.days)
    )
    if longer:
        yield Change(
            "cookie_lifetime_longer", True, f"cookie '{name}' lasts longer", old_path, new_path
        )
    if a.provider != b.provider:
        yield Change(
            "cookie_provider_changed",
            True,
            f"cookie '{name}' is now set by {b.provider}",
            old_path,
            new_path,
        )


def _children(old: Policy, new: Policy) -> Iterable[Change]:
    a, b = old.children, new.children
    if a == b:
        return
    if a is None or b is None:
        yield _changed(
            "children",
            "children_rules_added" if a is None else "children_rules_removed",
            b is None,
            "children below a consent age are now collected from only as the policy says"
            if a is None
            else "children are no longer held to a consent age beyond the minimum age",
        )
        return
    if a.parental_consent != b.parental_consent:
        yield _changed(
            "children.parental_consent",
            "parental_consent_allowed" if b.parental_consent else "parental_consent_refused",
            b.parental_consent,
            "children below the consent age are now collected from with a parent's consent"
            if b.parental_consent
            else "children below the consent age are no longer collected from at all",
        )
    places = [("children.consent_age", "by default", a.consent_age, b.consent_age)]
    for where in sorted(a.jurisdictions.keys() | b.jurisdictions.keys()):
        places.append(
            (
                f"children.jurisdictions.{where}",
                f"in {where}",
                a.jurisdictions.get(where, a.consent_age),
                b.jurisdictions.get(where, b.consent_age),
            )
        )
    for path, where, was, now in places:
        if was != now:
            yield _changed(
                path,
                "consent_age_lowered" if now < was else "consent_age_raised",
                now < was,
                f"children consent for themselves from {now} {where} (was {was})",
            )


def _changes_section(old: Policy, new: Policy) -> Iterable[Change]:
    a, b = old.changes, new.changes
    if b.notice_days < a.notice_days:
        yield _changed(
            "changes.notice_days",
            "notice_period_shorter",
            True,
            f"changes now take effect after {b.notice_days} days' notice (was {a.notice_days})",
        )
    elif b.notice_days > a.notice_days:
        yield _changed(
            "changes.notice_days",
            "notice_period_longer",
            False,
            f"changes now take effect after {b.notice_days} days' notice (was {a.notice_days})",
        )
    if a.material_change_needs_consent and not b.material_change_needs_consent:
        yield _changed(
            "changes.material_change_needs_consent",
            "older_limits_loosened",
            True,
            "data collected under earlier versions no longer keeps their limits without consent",
        )
