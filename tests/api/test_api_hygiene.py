"""Hostile input and guessing: bad keys and tokens are slowed per address and key id, hostile
characters are refused naming the field, the last admin key stays, and pages carry their
security headers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_support import Service, ServiceFactory, assert_problem, person

from pledge.api.keys import KeyStore


def value(service: Service, subject: str, field: str) -> str:
    data = service.vault.export(subject)["data"]
    return str(next(v["value"] for v in data if v["field"] == field))


def test_guessing_keys_is_limited_per_address_with_retry_after(
    make_service: ServiceFactory,
) -> None:
    service = make_service("zabbix", failures_burst=5, failures_per_minute=1)
    good = service.as_("admin")
    for n in range(5):
        bad = {"Authorization": f"Bearer plg_{n:016x}.guess"}
        assert_problem(service.client.get("/v1/policy", headers=bad), 401, "unauthenticated")
    limited = service.client.get("/v1/policy", headers={"Authorization": "Bearer plg_x.y"})
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    # The same address is refused even with a good key until the bucket refills: the check
    # comes before the key is looked at, so a flood costs no database work.
    assert_problem(service.client.get("/v1/policy", headers=good), 429, "rate_limited")


def test_guessing_one_keys_secret_is_limited_per_key_id(make_service: ServiceFactory) -> None:
    service = make_service("zabbix", failures_burst=3, failures_per_minute=1)
    key_id = service.key_id("admin")
    store = service.client.app.state.failures  # type: ignore[attr-defined]
    for _ in range(3):
        store.fail(f"key:{key_id}")  # three guesses at its secret, from other addresses
    guess = {"Authorization": f"Bearer plg_{key_id}.wrong"}
    assert_problem(service.client.get("/v1/policy", headers=guess), 429, "rate_limited")


@pytest.mark.parametrize(
    "hostile", ["a\ud800b", "nul\x00byte", "bell\x07", "esc\x1b[31m", "c1\x85"], ids=repr
)
def test_hostile_characters_are_422_naming_the_field(service: Service, hostile: str) -> None:
    def post(body: dict[str, object]) -> Any:
        return service.client.post(
            "/v1/collect/registration",
            content=json.dumps(body),  # ASCII, with \\uXXXX escapes, as an attacker sends it
            headers={**service.as_("collector"), "content-type": "application/json"},
        )

    response = post({"fields": {"name": hostile, "email": "ann@example.org"}, "age": 30})
    body = assert_problem(response, 422, "invalid_input")
    assert body["errors"][0]["field"].startswith("body.fields")
    keyed = post({"fields": {"email": "ann@example.org"}, "choices": {hostile: True}, "age": 30})
    assert_problem(keyed, 422, "invalid_input")


def test_addresses_keep_their_newlines(service: Service) -> None:
    fields = {**person(service.vault), "mailing_address": "1 Main St\nSpringfield\tUSA"}
    assert service.collect("registration", fields, age=30)["created"] is True


def test_an_overlong_name_is_422_naming_it(service: Service) -> None:
    response = service.client.post(
        "/v1/collect/registration",
        json={"fields": {"name": "x" * 2001, "email": "ann@example.org"}, "age": 30},
        headers=service.as_("collector"),
    )
    assert assert_problem(response, 422, "collection_refused")["errors"][0]["field"] == "name"


def test_the_last_admin_key_cannot_be_revoked(service: Service) -> None:
    admin = service.as_("admin")
    only = service.key_id("admin")
    refused = service.client.delete(f"/v1/admin/keys/{only}", headers=admin)
    assert "last live admin key" in assert_problem(refused, 409, "conflict")["detail"]
    second, _ = KeyStore(service.vault).create("admin", None, "second", by="test")
    assert service.client.delete(f"/v1/admin/keys/{only}", headers=admin).status_code == 200
    with pytest.raises(Exception, match="last live admin key"):
        KeyStore(service.vault).revoke(second.key_id, by="test")


def test_every_page_carries_csp_nosniff_and_no_referrer(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    pending = service.collect(
        "registration", {"email": value(service, subject, "email"), "name": "Some One"}, age=30
    )["pending"]
    token = service.vault.confirmation_token(pending)
    for path in (f"/confirm/{token}", f"/confirm/{token}x", "/unsubscribe/" + "a" * 52):
        page = service.client.get(path, headers={"accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "default-src 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
    api = service.client.get("/v1/policy", headers=service.as_("admin"))
    assert api.headers["x-content-type-options"] == "nosniff"


def test_a_confirmation_page_asks_then_confirms_once(service: Service) -> None:
    fields = person(service.vault)
    subject = service.collect("registration", fields, age=30)["subject"]
    service.sensitive.add("Other Person")
    pending = service.collect(
        "registration", {"email": fields["email"], "name": "Other Person"}, age=30
    )["pending"]
    token = service.vault.confirmation_token(pending)
    asked = service.client.get(f"/confirm/{token}", headers={"accept": "text/html"})
    assert asked.status_code == 200
    assert "Confirm" in asked.text
    assert value(service, subject, "name") == fields["name"]  # the GET changed nothing
    assert service.client.post(f"/confirm/{token}").json()["confirmed"] is True
    assert value(service, subject, "name") == "Other Person"
    assert_problem(service.client.post(f"/confirm/{token}"), 400, "confirmation_invalid")


def test_guessing_confirmation_links_is_limited(make_service: ServiceFactory) -> None:
    service = make_service("zabbix", failures_burst=3, failures_per_minute=1)
    for n in range(3):
        assert_problem(service.client.post(f"/confirm/guess{n}"), 400, "confirmation_invalid")
    assert_problem(service.client.post("/confirm/guess9"), 429, "rate_limited")
    assert_problem(service.client.post("/unsubscribe/" + "a" * 52), 429, "rate_limited")
