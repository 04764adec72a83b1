"""Collection at a point, in bulk, and finding a subject by email."""

from __future__ import annotations

import random

import pytest
from api_support import Service, assert_problem, person
from sqlalchemy import func, select

from pledge.store.schema import subjects


def test_collect_creates_a_subject_and_stamps_the_policy_version(service: Service) -> None:
    fields = person(service.vault)
    body = service.collect("registration", fields, age=30)
    assert body["created"] is True
    assert body["fields"] == sorted(fields)
    assert body["policy_version"] == "2015-04-13"
    assert body["pending"] is None


def test_a_stranger_with_someones_email_gets_a_pending_change_not_their_record(
    service: Service,
) -> None:
    fields = person(service.vault)
    subject = service.collect("registration", fields, age=30)["subject"]
    again = service.collect(
        "registration", {"email": fields["email"], "name": "Other Name"}, age=30
    )
    assert again["subject"] is None  # whose address it was is not told
    assert again["created"] is False
    assert again["pending"]
    export = service.client.get(f"/v1/subjects/{subject}/export", headers=service.as_("admin"))
    assert "Other Name" not in export.text
    assert fields["name"] in export.text


def test_writing_into_a_subject_needs_its_token_for_this_key(service: Service) -> None:
    fields = person(service.vault)
    subject = service.collect("registration", fields, age=30)["subject"]
    body = {"fields": {**fields, "name": "Changed Name"}, "age": 30, "subject": subject}
    service.sensitive.add("Changed Name")
    refused = service.client.post(
        "/v1/collect/registration", json=body, headers=service.as_("collector")
    )
    assert_problem(refused, 403, "proof_required")
    other = service.key("collector")
    minted = service.client.post(
        "/v1/subject-tokens",
        json={"subject": subject},
        headers={"Authorization": f"Bearer {other}"},
    ).json()
    service.sensitive.add(minted["token"])
    stolen = service.client.post(
        "/v1/collect/registration",
        json={**body, "subject_token": minted["token"]},
        headers=service.as_("collector"),
    )
    assert_problem(stolen, 403, "proof_required")
    own = service.client.post(
        "/v1/subject-tokens", json={"subject": subject}, headers=service.as_("collector")
    ).json()
    service.sensitive.add(own["token"])
    done = service.collect(
        "registration", body["fields"], subject=subject, subject_token=own["token"], age=30
    )
    assert done["subject"] == subject
    assert done["pending"] is None


def test_collect_refuses_an_undeclared_field_naming_it(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/newsletter",
        json={"fields": {"email": "ann@example.org", "shoe_size": "42"}, "age": 30},
        headers=service.as_("collector"),
    )
    body = assert_problem(response, 422, "collection_refused")
    assert body["errors"] == [{"field": "shoe_size", "message": body["detail"]}]


def test_collect_refuses_someone_under_the_minimum_age(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/newsletter",
        json={"fields": {"email": "kid@example.org"}, "age": 12},
        headers=service.as_("collector"),
    )
    assert assert_problem(response, 422, "collection_refused")["errors"][0]["field"] == "age"


def test_malformed_body_is_a_validation_problem_with_the_field(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/newsletter",
        json={"fields": {"email": ["not", "text"]}, "age": "old", "colour": 1},
        headers=service.as_("collector"),
    )
    body = assert_problem(response, 422, "invalid_input")
    fields = {e["field"] for e in body["errors"]}
    assert {"body.age", "body.colour"} <= fields
    assert any(f.startswith("body.fields.email") for f in fields)
    assert "old" not in response.text  # input is never echoed


def test_invalid_json_is_a_validation_problem(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/newsletter",
        content=b'{"fields": ',
        headers={**service.as_("collector"), "Content-Type": "application/json"},
    )
    assert assert_problem(response, 422, "invalid_input")["errors"][0]["field"].startswith("body")


def test_a_token_for_an_unknown_subject_is_404(service: Service) -> None:
    response = service.client.post(
        "/v1/subject-tokens", json={"subject": "ab" * 16}, headers=service.as_("collector")
    )
    assert_problem(response, 404, "not_found")


def test_an_email_of_another_subject_is_a_conflict(service: Service) -> None:
    rng = random.Random(1)
    first = service.collect("registration", person(service.vault, rng), age=30)
    second_fields = person(service.vault, rng)
    service.collect("registration", second_fields, age=30)
    token = service.client.post(
        "/v1/subject-tokens", json={"subject": first["subject"]}, headers=service.as_("collector")
    ).json()["token"]
    service.sensitive.add(token)
    response = service.client.post(
        "/v1/collect/newsletter",
        json={
            "fields": {"email": second_fields["email"]},
            "age": 30,
            "subject": first["subject"],
            "subject_token": token,
        },
        headers=service.as_("collector"),
    )
    assert_problem(response, 409, "conflict")


