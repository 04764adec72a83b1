"""Errors outside any one endpoint: unknown routes and methods, body and rate limits,
unexpected exceptions, request ids."""

from __future__ import annotations

import io

import pytest
from api_support import Service, ServiceFactory, assert_problem, person

from pledge.store.vault import Vault


def test_unknown_route_and_method_are_problems(service: Service) -> None:
    assert_problem(service.client.get("/v2/anything"), 404, "not_found")
    response = service.client.put("/v1/policy", headers=service.as_("admin"))
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_a_body_over_the_limit_is_413(make_service: ServiceFactory) -> None:
    service = make_service(max_body_bytes=2048)
    headers = service.as_("admin")
    big = {"fields": {"email": "a@example.org", "name": "x" * 4000}, "age": 30}
    declared = service.client.post("/v1/collect/registration", json=big, headers=headers)
    assert_problem(declared, 413, "body_too_large")

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"fields": {"name": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}}'

    streamed = service.client.post(
        "/v1/collect/registration",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert_problem(streamed, 413, "body_too_large")


def test_a_key_over_its_rate_gets_429_with_retry_after(make_service: ServiceFactory) -> None:
    service = make_service(rate_limit_per_second=0.5, rate_limit_burst=2)
    headers = service.as_("admin")
    assert service.client.get("/v1/policy", headers=headers).status_code == 200
    assert service.client.get("/v1/policy", headers=headers).status_code == 200
    limited = service.client.get("/v1/policy", headers=headers)
    assert_problem(limited, 429, "rate_limited")
    assert limited.headers["retry-after"] == "2"
    other = service.as_("role:sales")
    assert service.client.get("/v1/policy", headers=other).status_code == 200


def test_an_unexpected_error_is_a_generic_500_logged_without_its_message(
    service: Service, monkeypatch: pytest.MonkeyPatch, log_capture: io.StringIO
) -> None:
    fields = person(service.vault)
    subject = service.collect("registration", fields, age=30)["subject"]

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"driver choked on row ({fields['email']})")

    monkeypatch.setattr(Vault, "export", explode)
    response = service.client.get(f"/v1/subjects/{subject}/export", headers=service.as_("admin"))
    body = assert_problem(response, 500, "internal_error")
    assert "choked" not in response.text
    logged = log_capture.getvalue()
    assert '"error_type": "builtins.RuntimeError"' in logged
    assert body["request_id"] in logged
    assert "choked" not in logged
    assert "Traceback" not in logged


def test_request_ids_are_echoed_when_opaque_and_replaced_otherwise(service: Service) -> None:
    given = "0f8c2a5e-62b3-4f4e-9d4a-7d5a1c2b3e4f"
    assert (
        service.client.get("/healthz", headers={"X-Request-ID": given}).headers["x-request-id"]
        == given
    )
    free_text = service.client.get("/healthz", headers={"X-Request-ID": "ann@example.org"})
    assert free_text.headers["x-request-id"] != "ann@example.org"
    assert len(free_text.headers["x-request-id"]) == 32


def test_the_key_itself_never_reaches_the_log(service: Service, log_capture: io.StringIO) -> None:
    service.client.get("/v1/policy", headers=service.as_("admin"))
    logged = log_capture.getvalue()
    assert service.key_id("admin") in logged
    assert service.keys["admin"] not in logged
