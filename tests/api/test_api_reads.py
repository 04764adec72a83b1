"""Purpose-bound reads over HTTP: a role key gets what the policy's decision releases."""

from __future__ import annotations

from api_support import Service, assert_problem, person

SUPPORT = "essential.service.operations.support"
MARKETING = "marketing.communications.email"


def _subject(service: Service) -> tuple[str, dict[str, str]]:
    fields = person(service.vault)
    return service.collect("registration", fields, age=30)["subject"], fields


def test_a_role_reads_what_its_categories_allow_and_sees_why_the_rest_is_withheld(
    service: Service,
) -> None:
    subject, fields = _subject(service)
    response = service.client.get(
        f"/v1/subjects/{subject}/data",
        params={"purpose": SUPPORT},
        headers=service.as_("role:support"),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["values"] == {
        "registration.name": fields["name"],
        "registration.email": fields["email"],
    }
    assert body["withheld"]["registration.phone"]["code"] == "category_not_granted"
    assert body["withheld"]["registration.phone"]["ref"] == "roles.support.categories"


def test_a_purpose_the_role_does_not_hold_is_403_with_the_policy_reason(service: Service) -> None:
    subject, _ = _subject(service)
    response = service.client.get(
        f"/v1/subjects/{subject}/data",
        params={"purpose": MARKETING},
        headers=service.as_("role:sales"),
    )
    body = assert_problem(response, 403, "denied")
    assert body["reason"] == {
        "code": "purpose_not_granted",
        "message": f"role 'sales' may not act for '{MARKETING}'",
        "ref": "roles.sales.purposes",
    }


def test_categories_narrow_the_read(service: Service) -> None:
    subject, fields = _subject(service)
    response = service.client.get(
        f"/v1/subjects/{subject}/data",
        params={"purpose": SUPPORT, "category": "user.contact.email"},
        headers=service.as_("role:sales"),
    )
    assert response.json()["values"] == {"registration.email": fields["email"]}


def test_only_role_keys_read(service: Service) -> None:
    subject, _ = _subject(service)
    for who in ("admin", "recipient:payment_gateway"):
        response = service.client.get(
            f"/v1/subjects/{subject}/data", params={"purpose": SUPPORT}, headers=service.as_(who)
        )
        assert_problem(response, 403, "forbidden")


def test_unknown_purpose_is_an_input_problem(service: Service) -> None:
    subject, _ = _subject(service)
    response = service.client.get(
        f"/v1/subjects/{subject}/data",
        params={"purpose": "essential.servce"},
        headers=service.as_("role:sales"),
    )
    assert "did you mean" in assert_problem(response, 422, "invalid_input")["detail"]


def test_missing_purpose_and_malformed_id_name_the_field(service: Service) -> None:
    response = service.client.get("/v1/subjects/not-an-id/data", headers=service.as_("role:sales"))
    fields = {e["field"] for e in assert_problem(response, 422, "invalid_input")["errors"]}
    assert fields == {"path.subject", "query.purpose"}


def test_unknown_subject_is_404(service: Service) -> None:
    response = service.client.get(
        f"/v1/subjects/{'f' * 32}/data",
        params={"purpose": SUPPORT},
        headers=service.as_("role:sales"),
    )
    assert_problem(response, 404, "not_found")
