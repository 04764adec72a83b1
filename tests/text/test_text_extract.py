"""Extraction: the recipients, data and conditions a sentence states, and the refusals that
are the organisation's own (not the person's choice, not another party's duty)."""

from __future__ import annotations

import pytest

from pledge.text.extract import Practice, practices
from pledge.text.segment import read_document


def stated(text: str) -> list[Practice]:
    return practices(read_document(text))


def shared(text: str) -> Practice:
    (found,) = [p for p in stated(text) if p.kind == "share"]
    return found


@pytest.mark.parametrize(
    "text",
    [
        "We share your name and address with our delivery company.",
        "Your order details go to the courier that brings your parcel, and we share your "
        "address with them.",
        "We pass on your address to the shipping carrier we use.",
        "We give your phone number to the call centre that answers our helpline.",
        "We share your billing details with our payment provider.",
        "We share your files with the cloud hosting company that stores them.",
    ],
)
def test_the_companies_that_do_a_job_for_us_are_processors(text: str) -> None:
    assert shared(text).recipient == "processor"


def test_the_delivery_sentence_names_the_address_and_a_limit_on_use() -> None:
    found = shared(
        "We share your name and address with our delivery company, which may use them only "
        "to deliver your tickets."
    )
    assert found.categories == ("user.name", "user.contact.address")
    assert found.condition == "confidentiality_agreement"


def test_an_email_or_ip_address_is_not_a_postal_address() -> None:
    found = shared("We share your email address and your IP address with other companies.")
    assert "user.contact.address" not in found.categories
    assert found.recipient == "any_third_party"


def test_a_refusal_that_names_no_recipient_refuses_everyone() -> None:
    (refusal,) = [p for p in stated("We do not sell your personal information.")]
    assert (refusal.kind, refusal.recipient) == ("not_shared", "any_third_party")


@pytest.mark.parametrize(
    "text",
    [
        "If you do not provide your email address, we cannot send the tickets.",
        "You can always choose whether or not to disclose your phone number.",
        "Our couriers are bound by contract and they will not distribute your address.",
        "If you withhold your address, we may not be able to provide the delivery service.",
    ],
)
def test_a_person_declining_or_another_party_bound_is_not_our_refusal(text: str) -> None:
    assert not [p for p in stated(text) if p.kind in ("not_shared", "not_collected")]


def test_a_refusal_after_a_semicolon_refuses_only_its_own_clause() -> None:
    found = stated(
        "When you buy a ticket we collect your postal address, and our card processor "
        "receives your card number; we do not store card numbers."
    )
    kinds = {(p.kind, p.categories) for p in found}
    assert ("not_collected", ("user.financial.credit_card",)) in kinds
    collected = [p for p in found if p.kind == "collect"]
    assert collected
    assert "user.contact.address" in collected[0].categories
    assert {p.sentence.start for p in found} == {0}  # each cites the whole sentence


@pytest.mark.parametrize(
    ("text", "recipient", "categories"),
    [
        (
            "Our payment provider receives your card number to take payment.",
            "processor",
            ("user.financial.credit_card",),
        ),
        ("The courier we use gets your postal address.", "processor", ("user.contact.address",)),
        ("The printing firm is given your name.", "processor", ("user.name",)),
        (
            "Our cloud hosting company has access to the files you upload.",
            "processor",
            (),
        ),
        (
            "Our email service provider processes your email address on our behalf.",
            "processor",
            ("user.contact.email",),
        ),
        (
            "Your phone number is handled by the call centre that answers our helpline.",
            "processor",
            ("user.contact.phone_number",),
        ),
        (
            "Advertising networks we work with receive your IP address.",
            "advertiser",
            ("user.device.ip_address",),
        ),
        (
            "Our sister companies may have access to your purchase history.",
            "affiliate",
            ("user.behavior.purchase_history",),
        ),
        (
            "Other members can see the username you choose.",
            "other_users",
            ("user.account.username",),
        ),
    ],
)
def test_a_party_that_gets_the_data_is_a_recipient(
    text: str, recipient: str, categories: tuple[str, ...]
) -> None:
    found = shared(text)
    assert (found.recipient, found.categories) == (recipient, categories)


def test_a_receiving_processor_gets_only_the_data_after_its_verb() -> None:
    """In "we collect your address and our card processor receives your card number" the
    processor is not given the address."""
    (found,) = [
        p
        for p in stated(
            "At checkout we collect your phone number and our card processor receives your "
            "card number."
        )
        if p.kind == "share"
    ]
    assert (found.party, found.categories) == ("card processor", ("user.financial.credit_card",))


def test_the_purpose_a_receipt_names_is_kept() -> None:
    found = shared("Our payment provider receives your card number to take payment.")
    assert found.purposes == ("essential.service.payment_processing",)


