"""Every operation of the live server's OpenAPI document against a key of every scope: the
table below is the promise (who may call what), and the server must keep it to the letter.
Allowed means the scope check let the request through (it may still be refused for its
content); denied means 403 ``forbidden``, before anything else is looked at."""

from __future__ import annotations

import pytest

from tests.security.served import SCOPES, Server

STAFF = {"role", "agent", "admin"}
ASKERS = {"role", "agent", "recipient", "admin"}
EVERYONE = set(SCOPES)
TABLE: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/collect/{point}"): {"collector"},
    ("POST", "/v1/collect/{point}/bulk"): {"collector"},
    ("POST", "/v1/subject-tokens"): {"collector"},
    ("POST", "/v1/subjects/lookup"): STAFF,
    ("POST", "/v1/reports/{kind}"): {"collector"},
    ("GET", "/v1/subjects/{subject}/data"): {"role", "agent"},
    ("GET", "/v1/subjects/{subject}/consents"): STAFF,
    ("GET", "/v1/subjects/{subject}/consents/history"): STAFF,
    ("POST", "/v1/subjects/{subject}/consents/grant"): {"collector", "agent", "admin"},
    ("POST", "/v1/subjects/{subject}/consents/withdraw"): {"collector", "agent", "admin"},
    ("POST", "/v1/subjects/{subject}/cookie-receipts"): {"collector"},
    ("POST", "/v1/disclosures"): {"recipient"},
    ("POST", "/v1/aggregates"): {"recipient"},
    ("GET", "/v1/subjects/{subject}/disclosures"): STAFF,
    ("POST", "/v1/decisions"): ASKERS,
    ("POST", "/v1/decisions/bulk"): ASKERS,
    ("POST", "/v1/mail/messages"): {"admin"},
    ("POST", "/v1/mail/campaigns"): {"admin"},
    ("GET", "/v1/mail/campaigns/{job}"): {"admin"},
    ("GET", "/v1/subjects/{subject}/export"): {"admin"},
    ("PATCH", "/v1/subjects/{subject}/data/{field}"): {"admin"},
    ("DELETE", "/v1/subjects/{subject}"): {"admin"},
    ("POST", "/v1/subjects/{subject}/credentials/{point}/{field}/verify"): {"collector", "admin"},
    ("GET", "/v1/audit/verify"): {"admin"},
    ("GET", "/v1/audit/entries/{seq}/proof"): {"admin"},
    ("GET", "/v1/subjects/{subject}/audit"): {"admin"},
    ("GET", "/v1/policy"): EVERYONE,
    ("GET", "/v1/policy/file"): EVERYONE,
    ("GET", "/v1/admin/keys"): {"admin"},
    ("POST", "/v1/admin/keys"): {"admin"},
    ("DELETE", "/v1/admin/keys/{key_id}"): {"admin"},
    ("GET", "/v1/requests"): {"role", "admin"},
    ("GET", "/v1/requests/{request_id}"): {"role", "admin"},
    ("POST", "/v1/requests/{request_id}/verify"): {"role", "admin"},
    ("POST", "/v1/requests/{request_id}/start"): {"role", "admin"},
    ("POST", "/v1/requests/{request_id}/extend"): {"role", "admin"},
    ("POST", "/v1/requests/{request_id}/answer"): {"role", "admin"},
    ("POST", "/v1/requests/{request_id}/refuse"): {"role", "admin"},
    ("POST", "/v1/subjects/{subject}/requests"): {"admin"},
}
PARAMETERS = {
    "point": "registration",
    "field": "name",
    "seq": "0",
    "key_id": "0" * 16,
    "job": "0" * 32,
    "kind": "errors",
    "request_id": "0" * 32,
}


def operations(server: Server) -> set[tuple[str, str]]:
    """Each operation by its template: a path the document has per collection point or
    per field (``/v1/collect/registration``) names its template."""
    document = server.client.get("/openapi.json").json()
    return {
        (method.upper(), item.get("x-pledge-template", path))
        for path, item in document["paths"].items()
        for method in item
        if path.startswith("/v1/") and not method.startswith("x-")
    }


def test_the_table_names_every_operation_of_the_document(server: Server) -> None:
    assert operations(server) == set(TABLE)


@pytest.mark.parametrize(("method", "template"), sorted(TABLE))
def test_each_operation_admits_exactly_its_scopes(
    server: Server, method: str, template: str
) -> None:
    subject = server.collect("registration", {"name": "Table Person", "email": "t@example.org"})
    path = template.format(**PARAMETERS, subject=subject["subject"] or "0" * 32)
    anonymous = server.client.request(method, path, json={})
    assert anonymous.status_code == 401
    for scope in SCOPES:
        response = server.client.request(method, path, json={}, headers=server.as_(scope))
        assert response.status_code < 500, (scope, response.text)
        if scope in TABLE[method, template]:
            refused = response.status_code == 403 and response.json()["code"] == "forbidden"
            assert not refused, (scope, response.text)
            assert response.status_code != 401, (scope, response.text)
        else:
            assert response.status_code == 403, (scope, response.text)
            assert response.json()["code"] == "forbidden"
