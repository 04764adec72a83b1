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
