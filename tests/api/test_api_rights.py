"""A data subject's rights over HTTP, answered with an admin key: export, rectify, erase."""

from __future__ import annotations

from api_support import Service, assert_problem, person


def test_export_holds_everything_and_is_not_cached(service: Service) -> None:
    fields = person(service.vault)
    subject = service.collect(
        "registration", fields, age=30, choices={"marketing.communications.email": True}
    )["subject"]
    response = service.client.get(f"/v1/subjects/{subject}/export", headers=service.as_("admin"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert {d["field"]: d["value"] for d in body["data"]} == fields
    assert [c["choice"] for c in body["choices"]] == ["purpose:marketing.communications.email"]
    assert body["status"] == "active"


def test_rectify_corrects_the_value_and_checks_its_shape(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    admin = service.as_("admin")
    service.sensitive.add("Corrected Name")
    fixed = service.client.patch(
        f"/v1/subjects/{subject}/data/name", json={"value": "Corrected Name"}, headers=admin
    )
    assert fixed.json() == {"subject": subject, "fields": ["registration.name"]}
    export = service.client.get(f"/v1/subjects/{subject}/export", headers=admin).json()
    assert {d["field"]: d["value"] for d in export["data"]}["name"] == "Corrected Name"

    bad = service.client.patch(
        f"/v1/subjects/{subject}/data/email", json={"value": "not an address"}, headers=admin
    )
    assert assert_problem(bad, 422, "collection_refused")["errors"][0]["field"] == "email"
    assert "not an address" not in bad.text
    missing = service.client.patch(
        f"/v1/subjects/{subject}/data/shoe_size", json={"value": "42"}, headers=admin
    )
    assert_problem(missing, 404, "not_found")


def test_erase_destroys_the_subject(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    admin = service.as_("admin")
    erased = service.client.delete(f"/v1/subjects/{subject}", headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["key_destroyed"] is True
    assert sorted(erased.json()["deleted_fields"]) == [
        "registration.email",
        "registration.mailing_address",
        "registration.name",
        "registration.phone",
    ]
    assert_problem(
        service.client.get(f"/v1/subjects/{subject}/export", headers=admin), 404, "not_found"
    )
    assert_problem(
        service.client.delete(f"/v1/subjects/{subject}", headers=admin), 404, "not_found"
    )


def test_rights_need_an_admin_key(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    staff = service.as_("role:sales")
    for response in (
        service.client.get(f"/v1/subjects/{subject}/export", headers=staff),
        service.client.patch(
            f"/v1/subjects/{subject}/data/name", json={"value": "X Y"}, headers=staff
        ),
        service.client.delete(f"/v1/subjects/{subject}", headers=staff),
    ):
        assert_problem(response, 403, "forbidden")


def test_rectify_validates_the_body(service: Service) -> None:
    response = service.client.patch(
        f"/v1/subjects/{'d' * 32}/data/name", json={"value": 7}, headers=service.as_("admin")
    )
    assert assert_problem(response, 422, "invalid_input")["errors"][0]["field"] == "body.value"
