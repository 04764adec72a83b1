"""Importing the seed texts: a draft that loads, cites its sentences exactly, and keeps the
seeds' promises at least as well as the hand-written example files (tests/test_seed_policies.py).

The draft names its parts its own way (``legal_authorities``, ``service_providers``), so each
promise is asked of the draft by kind of recipient or message rather than by name. Where the
draft and the example file differ, the draft must be the one that refuses more.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
import yaml
from text_support import EXAMPLES, SEEDS, seed_document

from pledge.errors import InputError
from pledge.policy import NO_CHOICES, Actor, Choices, CompiledPolicy, Request, decide, load_policy
from pledge.policy.model import Basis, Condition, CookieCategory, RecipientKind, Storage
from pledge.text.draft import Draft, draft_policy
from pledge.text.segment import read_document, read_file

MARKETING = "marketing.communications.email"
CARD = "user.financial.credit_card"


@cache
def draft(name: str) -> Draft:
    return draft_policy(seed_document(name), file=f"{name}.txt")


def compiled(name: str) -> CompiledPolicy:
    return draft(name).compiled


def sources(data: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every citation in the draft's YAML, with where it sits."""
    if isinstance(data, dict):
        if {"start", "end", "text"} <= data.keys():
            yield path, data
            return
        for key, value in data.items():
            yield from sources(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from sources(value, f"{path}[{i}]")


@pytest.mark.parametrize("name", SEEDS)
def test_each_seed_imports_to_a_draft_that_loads(name: str) -> None:
    result = draft(name)
    reloaded = yaml.safe_load(result.text)
    assert reloaded["pledge"] == 1
    assert result.policy.collection_points
    assert result.practices


@pytest.mark.parametrize("name", SEEDS)
def test_every_citation_is_the_exact_text_at_its_offsets(name: str) -> None:
    source = seed_document(name).source
    cited = list(sources(yaml.safe_load(draft(name).text)))
    assert len(cited) >= 8
    for path, citation in cited:
        assert source[citation["start"] : citation["end"]] == citation["text"], path


@pytest.mark.parametrize("name", SEEDS)
def test_every_rule_carries_its_source(name: str) -> None:
    policy = draft(name).policy
    parts: list[tuple[str, Any]] = [
        *(("purposes", p) for p in policy.purposes.values()),
        *(("collection_points", p) for p in policy.collection_points.values()),
        *(("roles", r) for r in policy.roles.values()),
        *(("recipients", r) for r in policy.recipients.values()),
        *(("communications", c) for c in policy.communications.values()),
        *(("retention", r) for r in policy.retention),
        *(("legal_holds", h) for h in policy.legal_holds),
        *(("cookies", c) for c in policy.cookies),
        *(("categories", c) for c in policy.categories.values()),
    ]
    missing = [section for section, part in parts if part.source is None]
    assert not missing
    assert policy.organisation.source is not None
    assert set(policy.rights.sources) <= set(policy.rights.offered)


@pytest.mark.parametrize("name", SEEDS)
def test_unmapped_sentences_come_with_a_best_guess(name: str) -> None:
    result = draft(name)
    document = seed_document(name)
    for item in result.unmapped:
        assert document.source[item.sentence.start : item.sentence.end] == item.sentence.text
        assert item.guess


# --- the seeds' promises, asked of the draft -------------------------------------------------


@pytest.mark.parametrize("name", SEEDS)
def test_marketing_email_waits_for_an_opt_in(name: str) -> None:
    """The examples send marketing until opt-out (Zabbix, Webix, Bitrix) or after opt-in (3CX,
    Zimbra): the draft asks for the opt-in everywhere, and an opt-out stops it."""
    policy = compiled(name)
    marketing = [k for k in policy.policy.purposes if k.startswith("marketing.")]
    for key in marketing:
        assert policy.policy.purposes[key].basis is Basis.opt_in
    for message, comm in policy.policy.communications.items():
        if not comm.purpose.startswith("marketing."):
            continue
        actor = Actor.communication(message)
        request = Request(actor, comm.purpose, ("user.contact.email",))
        assert not decide(policy, request).allowed
        opted_in = Choices.of(granted=[f"purpose:{comm.purpose}"])
        assert decide(policy, request._replace(choices=opted_in)).allowed
        withdrawn = Choices.of(withdrawn=[f"purpose:{comm.purpose}"])
        assert not decide(policy, request._replace(choices=withdrawn)).allowed


@pytest.mark.parametrize("name", SEEDS)
def test_stop_all_leaves_only_legal_obligation_messages(name: str) -> None:
    policy = compiled(name)
    everything = [f"purpose:{p}" for p in policy.policy.purposes]
    for message, comm in policy.policy.communications.items():
        request = Request(Actor.communication(message), comm.purpose, ("user.contact.email",))
        assert decide(policy, request._replace(choices=Choices.of(granted=everything))).allowed
        stopped = decide(policy, request._replace(choices=Choices.of(everything, stop_all=True)))
        legal = policy.policy.purposes[comm.purpose].basis is Basis.legal_obligation
        assert stopped.allowed == legal


@pytest.mark.parametrize("name", SEEDS)
def test_legal_authorities_need_a_legal_reference(name: str) -> None:
    policy = compiled(name)
    authorities = {
        n: r for n, r in policy.policy.recipients.items() if r.kind is RecipientKind.legal_authority
    }
    if name != "zabbix":
        assert authorities, "the text names disclosures to authorities"
    for recipient_name, recipient in authorities.items():
        assert recipient.condition is Condition.legal_reference
        request = Request(
            Actor.recipient(recipient_name), recipient.purposes[0], tuple(recipient.categories)
        )
        assert not decide(policy, request).allowed
        assert not decide(policy, request._replace(legal_ref="  ")).allowed
        assert decide(policy, request._replace(legal_ref="case 42")).allowed


@pytest.mark.parametrize("name", SEEDS)
def test_partners_and_advertisers_need_consent_or_aggregates(name: str) -> None:
    policy = compiled(name)
    for recipient_name, recipient in policy.policy.recipients.items():
        if recipient.kind not in (
            RecipientKind.partner,
            RecipientKind.advertiser,
            RecipientKind.public,
            RecipientKind.community,
        ):
            continue
        assert recipient.condition in (Condition.consent, Condition.aggregate), recipient_name
        request = Request(
            Actor.recipient(recipient_name),
            recipient.purposes[0],
            tuple(recipient.categories),
            choices=Choices.of(granted=[f"purpose:{p}" for p in recipient.purposes]),
            group_size=9,
        )
        assert not decide(policy, request).allowed


@pytest.mark.parametrize("name", SEEDS)
def test_aggregates_need_groups_of_ten(name: str) -> None:
    policy = compiled(name)
    for recipient_name, recipient in policy.policy.recipients.items():
        if recipient.condition is not Condition.aggregate:
            continue
        assert recipient.min_group_size is not None
        assert recipient.min_group_size >= 10
        request = Request(
            Actor.recipient(recipient_name), recipient.purposes[0], (recipient.categories[0],)
        )
        for size in (None, 1, 9):
            assert not decide(policy, request._replace(group_size=size)).allowed


@pytest.mark.parametrize("name", SEEDS)
def test_no_recipient_gets_more_purposes_or_kinds_than_the_example_allows(name: str) -> None:
    """Anything the draft discloses without the person's say (condition none) goes to a kind
    of recipient the hand-written file also discloses to without condition."""
    example = load_policy(EXAMPLES / f"{name}.yaml").policy
    free_kinds = {r.kind for r in example.recipients.values() if r.condition is Condition.none}
    for recipient_name, recipient in compiled(name).policy.recipients.items():
        if recipient.condition is Condition.none:
            assert recipient.kind in free_kinds, recipient_name


def test_zabbix_only_the_payment_processor_receives_anything() -> None:
    policy = compiled("zabbix")
    assert {r.kind for r in policy.policy.recipients.values()} == {RecipientKind.processor}
    for recipient_name, recipient in policy.policy.recipients.items():
        assert recipient.purposes == ["essential.service.payment_processing"]
        marketing = Request(
            Actor.recipient(recipient_name),
            MARKETING,
            ("user.contact.email",),
            choices=Choices.of(granted=[f"purpose:{MARKETING}"]),
        )
        assert not decide(policy, marketing).allowed


def test_zabbix_card_passes_through_and_no_staff_reads_it() -> None:
    policy = compiled("zabbix")
    assert policy.policy.categories[CARD].storage is Storage.pass_through
    for role, spec in policy.policy.roles.items():
        for purpose in spec.purposes:
            decision = decide(policy, Request(Actor.role(role), purpose, (CARD,)))
            assert not decision.released


@pytest.mark.parametrize("name", ["zabbix", "zimbra"])
def test_no_collection_from_children_under_13(name: str) -> None:
    points = compiled(name).policy.collection_points
    people = {n: p for n, p in points.items() if n != "web_log"}
    assert people
    assert all(p.min_age is not None and p.min_age >= 13 for p in people.values())


def test_zabbix_no_cookies_for_tracking() -> None:
    cookies = compiled("zabbix").policy.cookies
    assert cookies
    assert not [
        c for c in cookies if c.category in (CookieCategory.analytics, CookieCategory.advertising)
    ]


def test_webix_card_data_goes_to_no_recipient() -> None:
    policy = compiled("webix")
    everyone = Choices.of(
        granted=[f"purpose:{p}" for p in policy.policy.purposes]
        + [f"recipient:{r}" for r in policy.policy.recipients]
    )
    for recipient_name, recipient in policy.policy.recipients.items():
        for purpose in recipient.purposes:
            request = Request(
                Actor.recipient(recipient_name),
                purpose,
                (CARD,),
                choices=everyone,
                legal_ref="warrant 7",
                group_size=100,
            )
            assert not decide(policy, request).released


@pytest.mark.parametrize("name", SEEDS)
def test_staff_never_see_card_data_or_marketing_without_opt_in(name: str) -> None:
    policy = compiled(name)
    for role, spec in policy.policy.roles.items():
        for purpose in spec.purposes:
            card = decide(policy, Request(Actor.role(role), purpose, (CARD,)))
            assert not card.released
            if purpose.startswith("marketing."):
                bare = decide(policy, Request(Actor.role(role), purpose, ("user.contact.email",)))
                assert not bare.allowed


@pytest.mark.parametrize("name", SEEDS)
def test_a_policy_change_keeps_the_limits_data_was_collected_under(name: str) -> None:
    changes = compiled(name).policy.changes
    assert changes.material_change_needs_consent
    assert changes.notice_days >= 30


def test_a_recipient_the_draft_does_not_name_is_refused_loudly() -> None:
    stranger = Request(Actor.recipient("data_broker"), "essential.service", ("user.name",))
    with pytest.raises(InputError, match="no recipient 'data_broker'"):
        decide(compiled("bitrix"), stranger._replace(choices=NO_CHOICES, legal_ref="x"))


def processors_of(policy: Any) -> dict[str, list[str]]:
    """The draft's processors and the categories each gets."""
    return {
        name: sorted(r.categories)
        for name, r in policy.recipients.items()
        if r.kind is RecipientKind.processor
    }


def test_the_example_text_gives_each_processor_only_what_it_names() -> None:
    """ "We share your name and address with our delivery company" and "our card processor
    receives your card number": two processors, for the service, each with its own data; the
    card the text says is not stored passes through."""
    text = read_file(EXAMPLES.parent / "texts" / "privacy.md")
    policy = draft_policy(text, file="privacy.md").compiled.policy
    processors = processors_of(policy)
    assert processors == {
        "delivery_company": ["user.contact.address", "user.name"],
        "card_processor": [CARD],
    }
    purposes = {p for name in processors for p in policy.recipients[name].purposes}
    assert not [p for p in purposes if p.startswith("marketing")]
    assert policy.categories[CARD].storage is Storage.pass_through


TWO_PROCESSORS = {
    "one sentence": "We share your name and postal address with our delivery company to deliver "
    "your order, and your email address with our email service provider to send your receipts.",
    "two sentences": "We share your name and postal address with our delivery company to deliver "
    "your order. We share your email address with our email service provider to send receipts.",
}


@pytest.mark.parametrize("sharing", TWO_PROCESSORS.values(), ids=TWO_PROCESSORS.keys())
def test_two_processors_each_get_only_what_the_text_gives_them(sharing: str) -> None:
    """Neither processor is dropped, and neither gets the other's data."""
    text = (
        "# Acme privacy notice\n\nAcme Ltd runs acme.example; write to privacy@acme.example.\n\n"
        "## What we collect\n\nWhen you order we collect your name, your email address, your "
        f"postal address and your phone number.\n\n## Who we share it with\n\n{sharing}\n"
    )
    policy = draft_policy(read_document(text, "markdown")).compiled.policy
    processors = processors_of(policy)
    assert processors == {
        "delivery_company": ["user.contact.address", "user.name"],
        "email_service_provider": ["user.contact.email"],
    }


def test_a_list_of_recipients_becomes_recipients_citing_their_items() -> None:
    """ "We share your name and postal address with:" and one item per recipient: each
    recipient cites its own item, exactly, and gets the data the lead-in names."""
    text = (
        "# Acme privacy notice\n\nAcme Ltd runs acme.example; write to privacy@acme.example.\n\n"
        "## What we collect\n\nWhen you order we collect your name, your email address and "
        "your postal address.\n\n## Who we share it with\n\n"
        "We share your name and postal address with:\n\n"
        "- our delivery company, to deliver your order\n"
        "- the police, when the law requires it\n"
    )
    recipients = yaml.safe_load(draft_policy(read_document(text, "markdown")).text)["recipients"]
    assert {name: r["kind"] for name, r in recipients.items()} == {
        "delivery_company": "processor",
        "legal_authorities": "legal_authority",
    }
    assert sorted(recipients["delivery_company"]["categories"]) == [
        "user.contact.address",
        "user.name",
    ]
    for recipient in recipients.values():
        source = recipient["source"]
        assert text[source["start"] : source["end"]] == source["text"]
        assert source["text"].startswith(("our delivery company", "the police"))
