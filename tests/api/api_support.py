"""Helpers for the API tests: a service over a vault with keys, fake values, problem checks.

Imported by ``conftest.py`` and by the tests (pytest puts this folder on ``sys.path``).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pledge.api.keys import KeyStore, Scope
from pledge.errors import PledgeError
from pledge.policy import load_policy
from pledge.store.shapes import shape_of
from pledge.store.vault import Vault

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"


def seed_policies() -> list[Any]:
    """Every example policy; one that does not load is skipped, saying why."""
    params = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        try:
            load_policy(path)
        except PledgeError as exc:
            params.append(pytest.param(path.stem, marks=pytest.mark.skip(reason=str(exc))))
        else:
            params.append(pytest.param(path.stem))
    return params


class Sensitive:
    """Strings that must never reach a log: personal values sent, API keys issued."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, *values: str) -> None:
        self.values.update(v for v in values if len(v) >= 4)


@dataclass
class Service:
    """An app over a vault, with a client and keys: ``service.as_("admin")`` gives headers."""

    vault: Vault
    client: TestClient
    sensitive: Sensitive
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, scope: Scope, actor: str | None = None, name: str | None = None) -> str:
        _, text = KeyStore(self.vault).create(scope, actor, name, by="test")
        self.sensitive.add(text, text.partition(".")[2])
        return text

    def key_id(self, who: str) -> str:
        """The public id of the key ``as_(who)`` sends."""
        self.as_(who)
        return self.keys[who].removeprefix("plg_").partition(".")[0]

    def as_(self, who: str) -> dict[str, str]:
        """Headers for ``admin``, ``collector``, ``role:<name>``, ``agent:<name>`` or
        ``recipient:<name>`` (keys made once)."""
        if who not in self.keys:
            scope, _, actor = who.partition(":")
            self.keys[who] = self.key(scope, actor or None)
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def collect(
        self, point: str, fields: dict[str, str], who: str = "collector", **extra: Any
    ) -> dict[str, Any]:
        self.sensitive.add(*fields.values())
        response = self.client.post(
            f"/v1/collect/{point}", json={"fields": fields, **extra}, headers=self.as_(who)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def subject_token(self, subject: str, who: str = "collector") -> str:
        """A subject token for ``subject``, minted by (and for) ``who``'s collector key."""
        response = self.client.post(
            "/v1/subject-tokens", json={"subject": subject}, headers=self.as_(who)
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        self.sensitive.add(token)
        return token


ServiceFactory = Callable[..., Service]


def fake_value(shape: str, rng: random.Random) -> str:
    """A value of ``shape`` already in the normal form the store keeps, so that what comes
    back can be compared with what went in."""
    token = "".join(rng.choices(string.ascii_lowercase, k=10))
    if shape == "email":
        return f"{token}@example.org"
    if shape == "phone":
        return f"+1415555{rng.randint(1000, 9999)}"
    if shape == "date":
        return f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    if shape == "integer":
        return str(rng.randint(1, 99999))
    return f"{token.title()} {rng.choice(['Harbour', 'Linden', 'Quarry'])} {rng.randint(10, 99)}"


def submission(vault: Vault, point: str, rng: random.Random) -> dict[str, str]:
    """Every stored field of ``point`` with a made-up value."""
    spec = vault.policy.policy.collection_points[point]
    return {
        name: fake_value(shape_of(f.category, f.shape), rng)
        for name, f in spec.fields.items()
        if not vault.policy.is_pass_through(f.category)
    }


def person(vault: Vault, rng: random.Random | None = None) -> dict[str, str]:
    """A zabbix registration: name, email, address, phone."""
    return submission(vault, "registration", rng or random.Random())


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://pledge.dev/problems/{code}"
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body
