"""Disclosures over HTTP: a recipient key gets what the policy lets it have, as itself."""

from __future__ import annotations

from api_support import Service, assert_problem, person

PAYMENT = "essential.service.payment_processing"
GATEWAY = "recipient:payment_gateway"


def test_the_gateway_gets_name_and_address_for_payment_and_the_subject_sees_it(
    service: Service,
) -> None:
    fields = person(service.vault)
    subject = service.collect("order", fields, age=30)["subject"]
    response = service.client.post(
        "/v1/disclosures",
        json={
            "subjects": [subject],
            "purpose": PAYMENT,
            "categories": ["user.name", "user.contact"],
        },
        headers=service.as_(GATEWAY),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["recipient"] == "payment_gateway"
    assert body["released"] == {
        subject: {
            "order.name": fields["name"],
            "order.mailing_address": fields["mailing_address"],
        }
    }
    assert body["refused"] == {}
    assert "aggregate" not in body

    listed = service.client.get(f"/v1/subjects/{subject}/disclosures", headers=service.as_("admin"))
    assert listed.status_code == 200
    [entry] = listed.json()
    assert entry["recipient"] == "payment_gateway"
    assert entry["purpose"] == PAYMENT
    assert sorted(entry["categories"]) == ["user.contact.address", "user.name"]


def test_a_purpose_the_recipient_does_not_receive_for_is_refused_per_subject(
    service: Service,
) -> None:
    subject = service.collect("order", person(service.vault), age=30)["subject"]
    response = service.client.post(
        "/v1/disclosures",
        json={
            "subjects": [subject],
            "purpose": "marketing.communications.email",
            "categories": ["user.name"],
        },
        headers=service.as_(GATEWAY),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["released"] == {}
    assert body["refused"][subject]["code"] == "purpose_not_granted"


def test_only_recipient_keys_request_disclosures(service: Service) -> None:
    subject = service.collect("order", person(service.vault), age=30)["subject"]
    for who in ("admin", "role:sales"):
        response = service.client.post(
            "/v1/disclosures",
            json={"subjects": [subject], "purpose": PAYMENT, "categories": ["user.name"]},
            headers=service.as_(who),
        )
        assert_problem(response, 403, "forbidden")


def test_a_recipient_cannot_name_another_recipient(service: Service) -> None:
    response = service.client.post(
        "/v1/disclosures",
        json={
            "subjects": ["a" * 32],
            "purpose": PAYMENT,
            "categories": ["user.name"],
            "recipient": "someone_else",
        },
        headers=service.as_(GATEWAY),
    )
    assert assert_problem(response, 422, "invalid_input")["errors"][0]["field"] == "body.recipient"


def test_a_recipient_cannot_list_disclosures_or_read(service: Service) -> None:
    subject = service.collect("order", person(service.vault), age=30)["subject"]
    listed = service.client.get(f"/v1/subjects/{subject}/disclosures", headers=service.as_(GATEWAY))
    assert_problem(listed, 403, "forbidden")


def test_disclosure_of_an_unknown_subject_is_404(service: Service) -> None:
    response = service.client.post(
        "/v1/disclosures",
        json={"subjects": ["b" * 32], "purpose": PAYMENT, "categories": ["user.name"]},
        headers=service.as_(GATEWAY),
    )
    assert_problem(response, 404, "not_found")
