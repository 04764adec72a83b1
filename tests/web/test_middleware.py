"""The middleware, ASGI (in-process) and WSGI (a real wsgiref server): no Set-Cookie leaves
for a cookie the policy does not declare or the visitor has not allowed."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient
from lantern_site import serve_wsgi, wsgi_site
from site_policy import SERVER_COOKIES

from pledge.policy import Policy
from pledge.policy.cookies import CONSENT_COOKIE
from pledge.web.middleware import CookieGate

RECEIPT = "0f" * 16


def consent(allowed: str) -> str:
    return f"{CONSENT_COOKIE}={RECEIPT}:{allowed}:"


def names(set_cookies: list[str]) -> set[str]:
    found: set[str] = set()
    for value in set_cookies:
        found |= set(SimpleCookie(value))
    return found


@pytest.fixture
def asgi_client(site_policy: Policy) -> Iterator[TestClient]:
    app = FastAPI()

    @app.get("/")
    def page() -> Response:
        response = Response("cookies offered")
        for value in SERVER_COOKIES:
            response.headers.append("set-cookie", value)
        return response

    @app.get("/plain")
    def plain() -> Response:
        return Response("no cookies", headers={"x-kept": "yes"})

    with TestClient(CookieGate(app, site_policy)) as client:
        yield client


@pytest.fixture(scope="module")
def wsgi_url(site_policy: Policy) -> Iterator[str]:
    with serve_wsgi(wsgi_site(site_policy)) as url:
        yield url


# (request headers, cookies that must reach the browser). Every case also offers an
# undeclared cookie and the deletion of one: the first never passes, the second always does.
CASES = [
    pytest.param({}, {"session", "old_tracker"}, id="no-answer-yet"),
    pytest.param({"cookie": consent("")}, {"session", "old_tracker"}, id="refused-all"),
    pytest.param(
        {"cookie": consent("analytics+advertising+preferences")},
        {"session", "lang", "_pa_id", "ad_id", "old_tracker"},
        id="accepted-all",
    ),
    pytest.param(
        {"cookie": f"a=b; {consent('analytics')}"},
        {"session", "_pa_id", "old_tracker"},
        id="analytics-only",
    ),
    pytest.param(
        {"cookie": consent("analytics+advertising"), "sec-gpc": "1"},
        {"session", "_pa_id", "old_tracker"},
        id="gpc-turns-advertising-off",
    ),
    pytest.param(
        {"cookie": consent("analytics+advertising"), "dnt": "1"},
        {"session", "_pa_id", "old_tracker"},
        id="dnt-as-the-policy-states",
    ),
    pytest.param(
        {"cookie": consent("essential+tracking+analytics")},
        {"session", "_pa_id", "old_tracker"},
        id="forged-categories-allow-nothing-extra",
    ),
    pytest.param(
        {"cookie": f"{CONSENT_COOKIE}=garbage; tracker=1"},
        {"session", "old_tracker"},
        id="malformed-consent-cookie",
    ),
]


@pytest.mark.parametrize(("headers", "expected"), CASES)
def test_asgi_strips_what_is_not_declared_or_allowed(
    asgi_client: TestClient, headers: dict[str, str], expected: set[str]
) -> None:
    response = asgi_client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.text == "cookies offered"
    assert names(response.headers.get_list("set-cookie")) == expected


def test_asgi_any_copy_of_sec_gpc_counts(asgi_client: TestClient) -> None:
    headers = [("cookie", consent("advertising")), ("sec-gpc", "0"), ("sec-gpc", "1")]
    response = asgi_client.get("/", headers=httpx.Headers(headers))
    assert "ad_id" not in names(response.headers.get_list("set-cookie"))


def test_asgi_leaves_responses_without_cookies_alone(asgi_client: TestClient) -> None:
    response = asgi_client.get("/plain")
    assert response.headers["x-kept"] == "yes"
    assert response.text == "no cookies"


@pytest.mark.parametrize(("headers", "expected"), CASES)
def test_wsgi_strips_what_is_not_declared_or_allowed(
    wsgi_url: str, headers: dict[str, str], expected: set[str]
) -> None:
    response = httpx.get(wsgi_url + "/", headers=headers)
    assert response.status_code == 200
    assert response.text == "cookies offered"
    assert names(response.headers.get_list("set-cookie")) == expected
