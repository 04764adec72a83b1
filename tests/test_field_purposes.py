"""Purposes per field inside a collection point: a field given narrower purposes than its
point is released only for those; a field purpose the point does not have, or two fields of
one category with different purposes, is refused with the place in the file."""

from __future__ import annotations

from typing import Any

import pytest

from pledge.errors import PolicyError
from pledge.policy import Actor, Request, decide, load_policy_text
from tests.policy_changes.derive import derived

PAYMENT = "essential.service.payment_processing"
ORDER_PURPOSES = ["essential.service", PAYMENT, "essential.service.notifications.email"]


def phone_for_payment_only(d: dict[str, Any]) -> None:
    d["collection_points"]["purchase"]["fields"]["phone"]["purposes"] = [PAYMENT]


def test_a_field_is_released_only_for_its_own_purposes() -> None:
    policy = load_policy_text(derived("bitrix", phone_for_payment_only))
    phone = ("user.contact.phone_number",)
    at_purchase = frozenset({"purchase"})
    sales = Actor.role("sales")
    paying = decide(policy, Request(sales, PAYMENT, phone, points=at_purchase))
    assert paying.allowed
    notifying = decide(
        policy, Request(sales, "essential.service.notifications.email", phone, points=at_purchase)
    )
    assert not notifying.allowed
    assert notifying.withheld[0][1].code == "not_collected_for_purpose"
    # The point's other fields keep all its purposes.
    email = ("user.contact.email",)
    notify = Request(sales, "essential.service.notifications.email", email, points=at_purchase)
    assert decide(policy, notify).allowed


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["collection_points"]["purchase"]["fields"]["phone"].update(
                purposes=["analytics.reporting"]
            ),
            "'analytics.reporting' is not among the purposes of point 'purchase'",
        ),
        (
            lambda d: d["collection_points"]["purchase"]["fields"].update(
                mobile={"category": "user.contact.phone_number", "purposes": ORDER_PURPOSES[:1]}
            ),
            "fields 'phone' and 'mobile' are both user.contact.phone_number",
        ),
    ],
    ids=["not-the-points", "same-category-differs"],
)
def test_field_purposes_that_cannot_hold_are_refused(edit: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as raised:
        load_policy_text(derived("bitrix", edit))
    assert "collection_points.purchase.fields" in (raised.value.fields.get("path") or "")
