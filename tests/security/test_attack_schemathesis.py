"""Schemathesis over every operation of the live server's OpenAPI document, with a key of each
scope: no 5xx, no status the document does not declare, no response unlike its schema, and a correct
``Allow`` header (405) for methods an operation does not take.

Not checked here: schemathesis's "valid request refused" (positive data acceptance). A request
the document allows can still name a purpose, point or choice the active policy does not have,
which is refused (422) by design; the document would have to be generated per policy to
express that (see docs/security.md).

Each operation gets its own small Hypothesis run inside one test per scope (schemathesis's
pytest plugin does not run under pytest 9); failures are reported together."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

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


@pytest.mark.parametrize("scope", SCOPES)
def test_every_operation_conforms_for_every_scope(server: Server, scope: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
    headers = server.as_(scope)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @BOUNDED
        @given(case=operation.as_strategy())
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            conforms()
        except (Exception, BaseExceptionGroup) as exc:  # collected, then reported together
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    server.no_tracebacks()
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
