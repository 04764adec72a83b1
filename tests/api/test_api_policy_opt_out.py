"""The opt-out page of a policy-change notice: GET asks and changes nothing (link scanners
fetch every URL), POST records the person's refusal once; a damaged link is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import assert_problem
from fastapi.testclient import TestClient

from pledge.api.app import create_app
from pledge.api.config import ApiSettings
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.vault import Vault
from tests.policy_changes.derive import EXAMPLES, derived

VERSION = "2026-12-01"


def wider(d: dict[str, object]) -> None:
    points = d["collection_points"]
    assert isinstance(points, dict)
    points["product_registration"]["purposes"].append("marketing.customer_reference")


@pytest.fixture
def published(tmp_path: Path) -> Iterator[tuple[Vault, TestClient, str]]:
    url = f"sqlite:///{tmp_path / 'pledge.sqlite3'}"
    keys = LocalKeyFileProvider(tmp_path / "master.key", create=True)
    first = Vault.open(url, keys, (EXAMPLES / "bitrix.yaml").read_text())
    subject = first.collect(
        "product_registration", {"name": "Ann Example", "email": "ann@example.com"}
    ).subject
    first.close()
    vault = Vault.open(url, keys, derived("bitrix", wider, version=VERSION))
    client = TestClient(create_app(vault, settings=ApiSettings(data_dir=tmp_path)))
    client.__enter__()
    yield vault, client, subject
    client.__exit__(None, None, None)
    vault.close()


def test_the_opt_out_page_asks_then_records_once(
    published: tuple[Vault, TestClient, str],
) -> None:
    vault, client, subject = published
    token = vault.opt_out_token(subject, VERSION)
    path = f"/policy-changes/opt-out/{token}"
    asked = client.get(path, headers={"accept": "text/html"})
    assert asked.status_code == 200
    assert f"Opt out of the changes in version {VERSION}?" in asked.text
    assert asked.headers["cache-control"] == "no-store"
    assert f"policy:{VERSION}" not in vault.choices(subject).withdrawn  # the GET did nothing
    done = client.post(path).json()
    assert done == {"opted_out": True, "version": VERSION, "already": False}
    assert client.post(path).json()["already"] is True
    page = client.post(path, headers={"accept": "text/html"})
    assert "You have opted out" in page.text
    refusals = [e for e in vault.consent_history(subject) if e.choice == f"policy:{VERSION}"]
    assert len(refusals) == 1


def test_a_damaged_or_foreign_link_is_refused(published: tuple[Vault, TestClient, str]) -> None:
    vault, client, subject = published
    token = vault.opt_out_token(subject, VERSION)
    for bad in (token[:-1], token + "A", "a" * 52, "%2e%2e"):
        assert_problem(client.post(f"/policy-changes/opt-out/{bad}"), 400, "confirmation_invalid")
    # A link for the first version names no change to refuse.
    first = vault.opt_out_token(subject, "2004-03-30")
    assert_problem(client.post(f"/policy-changes/opt-out/{first}"), 422, "invalid_input")
    vault.erase(subject, actor="test")
    assert_problem(client.post(f"/policy-changes/opt-out/{token}"), 400, "confirmation_invalid")
