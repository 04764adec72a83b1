"""Schemathesis over every operation of the live server's OpenAPI document, with a key of each
scope: no 5xx, no status the document does not declare, no response unlike its schema, a
correct ``Allow`` header (405) for methods an operation does not take, and no valid request
refused: the document is written for the policy in force (``pledge.api.openapi_policy``), so
a request it allows names only purposes, points, fields, choices and actors the policy has,
in the shapes the store takes, and may be refused only for who asks (401, 403), for what is
stored (404, 409) or for the rate (429), never with 400 or 422.

One constraint of the document is left out of what schemathesis generates from: a decision's
choices may not grant and withdraw the same key, which the document states as a ``not`` per
key, and which schemathesis cannot generate from (the intersection grows with every key).
The cases it would exclude are skipped instead, so no generated case breaks it.

Each operation gets its own small Hypothesis run inside one test per scope (schemathesis's
pytest plugin does not run under pytest 9); failures are reported together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis_support import contradicts, generated_from

from tests.security.served import SCOPES, Server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    positive_data_acceptance,
]
BOUNDED = settings(
    max_examples=8,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def conforming(
    operation: Any, headers: dict[str, str], calls: dict[str, int]
) -> Callable[[], None]:
    """A small Hypothesis run of ``operation``'s cases, each sent and checked; ``calls``
    counts the requests sent."""

    @BOUNDED
    @given(case=operation.as_strategy())
    def conforms(case: schemathesis.Case) -> None:
        assume(not contradicts(case.body))
        calls[operation.label] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    return conforms


@pytest.mark.parametrize("scope", SCOPES)
def test_every_operation_conforms_for_every_scope(server: Server, scope: str) -> None:
    document = server.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(generated_from(document))
    schema.config.update(base_url=server.base)
    headers = server.as_(scope)
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        calls[operation.label] = 0
        try:
            conforming(operation, headers, calls)()
        except (Exception, BaseExceptionGroup) as exc:  # collected, then reported together
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    server.no_tracebacks()
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    assert all(calls.values()), [label for label, n in calls.items() if not n]
    print(f"{scope}: {sum(calls.values())} requests over {len(calls)} operations")
