"""Why a person's value is held, told from the policy it was collected under.

The privacy center shows each value with its reasons: what it is used for and on which legal
basis, how long it is kept (and, after a deletion, what the law keeps and for how long), and
who may see it (staff roles, and recipients with the condition each receives it under). All of
it follows from the policy file alone, in the notice's words (:mod:`pledge.policy.notice`),
so the page and the notice cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pledge.policy.consistency import taxonomy_for
from pledge.policy.decision import (
    channel_choice,
    purpose_choice,
    recipient_choice,
    visibility_choice,
)
from pledge.policy.model import Basis, Condition, LegalHold, Policy, RetentionRule
from pledge.policy.notice import KIND_WORDS, LEGAL_BASIS, condition_words
from pledge.policy.taxonomy import Kind, covers


@dataclass(frozen=True)
class Use:
    """A purpose a value serves, in words, and its legal basis."""

    key: str
    name: str
    basis: str


@dataclass(frozen=True)
class Seer:
    """Someone who may see a value: a staff role or a recipient, and under what condition."""

    key: str
    who: str
    when: str


@dataclass(frozen=True)
class Keeping:
    """How long: ``days`` from ``since`` (None: as long as the account exists), and why."""

    days: int | None
    reason: str
    until: dt.date | None


@dataclass(frozen=True)
class Explanation:
    point: str
    category: str
    uses: tuple[Use, ...]
    kept: Keeping
    hold: Keeping | None  # what the law keeps after a deletion
    roles: tuple[Seer, ...]
    recipients: tuple[Seer, ...]


def retention_rule(policy: Policy, category: str) -> RetentionRule | None:
    """The rule that ends ``category`` first (the shortest of those covering it)."""
    rules = [r for r in policy.retention if any(covers(c, category) for c in r.categories)]
    return min(rules, key=lambda r: r.days) if rules else None


def legal_hold(policy: Policy, category: str) -> LegalHold | None:
    """The hold that keeps ``category`` longest after a deletion, if any covers it."""
    holds = [h for h in policy.legal_holds if any(covers(c, category) for c in h.categories)]
    return max(holds, key=lambda h: h.days) if holds else None


def namer(policy: Policy) -> Callable[[Kind, str], str]:
    """Taxonomy names for keys (the key itself where the taxonomy has none)."""
    taxonomy = taxonomy_for(policy)

    def name(kind: Kind, key: str) -> str:
        term = taxonomy.terms[kind].get(key)
        return term.name if term else key

    return name


def _related(purposes: Iterable[str], served: Iterable[str]) -> bool:
    served = list(served)
    return any(covers(p, s) or covers(s, p) for p in purposes for s in served)


def explain(policy: Policy, point: str, category: str, collected_at: dt.datetime) -> Explanation:
    """Why ``category`` collected at ``point`` (of ``policy``, the version it was collected
    under) is held, for how long, and who may see it."""
    name = namer(policy)

    spec = policy.collection_points.get(point)
    served = list(spec.purposes) if spec else []
    uses = tuple(
        Use(p, name("data_use", p), LEGAL_BASIS[policy.purposes[p].basis])
        for p in served
        if p in policy.purposes
    )
    rule = retention_rule(policy, category)
    kept = (
        Keeping(rule.days, rule.reason, (collected_at + dt.timedelta(days=rule.days)).date())
        if rule
        else Keeping(None, "kept while your account exists, until you ask us to delete it", None)
    )
    hold = legal_hold(policy, category)
    roles = tuple(
        Seer(
            key,
            role.description or key.replace("_", " "),
            "only for " + "; ".join(name("data_use", p) for p in role.purposes),
        )
        for key, role in policy.roles.items()
        if any(covers(c, category) for c in role.categories) and _related(role.purposes, served)
    )
    recipients = tuple(
        Seer(
            key,
            f"{r.description or key.replace('_', ' ')} ({KIND_WORDS[r.kind]})",
            condition_words(r.condition, r.min_group_size),
        )
        for key, r in policy.recipients.items()
        if any(covers(c, category) for c in r.categories) and _related(r.purposes, served)
    )
    return Explanation(
        point=(spec.description if spec and spec.description else point.replace("_", " ")),
        category=name("data_category", category),
        uses=uses,
        kept=kept,
        hold=Keeping(hold.days, hold.reason, None) if hold else None,
        roles=roles,
        recipients=recipients,
    )


@dataclass(frozen=True)
class Offered:
    """A choice the policy gives a person, in words, and its state when they never made it."""

    key: str
    kind: str  # purpose | channel | recipient | show
    label: str
    description: str
    default: bool


def offered_choices(policy: Policy, held_categories: Iterable[str] | None = None) -> list[Offered]:
    """Every choice a person can make under ``policy``: each purpose that rests on consent or
    legitimate interest, each channel those use, each recipient that needs consent, and the
    visibility of each field that lets them choose (of those in ``held_categories``, when
    given)."""
    name = namer(policy)

    offered: list[Offered] = []
    channels: dict[str, None] = {}
    for key, purpose in policy.purposes.items():
        if purpose.basis not in (Basis.opt_in, Basis.opt_out):
            continue
        if purpose.channel:
            channels[purpose.channel.value] = None
        offered.append(
            Offered(
                purpose_choice(key),
                "purpose",
                name("data_use", key),
                purpose.description or LEGAL_BASIS[purpose.basis],
                purpose.basis is Basis.opt_out,
            )
        )
    offered += [
        Offered(
            channel_choice(c),
            "channel",
            f"Messages by {c}",
            "Any message we may send you this way, except those the law requires",
            True,
        )
        for c in channels
    ]
    offered += [
        Offered(
            recipient_choice(key),
            "recipient",
            r.description or key.replace("_", " "),
            KIND_WORDS[r.kind]
            + "; receives "
            + ", ".join(name("data_category", c) for c in r.categories),
            False,
        )
        for key, r in policy.recipients.items()
        if r.condition is Condition.consent
    ]
    held = None if held_categories is None else set(held_categories)
    visible = {
        spec.category
        for point in policy.collection_points.values()
        for spec in point.fields.values()
        if spec.visibility_choice and (held is None or spec.category in held)
    }
    offered += [
        Offered(
            visibility_choice(c),
            "show",
            f"Show my {name('data_category', c).lower()} to others",
            "Other members see it only if you say yes",
            False,
        )
        for c in sorted(visible)
    ]
    return offered
