"""Audit verification and proofs, the policy in force, health and metrics."""

from __future__ import annotations

import pytest
import yaml
from api_support import EXAMPLES, Service, assert_problem, person
from sqlalchemy.exc import OperationalError

from pledge.store.audit import merkle


def test_the_audit_log_verifies_and_proves_an_entry(service: Service) -> None:
    admin = service.as_("admin")
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    verified = service.client.get("/v1/audit/verify", headers=admin).json()
    assert verified["ok"] is True
    assert verified["problem"] is None
    size = verified["checkpoint"]["size"]
    assert verified["entries"] == size

    proof = service.client.get(f"/v1/audit/entries/{size - 1}/proof", headers=admin).json()
    assert proof["entry"]["action"] == "collect"
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(proof["root"]),
    )
    assert_problem(
        service.client.get(f"/v1/audit/entries/{size + 5}/proof", headers=admin), 404, "not_found"
    )

    entries = service.client.get(f"/v1/subjects/{subject}/audit", headers=admin).json()
    assert [e["action"] for e in entries] == ["collect"]
    assert subject not in str(entries)  # the log names subjects by pseudonym only


def test_the_audit_log_is_for_admins(service: Service) -> None:
    for who in ("role:sales", "recipient:payment_gateway"):
        assert_problem(
            service.client.get("/v1/audit/verify", headers=service.as_(who)), 403, "forbidden"
        )


def test_the_policy_summary_and_file(service: Service) -> None:
    headers = service.as_("recipient:payment_gateway")
    summary = service.client.get("/v1/policy", headers=headers).json()
    assert summary["version"] == "2015-04-13"
    assert summary["collection_points"]["newsletter"]["fields"] == {
        "email": {"category": "user.contact.email", "required": True}
    }
    assert summary["roles"]["support"]["purposes"] == ["essential.service.operations.support"]
    assert summary["recipients"]["payment_gateway"]["condition"] == "none"
    raw = service.client.get("/v1/policy/file", headers=headers)
    assert raw.headers["content-type"].startswith("application/yaml")
    assert raw.text == (EXAMPLES / "zabbix.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(raw.text)["version"] == "2015-04-13"


def test_health_needs_no_key(service: Service) -> None:
    response = service.client.get("/healthz")
    assert response.json() == {"status": "ok", "policy_version": "2015-04-13"}


def test_health_is_503_when_the_database_does_not_answer(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError())

    monkeypatch.setattr(service.vault.engine, "connect", refuse)
    body = assert_problem(service.client.get("/healthz"), 503, "unhealthy")
    assert "OperationalError" in body["detail"]


def test_metrics_count_by_route_template_and_status_only(service: Service) -> None:
    subject = service.collect("registration", person(service.vault), age=30)["subject"]
    service.client.get(f"/v1/subjects/{subject}/export", headers=service.as_("admin"))
    service.client.get(f"/v1/subjects/{subject}/export")
    page = service.client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    text = page.text
    assert (
        'pledge_http_requests_total{route="/v1/subjects/{subject}/export",status="200"} 1.0' in text
    )
    assert (
        'pledge_http_requests_total{route="/v1/subjects/{subject}/export",status="401"} 1.0' in text
    )
    assert subject not in text


def test_openapi_documents_keys_and_problem_responses(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    responses = document["paths"]["/v1/subjects/{subject}/data"]["get"]["responses"]
    for status in ("401", "403", "404", "422", "429"):
        assert list(responses[status]["content"]) == ["application/problem+json"]
    assert list(responses["200"]["content"]) == ["application/json"]
    page = service.client.get("/docs")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
