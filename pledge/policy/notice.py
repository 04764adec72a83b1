"""The privacy notice a person reads, generated from the policy file that Pledge enforces.

Writing the notice from the same file the decisions come from means the two cannot disagree:
a purpose, recipient, cookie or right that exists in the file appears in the notice, in the words
of the taxonomy, and nothing appears that the file does not say. The notice covers what GDPR
Art. 13 asks a controller to tell people at collection (who is responsible and how to reach them,
each purpose and its legal basis, recipients, how long data is kept, the rights and the right to
complain, whether data is required and what follows if it is not), plus the cookie table and the
history of changes with the material ones marked.

:func:`build_notice` gathers the facts as plain data; :func:`render_notice` lays them out as
HTML or Markdown through the templates beside this module.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pledge.policy.consistency import taxonomy_for
from pledge.policy.cookies import browser_signals, consent_cookie, offered_categories
from pledge.policy.diff import Change, diff_policies
from pledge.policy.model import Basis, CollectionPoint, Condition, Policy, RecipientKind, Right
from pledge.policy.taxonomy import Kind, Taxonomy

Format = Literal["html", "md"]

# The legal basis each of Pledge's bases corresponds to (GDPR Art. 6(1)).
LEGAL_BASIS = {
    Basis.collection: "needed to provide what you asked us for (GDPR Art. 6(1)(b))",
    Basis.opt_in: "your consent, which you can withdraw at any time (Art. 6(1)(a))",
    Basis.opt_out: "our legitimate interest, to which you can object at any time (Art. 6(1)(f))",
    Basis.legal_obligation: "a legal obligation we are subject to (Art. 6(1)(c))",
}
CONDITION_WORDS = {
    Condition.none: "for the purposes listed",
    Condition.consent: "only with your permission",
    Condition.legal_reference: "only when the law requires it, each time with a legal reference",
    Condition.aggregate: "only as figures about groups, never data about you alone",
    Condition.subject_election: "only the details you chose to make visible",
}
KIND_WORDS = {
    RecipientKind.processor: "service provider working on our behalf under contract",
    RecipientKind.partner: "partner company",
    RecipientKind.advertiser: "advertiser",
    RecipientKind.legal_authority: "courts, police and other authorities",
    RecipientKind.successor: "a buyer or successor of our business",
    RecipientKind.public: "the public",
    RecipientKind.community: "other members of our community",
}
RIGHT_WORDS = {
    Right.access: "see the personal data we hold about you",
    Right.export: "receive a copy of your data in a machine-readable form",
    Right.rectify: "have inaccurate data corrected",
    Right.erase: "have your data deleted",
    Right.deactivate: "have your account deactivated",
    Right.object: "object to a use of your data and withdraw consent",
}


@dataclass(frozen=True)
class Item:
    """One named thing in the notice with what is said about it."""

    key: str
    name: str
    facts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class VersionChange:
    version: str
    effective: str
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Notice:
    organisation: str
    postal_address: str | None
    contact: str
    version: str
    effective: str
    points: tuple[Item, ...]
    purposes: tuple[Item, ...]
    recipients: tuple[Item, ...]
    staff: tuple[Item, ...]
    retention: tuple[tuple[str, str, str], ...]
    rights: tuple[tuple[str, str], ...]
    response_days: int
    cookies: tuple[tuple[str, str, str, str, str], ...]
    messages: tuple[Item, ...]
    notice_days: int
    history: tuple[VersionChange, ...] = field(default=())
    signals: tuple[str, ...] = ()  # how Global Privacy Control and Do Not Track are answered


def build_notice(policy: Policy, earlier: Sequence[Policy] = ()) -> Notice:
    """The notice for ``policy``; ``earlier`` versions (oldest first) give its change history."""
    names = Names(taxonomy_for(policy))
    versions = [*earlier, policy]
    history = tuple(
        VersionChange(new.version, new.effective.isoformat(), diff_policies(old, new).changes)
        for old, new in itertools.pairwise(versions)
    )
    org = policy.organisation
    return Notice(
        organisation=org.name,
        postal_address=org.postal_address,
        contact=org.privacy_contact,
        version=policy.version,
        effective=policy.effective.isoformat(),
        points=tuple(_point(names, key, point) for key, point in policy.collection_points.items()),
        purposes=tuple(
            Item(
                key,
                names.use(key),
                (("Legal basis", LEGAL_BASIS[p.basis]),)
                + ((("Contacts you by", p.channel.value),) if p.channel else ())
                + ((("What it means", p.description),) if p.description else ()),
            )
            for key, p in policy.purposes.items()
        ),
        recipients=tuple(
            Item(
                key,
                r.description or key.replace("_", " "),
                (
                    ("Who", KIND_WORDS[r.kind]),
                    ("What they receive", names.categories(r.categories)),
                    ("What for", names.uses(r.purposes)),
                    ("When", condition_words(r.condition, r.min_group_size)),
                ),
            )
            for key, r in policy.recipients.items()
        ),
        staff=tuple(
            Item(
                key,
                r.description or key.replace("_", " "),
                (("May see", names.categories(r.categories)), ("Only for", names.uses(r.purposes))),
            )
            for key, r in policy.roles.items()
        ),
        retention=tuple(
            (names.categories(rule.categories), f"{rule.days} days", rule.reason)
            for rule in policy.retention
        )
        + tuple(
            (
                names.categories(hold.categories),
                f"{hold.days} days after you ask us to delete it",
                f"kept only because the law requires it: {hold.reason}",
            )
            for hold in policy.legal_holds
        ),
        rights=tuple((r.value, RIGHT_WORDS[r]) for r in policy.rights.offered),
        response_days=policy.rights.response_days,
        cookies=tuple(
            (
                c.name,
                c.category.value,
                c.provider.replace("_", " "),
                "until you close the browser"
                if c.days is None and c.lifetime.value == "session"
                else (f"{c.days} days" if c.days else "persistent"),
                c.description,
            )
            for c in (*policy.cookies, *([consent_cookie()] if offered_categories(policy) else []))
        ),
        signals=browser_signals(policy),
        messages=tuple(
            Item(
                key,
                m.description or key.replace("_", " "),
                (
                    ("Kind", m.message_class.value),
                    ("Purpose", names.use(m.purpose)),
                ),
            )
            for key, m in policy.communications.items()
        ),
        notice_days=policy.changes.notice_days,
        history=history,
    )


def render_notice(notice: Notice, fmt: Format) -> str:
    template = _environment().get_template(f"notice.{fmt}.j2")
    return template.render(notice=notice)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("pledge.policy", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class Names:
    """Taxonomy names for keys, with the key itself where the taxonomy has no name."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def _name(self, kind: Kind, key: str) -> str:
        term = self.taxonomy.terms[kind].get(key)
        return term.name if term else key

    def use(self, key: str) -> str:
        return self._name("data_use", key)

    def uses(self, keys: Sequence[str]) -> str:
        return "; ".join(self.use(k) for k in keys)

    def categories(self, keys: Sequence[str]) -> str:
        return "; ".join(self._name("data_category", k) for k in keys)


def _point(names: Names, key: str, point: CollectionPoint) -> Item:
    required = [f for f, spec in point.fields.items() if spec.required]
    optional = [f for f, spec in point.fields.items() if not spec.required]
    facts: list[tuple[str, str]] = [
        ("We ask for", ", ".join(point.fields)),
        ("Used for", names.uses(point.purposes)),
        (
            "Required",
            (
                ", ".join(required) + ": without these we cannot complete this form"
                if required
                else "nothing: every field is optional"
            ),
        ),
    ]
    if optional:
        facts.append(("Optional", ", ".join(optional) + ": leave them out and nothing changes"))
    if point.choices:
        facts.append(("Your choices here", names.uses(point.choices)))
    visible = [f for f, spec in point.fields.items() if spec.visibility_choice]
    if visible:
        facts.append(("You choose who sees", ", ".join(visible)))
    if point.min_age is not None:
        facts.append(("Minimum age", f"{point.min_age}: we do not collect from anyone younger"))
    return Item(key, point.description or key.replace("_", " "), tuple(facts))


def condition_words(condition: Condition, group_size: int | None) -> str:
    words = CONDITION_WORDS[condition]
    if condition is Condition.aggregate and group_size is not None:
        words += f", for groups of at least {group_size} people"
    return words