def test_bulk_collect_stores_all_or_nothing(service: Service) -> None:
    rng = random.Random(2)
    items = [{"fields": person(service.vault, rng), "age": 30} for _ in range(3)]
    for item in items:
        service.sensitive.add(*item["fields"].values())
    bad = [*items, {"fields": {"name": "No Email"}, "age": 30}]
    response = service.client.post(
        "/v1/collect/registration/bulk", json={"items": bad}, headers=service.as_("collector")
    )
    assert_problem(response, 422, "collection_refused")
    with service.vault.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(subjects)).scalar() == 0
    response = service.client.post(
        "/v1/collect/registration/bulk", json={"items": items}, headers=service.as_("collector")
    )
    assert response.status_code == 200, response.text
    done = response.json()["items"]
    assert len({d["subject"] for d in done}) == 3
    assert all(d["created"] for d in done)


def test_bulk_collect_needs_at_least_one_item(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/registration/bulk", json={"items": []}, headers=service.as_("collector")
    )
    assert assert_problem(response, 422, "invalid_input")["errors"][0]["field"] == "body.items"


def test_lookup_by_email_in_the_body(service: Service) -> None:
    fields = person(service.vault)
    subject = service.collect("registration", fields, age=30)["subject"]
    found = service.client.post(
        "/v1/subjects/lookup",
        json={"kind": "email", "value": fields["email"].upper()},
        headers=service.as_("role:support"),
    )
    assert found.status_code == 200
    assert found.json() == {"subject": subject}
    missing = service.client.post(
        "/v1/subjects/lookup",
        json={"kind": "email", "value": "nobody@example.org"},
        headers=service.as_("role:support"),
    )
    body = assert_problem(missing, 404, "not_found")
    assert "nobody" not in missing.text
    assert "nobody" not in body["detail"]


def test_only_collector_keys_collect(service: Service) -> None:
    for who in ("recipient:payment_gateway", "role:support", "agent:support", "admin"):
        response = service.client.post(
            "/v1/collect/newsletter",
            json={"fields": {"email": "ann@example.org"}, "age": 30},
            headers=service.as_(who),
        )
        assert_problem(response, 403, "forbidden")


def _order_form(**inputs: str) -> dict[str, object]:
    """What a checkout form posts: every input, as text, an empty string when left blank (the
    card number goes to the payment gateway, not here)."""
    form = {
        "name": "Anna Ozola",
        "email": "anna@example.lv",
        "mailing_address": "Brivibas 1, Riga",
        "phone": "",
        **inputs,
    }
    return {"fields": form, "age": "33"}


def test_a_form_with_an_empty_optional_input_is_collected_without_it(service: Service) -> None:
    service.sensitive.add("Anna Ozola", "anna@example.lv", "Brivibas 1, Riga", "+37120000000")
    website = service.as_("collector")
    blank = service.client.post("/v1/collect/order", json=_order_form(), headers=website)
    assert blank.status_code == 200, blank.text
    assert blank.json()["fields"] == ["email", "mailing_address", "name"]
    subject = blank.json()["subject"]
    signed_in = {"subject": subject, "subject_token": service.subject_token(subject)}

    given = {**_order_form(phone="+371 2000 0000"), **signed_in}
    assert service.client.post("/v1/collect/order", json=given, headers=website).status_code == 200
    spaces = service.client.post(
        "/v1/collect/order", json={**_order_form(phone="  "), **signed_in}, headers=website
    )
    assert spaces.json() == {**blank.json(), "created": False}
    exported = service.client.get(
        f"/v1/subjects/{subject}/export", headers=service.as_("admin")
    ).json()
    phones = [v for v in exported["data"] if v["field"] == "phone"]
    assert [v["value"] for v in phones] == ["+37120000000"]  # a blank input erases nothing


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_form_with_an_empty_required_input_is_refused_by_name(
    service: Service, blank: str
) -> None:
    response = service.client.post(
        "/v1/collect/order",
        json=_order_form(mailing_address=blank),
        headers=service.as_("collector"),
    )
    body = assert_problem(response, 422, "collection_refused")
    assert body["detail"] == "field 'order.mailing_address' is required"
    assert body["errors"] == [{"field": "mailing_address", "message": body["detail"]}]
    assert service.vault.find("email", "anna@example.lv") is None  # nothing half-stored


def test_an_empty_input_the_point_does_not_declare_is_still_refused(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/order", json=_order_form(coupon=""), headers=service.as_("collector")
    )
    assert assert_problem(response, 422, "collection_refused")["errors"][0]["field"] == "coupon"