@pytest.mark.parametrize(
    "text",
    [
        "We receive your name from the partners who refer you.",
        "You will receive our newsletter if you opt in.",
        "We may receive your email address from advertisers.",
        "Only authorised staff have access to your account.",
        "If anyone gets your password, tell us at once.",
        "Please make sure others cannot see your screen when you enter your card number.",
    ],
)
def test_the_organisation_the_person_or_anyone_at_all_receiving_is_no_sharing(text: str) -> None:
    assert not [p for p in stated(text) if p.kind in ("share", "not_shared")]


@pytest.mark.parametrize(
    ("text", "recipient"),
    [
        ("Advertisers never receive your email address.", "advertiser"),
        ("No third party has access to your card number.", "any_third_party"),
        ("Your card number is never seen by our delivery company.", "processor"),
    ],
)
def test_a_party_said_not_to_get_the_data_is_a_refusal(text: str, recipient: str) -> None:
    found = stated(text)
    assert [(p.kind, p.recipient) for p in found] == [("not_shared", recipient)]


def test_a_party_having_access_is_no_right_of_the_person() -> None:
    assert "access" not in {p.kind for p in stated("Our hosting company has access to your data.")}


def test_refusals_stay_refusals_when_parties_are_named() -> None:
    found = stated("We do not share your email address with advertisers or other companies.")
    assert [p.kind for p in found] == ["not_shared"]


LISTED = (
    "We may share your personal information with:\n\n"
    "- payment processors, to take payment\n"
    "- our delivery company, which gets your postal address\n"
    "- the police, when the law requires it\n"
    "- when you ask us to\n\n"
    "We keep your data safe.\n\n"
    "- advertisers\n"
)


def test_each_item_of_a_list_finishes_the_sharing_sentence_before_it() -> None:
    document = read_document(LISTED, "markdown")
    found = [p for p in practices(document) if p.kind == "share"]
    assert [(p.recipient, p.sentence.text) for p in found] == [
        ("processor", "payment processors, to take payment"),
        ("processor", "our delivery company, which gets your postal address"),
        ("legal_authority", "the police, when the law requires it"),
    ]
    assert all(LISTED[p.sentence.start : p.sentence.end] == p.sentence.text for p in found)
    payment, delivery, _ = found
    assert payment.purposes == ("essential.service.payment_processing",)
    assert payment.categories == ("user",)  # the lead-in's "personal information"
    assert delivery.categories == ("user.contact.address",)


def test_a_list_in_html_is_read_the_same_way() -> None:
    html = (
        "<p>We disclose your email address to:</p>"
        "<ul><li>our <b>email service provider</b></li><li>our affiliates</li></ul>"
    )
    document = read_document(html, "html")
    found = [p for p in practices(document) if p.kind == "share"]
    assert [(p.recipient, p.categories) for p in found] == [
        ("processor", ("user.contact.email",)),
        ("affiliate", ("user.contact.email",)),
    ]
    assert [p.sentence.plain for p in found] == ["our email service provider", "our affiliates"]
    assert all(html[p.sentence.start : p.sentence.end] == p.sentence.text for p in found)


def test_a_list_under_a_refusal_refuses_each_item() -> None:
    found = stated("We never sell your contact details to:\n\n- advertisers\n- data brokers\n")
    assert {p.kind for p in found} == {"not_shared"}
    assert "advertiser" in {p.recipient for p in found}


def test_a_list_after_a_sentence_that_shares_nothing_shares_nothing() -> None:
    """The sources data comes from are no recipients."""
    found = stated("We collect your email address from:\n\n- our partners\n- advertisers\n")
    assert not [p for p in found if p.kind in ("share", "not_shared")]


@pytest.mark.parametrize(
    ("text", "recipient"),
    [
        (
            "Third parties that receive your information are bound by confidentiality.",
            "any_third_party",
        ),
        ("Our delivery company, which receives your address, keeps it for a month.", "processor"),
        ("Your reviews are visible to other users.", "other_users"),
    ],
)
def test_a_party_getting_data_in_a_relative_clause_or_a_passive_is_a_recipient(
    text: str, recipient: str
) -> None:
    assert shared(text).recipient == recipient


@pytest.mark.parametrize(
    "text",
    [
        "Your internet service provider can see the addresses of the sites you visit.",
        "Acme is a provider of booking software for small hotels.",
        "Our shareholders meet once a year to approve the accounts.",
        "Acme and the Acme logo are trademarks of Acme Ltd.",
    ],
)
def test_a_word_that_only_contains_a_sharing_verb_shares_nothing(text: str) -> None:
    """ "provider", "shareholder" and "trademark" hold a sharing verb's letters, not the act."""
    assert not [p for p in stated(text) if p.kind == "share"]


def test_using_the_services_of_third_parties_is_sharing_with_them() -> None:
    text = (
        "We use the services of third parties, such as payment processors and hosting "
        "companies, who act on our behalf."
    )
    shares = [p.recipient for p in stated(text) if p.kind == "share"]
    assert shares == ["processor", "processor"]  # one for each named
