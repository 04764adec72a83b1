"""Schemathesis against the app's own OpenAPI document, in-process, with an admin key and
Zabbix's policy (the security suite runs it against a live server with 3CX's and every key
scope): no request it makes may get a 5xx, or a response its schema does not document, and
no request the document allows may be refused as invalid.

Each operation gets its own bounded Hypothesis run inside one test (schemathesis's pytest
plugin does not run under pytest 9), and the failures of all of them are reported together.
"""

from __future__ import annotations

import schemathesis
from api_support import ServiceFactory
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis_support import contradicts, generated_from

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
]
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def test_every_operation_conforms_to_the_schema(make_service: ServiceFactory) -> None:
    service = make_service("zabbix", rate_limit_per_second=10_000.0, rate_limit_burst=10_000)
    document = service.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(generated_from(document))
    schema.app = service.client.app
    headers = service.as_("admin")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @BOUNDED
        @given(case=operation.as_strategy())
        def conforms(case: schemathesis.Case) -> None:
            assume(not contradicts(case.body))
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            conforms()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
