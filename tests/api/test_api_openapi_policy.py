"""The OpenAPI document is the policy's: it names what the policy has, and a request it allows
is one the server accepts, while one it refuses the server refuses too (422). The security
suite holds every operation to that with schemathesis; these pin the cases by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from api_support import EXAMPLES, Service

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.errors import CollectionError
from pledge.policy import load_policy
from pledge.store.vault import Vault


def validator(document: dict[str, Any], component: str) -> Any:
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    )


def test_the_document_names_what_the_policy_has(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    policy = service.vault.policy.policy
    schemas = document["components"]["schemas"]
    assert schemas["DecisionIn"]["properties"]["purpose"]["enum"] == sorted(policy.purposes)
    choice = schemas["ChoiceIn"]["properties"]["choice"]["enum"]
    assert "purpose:marketing.communications.email" in choice
    assert "stop:all" in choice
    for point in policy.collection_points:
        item = document["paths"][f"/v1/collect/{point}"]
        assert item["x-pledge-template"] == "/v1/collect/{point}"
        body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/CollectAt_{point}"}
    assert "/v1/collect/{point}" not in document["paths"]
    registration = schemas["CollectAt_registration"]
    assert registration["required"] == ["fields", "age"]
    assert registration["properties"]["age"]["minimum"] == 13
    assert registration["properties"]["fields"]["required"] == ["name", "email"]


VALID = {"fields": {"name": "Ann Lee", "email": "ann.lee@example.org"}, "age": 30}
REFUSED = {
    "an undeclared field": {**VALID, "fields": {**VALID["fields"], "shoe_size": "42"}},
    "a malformed email": {**VALID, "fields": {"name": "Ann", "email": "ann at example"}},
    "a required field missing": {**VALID, "fields": {"name": "Ann"}},
    "a blank required field": {**VALID, "fields": {"name": "  ", "email": "a@example.org"}},
    "no age where the point needs one": {"fields": VALID["fields"]},
    "a child's age": {**VALID, "age": 12},
    "a choice the point does not offer": {**VALID, "choices": {"stop:all": True}},
    "a phone number that is not one": {
        **VALID,
        "fields": {**VALID["fields"], "phone": "call me"},
    },
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_the_document_refuses_the_server_refuses(service: Service, case: str) -> None:
    document = service.client.get("/openapi.json").json()
    body = REFUSED[case]
    assert not validator(document, "CollectAt_registration").is_valid(body)
    response = service.client.post(
        "/v1/collect/registration", json=body, headers=service.as_("collector")
    )
    assert response.status_code == 422, response.text


def test_what_the_document_allows_the_server_takes(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    body = {
        **VALID,
        "fields": {**VALID["fields"], "phone": "+12025550143"},
        "choices": {"purpose:marketing.communications.email": True},
    }
    assert validator(document, "CollectAt_registration").is_valid(body)
    response = service.client.post(
        "/v1/collect/registration", json=body, headers=service.as_("collector")
    )
    assert response.status_code == 200, response.text


def test_a_date_of_birth_is_documented_old_enough(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    """A date of birth at a point with a minimum age: the document allows the dates of people
    old enough on any day of the year, and the store takes what it allows."""
    text = (
        (EXAMPLES / "zabbix.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "      phone: {category: user.contact.phone_number}\n    purposes: [essential.service,",
            "      phone: {category: user.contact.phone_number}\n"
            "      born: {category: user.demographic.date_of_birth}\n"
            "    purposes: [essential.service,",
            1,
        )
    )
    path = tmp_path / "zabbix-born.yaml"
    path.write_text(text, encoding="utf-8")
    vault = vault_factory(path)
    today = vault.clock().date()
    document = create_app(vault, settings=ApiSettings(data_dir=tmp_path)).openapi()
    check = validator(document, "CollectAt_registration")
    adult = f"{today.year - 14}-06-15"
    child = f"{today.year - 10}-06-15"
    fields = {"name": "Ann", "email": "ann@example.org"}
    assert check.is_valid({"fields": {**fields, "born": adult}, "age": 30})
    assert not check.is_valid({"fields": {**fields, "born": child}, "age": 30})
    vault.collect("registration", {**fields, "born": adult}, age=30)
    with pytest.raises(CollectionError):
        vault.collect("registration", {**fields, "born": child}, age=30)
    assert load_policy(path).policy.collection_points["registration"].min_age == 13
    assert dt.date.fromisoformat(adult) < today


def test_with_a_children_section_the_document_asks_for_the_highest_consent_age(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    """A child under the consent age needs a parent's consent; the document describes the
    requests that need none, so its minimum age is the highest consent age anywhere."""
    text = (EXAMPLES / "zabbix.yaml").read_text(encoding="utf-8")
    text += "\nchildren:\n  consent_age: 16\n  jurisdictions: {US: 13}\n"
    path = tmp_path / "zabbix-children.yaml"
    path.write_text(text, encoding="utf-8")
    vault = vault_factory(path)
    document = create_app(vault, settings=ApiSettings(data_dir=tmp_path)).openapi()
    age = document["components"]["schemas"]["CollectAt_registration"]["properties"]["age"]
    assert age["minimum"] == 16
    fields = {"name": "Ann", "email": "ann@example.org"}
    vault.collect("registration", fields, age=16)
    with pytest.raises(CollectionError):
        vault.collect("registration", {**fields, "email": "kid@example.org"}, age=15)
