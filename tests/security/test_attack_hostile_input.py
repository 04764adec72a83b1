"""Hostile bytes in every kind of input: lone surrogates, NULs and other control characters,
overlong names. Each is refused with 422 naming where it was; none reaches the store, a log
line or a mail header; the server never answers 5xx nor logs a traceback."""

from __future__ import annotations

import json

import pytest

from tests.security.served import Server

HOSTILE = ["\ud800", "a\udfffb", "nul\x00", "\x1b[2J", "bell\x07", "c1\x9b"]


def send(server: Server, method: str, path: str, who: str, body: object) -> tuple[int, dict]:
    response = server.client.request(
        method,
        path,
        content=json.dumps(body),  # ASCII with \\uXXXX escapes, as an attacker would send it
        headers={**server.as_(who), "content-type": "application/json"},
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("bad", HOSTILE, ids=repr)
def test_hostile_characters_are_refused_naming_the_field(server: Server, bad: str) -> None:
    subject = server.collect("registration", {"name": "Hostile Test", "email": "h@example.org"})
    subject_id = subject["subject"] or "0" * 32
    cases = [
        (
            "POST",
            "/v1/collect/registration",
            "collector",
            {"fields": {"name": bad, "email": "x@example.org"}},
        ),
        ("POST", "/v1/collect/registration", "collector", {"fields": {bad: "x"}}),
        (
            "POST",
            f"/v1/subjects/{subject_id}/consents/grant",
            "agent",
            {"choice": bad, "reason": "r" * 5},
        ),
        (
            "POST",
            f"/v1/subjects/{subject_id}/consents/grant",
            "agent",
            {"choice": "stop:all", "reason": bad * 5},
        ),
        ("POST", "/v1/subjects/lookup", "role", {"kind": "email", "value": bad}),
        ("POST", "/v1/decisions", "role", {"purpose": bad, "categories": ["user.name"]}),
        ("POST", "/v1/admin/keys", "admin", {"scope": "role", "actor": "support", "name": bad}),
        ("POST", "/v1/aggregates", "statistics", {"purpose": bad, "categories": ["user.name"]}),
    ]
    for method, path, who, body in cases:
        status, problem = send(server, method, path, who, body)
        assert status == 422, (path, body, problem)
        assert problem["errors"][0]["field"].startswith("body"), problem
    server.no_tracebacks()


def test_overlong_names_are_refused_and_the_longest_allowed_is_stored(server: Server) -> None:
    longest = {"name": "n" * 2000, "email": "long@example.org"}
    status, problem = send(
        server,
        "POST",
        "/v1/collect/registration",
        "collector",
        {"fields": {**longest, "name": "n" * 2001}},
    )
    assert status == 422
    assert problem["errors"][0]["field"] == "name"
    status, _ = send(server, "POST", "/v1/collect/registration", "collector", {"fields": longest})
    assert status == 200
    server.no_tracebacks()
