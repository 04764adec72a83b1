"""Rules that span parts of a policy: each part can be well-formed and the whole still lie.

A role granted a purpose that nothing is collected for, a recipient promised a category that is
never collected, a pass-through card number with a retention period: each would make the policy
say one thing and the system do another, so each is an error, reported where it is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from pledge.policy.loader import suggest
from pledge.policy.model import (
    Basis,
    CollectionPoint,
    Condition,
    CookieCategory,
    LegalHold,
    MessageClass,
    Policy,
    Recipient,
    RetentionRule,
    Role,
    Storage,
)
from pledge.policy.taxonomy import Kind, Taxonomy, Term, covers, default_taxonomy

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]

_EXTENSION_KINDS: tuple[tuple[str, Kind], ...] = (
    ("data_categories", "data_category"),
    ("data_uses", "data_use"),
    ("data_subjects", "data_subject"),
)


def taxonomy_for(policy: Policy) -> Taxonomy:
    """fideslang's default taxonomy plus this policy's own extensions."""
    taxonomy = default_taxonomy()
    for section, kind in _EXTENSION_KINDS:
        terms = getattr(policy.taxonomy, section)
        taxonomy = taxonomy.extended(
            kind,
            (
                Term(key, t.name, t.description, key.rpartition(".")[0] or None)
                for key, t in terms.items()
            ),
        )
    return taxonomy


def problems(policy: Policy) -> list[Problem]:
    """Every inconsistency, in file order of the part it concerns."""

    taxonomy = taxonomy_for(policy)
    found: list[Problem] = []
    found += _extension_problems(policy)

    def unknown(kind: Kind, key: str, loc: Loc, what: str) -> None:
        if not taxonomy.has(kind, key):
            found.append((loc, f"unknown {what} '{key}'{suggest(key, taxonomy.keys(kind))}"))

    for loc, key in _category_refs(policy):
        unknown("data_category", key, loc, "data category")
    for key in policy.purposes:
        unknown("data_use", key, ("purposes", key), "data use")
    for name, point in policy.collection_points.items():
        for i, subject in enumerate(point.subjects):
            unknown("data_subject", subject, ("collection_points", name, "subjects", i), "subject")

    found += _purpose_ref_problems(policy)
    found += _collection_problems(policy)
    found += _grant_problems(policy)
    found += _communication_problems(policy)
    found += _storage_problems(policy)
    found += _cookie_consent_problems(policy)
    found += _web_log_problems(policy)
    found += _report_problems(policy)
    return found


def _extension_problems(policy: Policy) -> Iterator[Problem]:
    base = default_taxonomy()
    for section, kind in _EXTENSION_KINDS:
        added = getattr(policy.taxonomy, section)
        for key in added:
            loc: Loc = ("taxonomy", section, key)
            parent = key.rpartition(".")[0]
            if base.has(kind, key):
                yield loc, f"'{key}' is already in fideslang's taxonomy; remove it from here"
            elif not parent:
                yield loc, f"'{key}' needs a parent key (for example 'user.{key}')"
            elif not (base.has(kind, parent) or parent in added):
                yield loc, f"the parent '{parent}' of '{key}' is not a known key"


def _grants(policy: Policy) -> list[tuple[str, Mapping[str, Role | Recipient]]]:
    return [("roles", policy.roles), ("recipients", policy.recipients)]


def _keeping(policy: Policy) -> list[tuple[str, Sequence[RetentionRule | LegalHold]]]:
    return [("retention", policy.retention), ("legal_holds", policy.legal_holds)]


def _category_refs(policy: Policy) -> Iterator[tuple[Loc, str]]:
    for key in policy.categories:
        yield ("categories", key), key
    for name, point in policy.collection_points.items():
        for field, spec in point.fields.items():
            yield ("collection_points", name, "fields", field, "category"), spec.category
    for section, parts in _grants(policy):
        for name, part in parts.items():
            for i, key in enumerate(part.categories):
                yield (section, name, "categories", i), key
    for section, rules in _keeping(policy):
        for i, rule in enumerate(rules):
            for j, key in enumerate(rule.categories):
                yield (section, i, "categories", j), key


def _purpose_refs(policy: Policy) -> Iterator[tuple[Loc, str]]:
    for name, point in policy.collection_points.items():
        for i, key in enumerate(point.purposes):
            yield ("collection_points", name, "purposes", i), key
        for i, key in enumerate(point.choices):
            yield ("collection_points", name, "choices", i), key
        for field, spec in point.fields.items():
            for i, key in enumerate(spec.purposes or ()):
                yield ("collection_points", name, "fields", field, "purposes", i), key
    for section, parts in _grants(policy):
        for name, part in parts.items():
            for i, key in enumerate(part.purposes):
                yield (section, name, "purposes", i), key
    for name, message in policy.communications.items():
        yield ("communications", name, "purpose"), message.purpose


def declared_under(policy: Policy, key: str) -> list[str]:
    """Declared purposes that ``key`` names: itself, or those below it in the tree."""
    return [declared for declared in policy.purposes if covers(key, declared)]


def _purpose_ref_problems(policy: Policy) -> Iterator[Problem]:

    for loc, key in _purpose_refs(policy):
        if not declared_under(policy, key):
            hint = suggest(key, policy.purposes)
            yield loc, f"purpose '{key}' is not declared under 'purposes'{hint}"


def _collected(policy: Policy) -> list[str]:
    return [s.category for p in policy.collection_points.values() for s in p.fields.values()]


def _is_collected(policy: Policy, category: str, collected: Iterable[str]) -> bool:
    """A grant of ``user.contact`` is sound when ``user.contact.email`` is collected, and a
    grant of ``user.contact.email`` when the whole of ``user.contact`` is."""
    return any(covers(category, c) or covers(c, category) for c in collected)


def _collection_problems(policy: Policy) -> Iterator[Problem]:
    for name, point in policy.collection_points.items():
        for i, choice in enumerate(point.choices):
            loc: Loc = ("collection_points", name, "choices", i)
            for declared in declared_under(policy, choice):
                if policy.purposes[declared].basis not in (Basis.opt_in, Basis.opt_out):
                    yield (
                        loc,
                        (
                            f"'{declared}' is offered as a choice but its basis is "
                            f"'{policy.purposes[declared].basis}'; a choice needs opt_in or opt_out"
                        ),
                    )
            if not any(covers(p, choice) for p in point.purposes):
                yield loc, f"choice '{choice}' is not among this point's purposes"
        yield from _field_purpose_problems(name, point)


def _field_purpose_problems(name: str, point: CollectionPoint) -> Iterator[Problem]:
    """A field's own purposes narrow its point's; fields of one category share them, because
    a decision is taken per category of a point."""
    by_category: dict[str, tuple[str, frozenset[str] | None]] = {}
    for field, spec in point.fields.items():
        own = frozenset(spec.purposes) if spec.purposes is not None else None
        for i, purpose in enumerate(spec.purposes or ()):
            if not any(covers(p, purpose) for p in point.purposes):
                yield (
                    ("collection_points", name, "fields", field, "purposes", i),
                    f"'{purpose}' is not among the purposes of point '{name}'",
                )
        first = by_category.setdefault(spec.category, (field, own))
        if first[1] != own:
            yield (
                ("collection_points", name, "fields", field, "purposes"),
                f"fields '{first[0]}' and '{field}' are both {spec.category}: give them the "
                "same purposes (or move one to a point of its own)",
            )


def _allowed_anywhere(policy: Policy, purpose: str) -> bool:
    if all(
        policy.purposes[d].basis is Basis.legal_obligation for d in declared_under(policy, purpose)
    ):
        return True
    return any(
        covers(allowed, purpose) or covers(purpose, allowed)
        for point in policy.collection_points.values()
        for allowed in point.purposes
    )


def _grant_problems(policy: Policy) -> Iterator[Problem]:
    collected = _collected(policy)
    for section, parts in _grants(policy):
        what = section[:-1]
        for name, part in parts.items():
            for i, purpose in enumerate(part.purposes):
                if declared_under(policy, purpose) and not _allowed_anywhere(policy, purpose):
                    yield (
                        (section, name, "purposes", i),
                        (
                            f"{what} '{name}' is granted purpose '{purpose}', "
                            "but no collection point collects data for it"
                        ),
                    )
            for i, category in enumerate(part.categories):
                if not _is_collected(policy, category, collected):
                    yield (
                        (section, name, "categories", i),
                        (
                            f"{what} '{name}' is given category '{category}', "
                            "which no collection point collects"
                        ),
                    )
    for name, recipient in policy.recipients.items():
        if recipient.condition is Condition.subject_election:
            elected = {
                s.category
                for p in policy.collection_points.values()
                for s in p.fields.values()
                if s.visibility_choice
            }
            for i, category in enumerate(recipient.categories):
                if not any(covers(category, e) for e in elected):
                    yield (
                        ("recipients", name, "categories", i),
                        (
                            f"recipient '{name}' depends on the person's election, but no field of "
                            f"category '{category}' offers a visibility_choice"
                        ),
                    )


def _communication_problems(policy: Policy) -> Iterator[Problem]:
    needs = {
        MessageClass.marketing: {Basis.opt_in, Basis.opt_out},
        MessageClass.transactional: {Basis.collection, Basis.legal_obligation},
        MessageClass.service: {Basis.collection, Basis.legal_obligation},
        MessageClass.legal: {Basis.legal_obligation},
    }
    for name, message in policy.communications.items():
        loc: Loc = ("communications", name, "purpose")
        for declared in declared_under(policy, message.purpose):
            purpose = policy.purposes[declared]
            if purpose.basis not in needs[message.message_class]:
                allowed = " or ".join(sorted(needs[message.message_class]))
                yield (
                    loc,
                    (
                        f"a {message.message_class} message cannot use '{declared}' "
                        f"(basis {purpose.basis}); it needs basis {allowed}"
                    ),
                )
            if purpose.channel is None:
                yield loc, f"purpose '{declared}' has no channel, so no message can serve it"
        if message.advertisement_notice and message.message_class is not MessageClass.marketing:
            yield (
                ("communications", name, "advertisement_notice"),
                ("advertisement_notice applies to marketing messages only"),
            )


def _storage_problems(policy: Policy) -> Iterator[Problem]:
    passing = [k for k, h in policy.categories.items() if h.storage is Storage.pass_through]
    for section, rules in _keeping(policy):
        for i, rule in enumerate(rules):
            for j, category in enumerate(rule.categories):
                if any(covers(p, category) for p in passing):
                    yield (
                        (section, i, "categories", j),
                        (f"'{category}' is pass-through (never stored), so it cannot be retained"),
                    )
    collected = _collected(policy)
    for key in policy.categories:
        if not _is_collected(policy, key, collected):
            yield ("categories", key), f"category '{key}' is described but never collected"
    names = [c.name for c in policy.cookies]
    for i, cookie in enumerate(policy.cookies):
        if names.index(cookie.name) != i:
            yield ("cookies", i, "name"), f"cookie '{cookie.name}' is declared twice"


def _cookie_consent_problems(policy: Policy) -> Iterator[Problem]:
    consent = policy.cookie_consent
    if CookieCategory.essential in consent.categories:
        yield (
            ("cookie_consent", "categories", "essential"),
            "essential cookies need no consent, so the banner cannot offer them",
        )
    if consent.categories:
        for i, cookie in enumerate(policy.cookies):
            if cookie.category is not CookieCategory.essential and (
                cookie.category not in consent.categories
            ):
                yield (
                    ("cookies", i, "category"),
                    f"cookie '{cookie.name}' is {cookie.category}, which the banner does not "
                    "offer, so no visitor could ever allow it",
                )
    for i, purpose in enumerate(consent.sale_or_sharing_purposes):
        loc: Loc = ("cookie_consent", "sale_or_sharing_purposes", i)
        spec = policy.purposes.get(purpose)
        if spec is None:
            yield loc, f"unknown purpose '{purpose}'{suggest(purpose, policy.purposes)}"
        elif spec.basis is Basis.legal_obligation:
            yield loc, f"'{purpose}' is a legal obligation; no signal can opt a person out of it"


def _web_log_problems(policy: Policy) -> Iterator[Problem]:
    if policy.web_logs is None:
        return
    point = policy.collection_points.get(policy.web_logs.point)
    if point is None:
        hint = suggest(policy.web_logs.point, policy.collection_points)
        yield ("web_logs", "point"), f"no collection point '{policy.web_logs.point}'{hint}"
        return
    for element, field in policy.web_logs.keep.items():
        if field not in point.fields:
            yield (
                ("web_logs", "keep", element.value),
                f"'{field}' is not a field of collection point '{policy.web_logs.point}'"
                f"{suggest(field, point.fields)}",
            )


def _report_problems(policy: Policy) -> Iterator[Problem]:
    for name, intake in policy.reports.items():
        point = policy.collection_points.get(intake.point)
        if point is None:
            hint = suggest(intake.point, policy.collection_points)
            yield ("reports", name, "point"), f"no collection point '{intake.point}'{hint}"
        elif intake.field not in point.fields:
            yield (
                ("reports", name, "field"),
                f"'{intake.field}' is not a field of collection point '{intake.point}'"
                f"{suggest(intake.field, point.fields)}",
            )
