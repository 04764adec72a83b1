"""What the Pledge app serves a website: banner assets and snippet, the receipt endpoint,
/.well-known/gpc.json, and the API route that links a receipt at sign-in."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from site_policy import site_policy_text

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.api.keys import KeyStore
from pledge.store.keys import LocalKeyFileProvider
from pledge.store.vault import Vault
from pledge.web.banner import ASSETS, asset
from pledge.web.consent_cookie import parse

BANNER_BUDGET = 10 * 1024


@pytest.fixture
def app_vault(tmp_path) -> Iterator[Vault]:  # type: ignore[no-untyped-def]
    vault = Vault.open(
        f"sqlite:///{tmp_path / 'pledge.sqlite3'}",
        LocalKeyFileProvider(tmp_path / "master.key", create=True),
        site_policy_text(),
    )
    yield vault
    vault.close()


@pytest.fixture
def client(app_vault: Vault, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(app_vault, settings=ApiSettings(data_dir=tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_the_banner_fits_in_10_kb_gzipped() -> None:
    total = sum(len(gzip.compress(asset(name), 9)) for name in ASSETS)
    assert total <= BANNER_BUDGET


def test_the_assets_are_served(client: TestClient) -> None:
    js = client.get("/pledge/banner.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert js.content == asset("banner.js")
    assert client.get("/pledge/banner.css").content == asset("banner.css")


def test_the_snippet_offers_each_category_and_refusing_next_to_accepting(
    client: TestClient,
) -> None:
    html = client.get("/pledge/banner.html").text
    for category in ("preferences", "analytics", "advertising"):
        assert f'value="{category}"' in html
    refuse, accept = html.index('data-pledge="refuse"'), html.index('data-pledge="accept"')
    assert 0 < accept - refuse < 100  # side by side, same element, same class
    assert "Do Not Track" in html


def test_an_answer_becomes_a_receipt_and_a_cookie(client: TestClient, app_vault: Vault) -> None:
    first = client.post("/pledge/receipts", json={"allowed": ["analytics"]})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    cookie = parse(body["cookie"])
    assert cookie is not None
    assert cookie.receipt == body["receipt"]
    assert cookie.allowed == {"analytics"}
    again = client.post("/pledge/receipts", json={"receipt": body["receipt"], "allowed": []}).json()
    assert again["receipt"] == body["receipt"]
    assert len(app_vault.cookie_receipt(body["receipt"])) == 2


def test_the_sec_gpc_header_counts_for_the_receipt(client: TestClient) -> None:
    body = client.post(
        "/pledge/receipts",
        json={"allowed": ["analytics", "advertising"]},
        headers={"Sec-GPC": "1"},
    ).json()
    assert body["allowed"] == ["analytics"]
    assert "advertising" in body["refused"]


@pytest.mark.parametrize(
    "body",
    [
        {"allowed": ["essential"]},
        {"allowed": ["analytics"], "receipt": "x' OR 1=1"},
        {"allowed": ["analytics"], "email": "someone@example.org"},
        {"allowed": ["analytics"] * 9},
        {"allowed": ["<script>alert(1)</script>"]},
        {},
    ],
)
def test_bad_answers_get_a_problem_not_a_receipt(
    client: TestClient, app_vault: Vault, body: dict[str, object]
) -> None:
    response = client.post("/pledge/receipts", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "someone@example.org" not in response.text
    assert "<script>" not in response.text


def test_gpc_json_says_the_site_honours_gpc(client: TestClient, app_vault: Vault) -> None:
    body = client.get("/.well-known/gpc.json").json()
    assert body == {"gpc": True, "lastUpdate": app_vault.policy.policy.effective.isoformat()}


def test_the_site_backend_links_a_receipt_at_sign_in(client: TestClient, app_vault: Vault) -> None:
    subject = app_vault.collect("newsletter", {"email": "reader@example.org"}, age=30).subject
    receipt = client.post("/pledge/receipts", json={"allowed": ["analytics"]}).json()["receipt"]
    keys = KeyStore(app_vault)
    website_key, website = keys.create("collector", None, None, by="test")
    other_key, _ = keys.create("collector", None, None, by="test")
    _, admin = keys.create("admin", None, None, by="test")
    token = app_vault.subject_token(subject, website_key.key_id).token
    url = f"/v1/subjects/{subject}/cookie-receipts"
    body = {"receipt": receipt, "subject_token": token}
    assert client.post(url, json=body).status_code == 401
    staff = client.post(url, json=body, headers={"Authorization": f"Bearer {admin}"})
    assert staff.status_code == 403
    for forged in (
        "",
        app_vault.subject_token(subject, other_key.key_id).token,
        token[:10] + ("A" if token[10] != "A" else "B") + token[11:],
    ):
        refused = client.post(
            url,
            json={"receipt": receipt, "subject_token": forged or "x"},
            headers={"Authorization": f"Bearer {website}"},
        )
        assert refused.status_code == 403, refused.text
    assert "cookies:analytics" not in app_vault.choices(subject).granted
    linked = client.post(url, json=body, headers={"Authorization": f"Bearer {website}"})
    assert linked.status_code == 200, linked.text
    assert linked.json()["allowed"] == ["analytics"]
    assert "cookies:analytics" in app_vault.choices(subject).granted
