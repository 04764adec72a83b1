"""Every example policy through the API: collect at each point, read as each role for each of
its purposes, disclose to each recipient, export and erase. What a read releases must be what
the decision function says for that role, purpose and collection point."""

from __future__ import annotations

import random

import pytest
from api_support import Service, ServiceFactory, seed_policies, submission

from pledge.policy import Actor, Policy, Request, decide
from pledge.policy.model import Condition
from pledge.policy.taxonomy import covers
from pledge.store.shapes import SECRET, shape_of


@pytest.mark.parametrize("policy", seed_policies())
def test_every_point_role_and_recipient(make_service: ServiceFactory, policy: str) -> None:
    service = make_service(policy)
    rng = random.Random(policy)
    spec = service.vault.policy.policy
    admin = service.as_("admin")
    for point in spec.collection_points:
        sent = submission(service.vault, point, rng)
        subject = service.collect(point, sent, age=40)["subject"]
        exported = service.client.get(f"/v1/subjects/{subject}/export", headers=admin).json()
        declared = spec.collection_points[point].fields
        secret = {n for n in sent if shape_of(declared[n].category, declared[n].shape) == SECRET}
        fields = {n: v for n, v in sent.items() if n not in secret}  # what comes back at all
        assert {d["field"]: d["value"] for d in exported["data"]} == fields
        assert {c["field"] for c in exported["credentials"]} == secret
        assert not any(sent[n] in str(exported) for n in secret)
        categories = {d["field"]: d["category"] for d in exported["data"]}
        for role, grant in spec.roles.items():
            for purpose in _declared(spec, grant.purposes):
                _check_read(service, subject, point, role, purpose, fields, categories)
        for recipient, grant in spec.recipients.items():
            for purpose in _declared(spec, grant.purposes):
                _check_disclosure(service, subject, recipient, purpose, grant.categories, fields)
        erased = service.client.delete(f"/v1/subjects/{subject}", headers=admin)
        assert erased.status_code == 200, erased.text
    assert service.client.get("/v1/audit/verify", headers=admin).json()["ok"] is True


def _declared(spec: Policy, granted: list[str]) -> list[str]:
    """The declared purposes a grant covers (a grant may name a parent, like
    ``functional.service``; requests name the declared purposes under it)."""
    return [p for p in spec.purposes if any(covers(g, p) for g in granted)]


def _check_read(
    service: Service,
    subject: str,
    point: str,
    role: str,
    purpose: str,
    fields: dict[str, str],
    categories: dict[str, str],
) -> None:
    decision = decide(
        service.vault.policy,
        Request(
            Actor.role(role),
            purpose,
            tuple(sorted(set(categories.values()))),
            points=frozenset({point}),
            collected_under=service.vault.policy.version,
        ),
    )
    response = service.client.get(
        f"/v1/subjects/{subject}/data",
        params={"purpose": purpose},
        headers=service.as_(f"role:{role}"),
    )
    expected = {f"{point}.{f}": v for f, v in fields.items() if categories[f] in decision.released}
    if not expected:
        assert response.status_code == 403, (role, purpose, response.text)
        assert response.json()["code"] == "denied"
        return
    assert response.status_code == 200, (role, purpose, response.text)
    body = response.json()
    assert body["values"] == expected
    assert set(body["withheld"]) == {f"{point}.{f}" for f in fields} - set(expected)


def _check_disclosure(
    service: Service,
    subject: str,
    recipient: str,
    purpose: str,
    categories: list[str],
    fields: dict[str, str],
) -> None:
    headers = service.as_(f"recipient:{recipient}")
    if service.vault.policy.policy.recipients[recipient].condition is Condition.aggregate:
        counted = service.client.post(
            "/v1/aggregates", json={"purpose": purpose, "categories": categories}, headers=headers
        )
        assert counted.status_code == 403  # a group of one
        assert "counts of at least" in counted.json()["detail"]
        return
    response = service.client.post(
        "/v1/disclosures",
        json={
            "subjects": [subject],
            "purpose": purpose,
            "categories": categories,
            "legal_ref": "Court order 2024-17",
        },
        headers=headers,
    )
    assert response.status_code == 200, (recipient, purpose, response.text)
    body = response.json()
    released = body["released"].get(subject, {})
    assert all(fields[key.partition(".")[2]] == v for key, v in released.items())
    assert released or subject in body["refused"]
