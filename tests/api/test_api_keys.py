"""API keys: authentication, scopes, and their management over HTTP."""

from __future__ import annotations

import time

import pytest
from api_support import Service, ServiceFactory, assert_problem

from pledge.api.keys import KeyStore

SUBJECT = "0" * 32


def test_no_key_is_401_with_a_bearer_challenge(service: Service) -> None:
    response = service.client.get("/v1/policy")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_malformed_unknown_and_wrong_keys_are_401(service: Service) -> None:
    key_id = service.key_id("admin")
    for presented in ("garbage", "plg_nodot", f"plg_{'0' * 16}.secret", f"plg_{key_id}.wrong"):
        response = service.client.get(
            "/v1/policy", headers={"Authorization": f"Bearer {presented}"}
        )
        assert_problem(response, 401, "unauthenticated")
    basic = service.client.get("/v1/policy", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(basic, 401, "unauthenticated")


def test_admin_creates_lists_and_revokes_keys(service: Service) -> None:
    admin = service.as_("admin")
    created = service.client.post(
        "/v1/admin/keys",
        json={"scope": "role", "actor": "support", "name": "helpdesk"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    service.sensitive.add(body["key"])
    assert body["scope"] == "role"
    assert body["actor"] == "support"
    assert body["key"].startswith(f"plg_{body['key_id']}.")
    new = {"Authorization": f"Bearer {body['key']}"}
    assert service.client.get("/v1/policy", headers=new).status_code == 200

    listed = service.client.get("/v1/admin/keys", headers=admin).json()
    assert body["key_id"] in {k["key_id"] for k in listed}
    assert "key" not in listed[0]

    revoked = service.client.delete(f"/v1/admin/keys/{body['key_id']}", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    after = service.client.get("/v1/policy", headers=new)
    assert "revoked" in assert_problem(after, 401, "unauthenticated")["detail"]
    again = service.client.delete(f"/v1/admin/keys/{body['key_id']}", headers=admin)
    assert_problem(again, 409, "conflict")
    unknown = service.client.delete(f"/v1/admin/keys/{'1' * 16}", headers=admin)
    assert_problem(unknown, 404, "not_found")


def test_a_key_must_name_an_actor_of_the_policy(service: Service) -> None:
    admin = service.as_("admin")
    typo = service.client.post(
        "/v1/admin/keys", json={"scope": "role", "actor": "suport"}, headers=admin
    )
    body = assert_problem(typo, 422, "invalid_input")
    assert body["errors"][0]["field"] == "actor"
    assert "did you mean 'support'" in body["detail"]
    missing = service.client.post("/v1/admin/keys", json={"scope": "recipient"}, headers=admin)
    assert_problem(missing, 422, "invalid_input")
    admin_with_actor = service.client.post(
        "/v1/admin/keys", json={"scope": "admin", "actor": "sales"}, headers=admin
    )
    assert_problem(admin_with_actor, 422, "invalid_input")
    scope = service.client.post("/v1/admin/keys", json={"scope": "root"}, headers=admin)
    assert assert_problem(scope, 422, "invalid_input")["errors"][0]["field"] == "body.scope"


def test_only_admins_manage_keys(service: Service) -> None:
    response = service.client.get("/v1/admin/keys", headers=service.as_("role:sales"))
    assert_problem(response, 403, "forbidden")


# Which scopes may call each endpoint (docs/api.md); every other scope gets 403.
STAFF = {"role", "agent", "admin"}
ASKERS = {"role", "agent", "recipient", "admin"}
EVERYONE = {"collector", "role", "agent", "recipient", "admin"}
SCOPES = {
    ("POST", "/v1/collect/newsletter"): {"collector"},
    ("POST", "/v1/collect/newsletter/bulk"): {"collector"},
    ("POST", "/v1/subject-tokens"): {"collector"},
    ("POST", "/v1/subjects/lookup"): STAFF,
    ("POST", "/v1/reports/errors"): {"collector"},
    ("GET", f"/v1/subjects/{SUBJECT}/data"): {"role", "agent"},
    ("GET", f"/v1/subjects/{SUBJECT}/consents"): STAFF,
    ("GET", f"/v1/subjects/{SUBJECT}/consents/history"): STAFF,
    ("POST", f"/v1/subjects/{SUBJECT}/consents/grant"): {"collector", "agent", "admin"},
    ("POST", f"/v1/subjects/{SUBJECT}/consents/withdraw"): {"collector", "agent", "admin"},
    ("POST", f"/v1/subjects/{SUBJECT}/cookie-receipts"): {"collector"},
    ("POST", "/v1/disclosures"): {"recipient"},
    ("POST", "/v1/aggregates"): {"recipient"},
    ("GET", f"/v1/subjects/{SUBJECT}/disclosures"): STAFF,
    ("POST", "/v1/decisions"): ASKERS,
    ("POST", "/v1/decisions/bulk"): ASKERS,
    ("POST", "/v1/mail/messages"): {"admin"},
    ("POST", "/v1/mail/campaigns"): {"admin"},
    ("GET", f"/v1/mail/campaigns/{'0' * 32}"): {"admin"},
    ("GET", f"/v1/subjects/{SUBJECT}/export"): {"admin"},
    ("PATCH", f"/v1/subjects/{SUBJECT}/data/name"): {"admin"},
    ("DELETE", f"/v1/subjects/{SUBJECT}"): {"admin"},
    ("POST", f"/v1/subjects/{SUBJECT}/credentials/registration/password/verify"): {
        "collector",
        "admin",
    },
    ("GET", "/v1/audit/verify"): {"admin"},
    ("GET", "/v1/audit/entries/0/proof"): {"admin"},
    ("GET", f"/v1/subjects/{SUBJECT}/audit"): {"admin"},
    ("GET", "/v1/policy"): EVERYONE,
    ("GET", "/v1/policy/file"): EVERYONE,
    ("GET", "/v1/admin/keys"): {"admin"},
    ("POST", "/v1/admin/keys"): {"admin"},
    ("DELETE", f"/v1/admin/keys/{'0' * 16}"): {"admin"},
    ("GET", "/v1/requests"): {"role", "admin"},
    ("GET", f"/v1/requests/{'0' * 32}"): {"role", "admin"},
    ("POST", f"/v1/requests/{'0' * 32}/verify"): {"role", "admin"},
    ("POST", f"/v1/requests/{'0' * 32}/start"): {"role", "admin"},
    ("POST", f"/v1/requests/{'0' * 32}/extend"): {"role", "admin"},
    ("POST", f"/v1/requests/{'0' * 32}/answer"): {"role", "admin"},
    ("POST", f"/v1/requests/{'0' * 32}/refuse"): {"role", "admin"},
    ("POST", f"/v1/subjects/{SUBJECT}/requests"): {"admin"},
}
KEYS = {
    "collector": "collector",
    "role": "role:support",
    "agent": "agent:support",
    "recipient": "recipient:payment_gateway",
    "admin": "admin",
}


def test_the_scope_table_covers_every_operation(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    operations = {
        (method.upper(), item.get("x-pledge-template", path))
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/v1/") and not method.startswith("x-")
    }
    assert len(operations) == len(SCOPES)


@pytest.mark.parametrize(("method", "path"), sorted(SCOPES))
def test_every_endpoint_needs_a_key_of_its_scopes(service: Service, method: str, path: str) -> None:
    anonymous = service.client.request(method, path, json={})
    assert_problem(anonymous, 401, "unauthenticated")
    for scope, who in KEYS.items():
        response = service.client.request(method, path, json={}, headers=service.as_(who))
        if scope in SCOPES[method, path]:
            assert response.status_code not in (401, 403), (scope, response.text)
        else:
            assert_problem(response, 403, "forbidden")


def test_a_key_revoked_by_another_process_is_refused_within_the_cache_time(
    make_service: ServiceFactory,
) -> None:
    """Workers remember a checked key briefly; a revocation they did not make reaches them
    within ``api_key_cache_seconds``, and an unknown key is never remembered as good."""
    service = make_service("zabbix", api_key_cache_seconds=0.3)
    headers = service.as_("role:support")
    assert service.client.get("/v1/policy", headers=headers).status_code == 200
    elsewhere = KeyStore(service.vault)  # another worker's view of the same database
    elsewhere.revoke(service.key_id("role:support"), by="test")
    time.sleep(0.35)
    after = service.client.get("/v1/policy", headers=headers)
    assert "revoked" in assert_problem(after, 401, "unauthenticated")["detail"]


def test_a_cached_key_still_needs_its_secret(make_service: ServiceFactory) -> None:
    service = make_service("zabbix", api_key_cache_seconds=60)
    key_id = service.key_id("admin")
    assert service.client.get("/v1/policy", headers=service.as_("admin")).status_code == 200
    forged = {"Authorization": f"Bearer plg_{key_id}.not-the-secret"}
    assert_problem(service.client.get("/v1/policy", headers=forged), 401, "unauthenticated")
