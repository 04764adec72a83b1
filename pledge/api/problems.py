"""Every error the service returns, in one shape: RFC 9457 ``application/problem+json``.

``type`` is ``https://pledge.dev/problems/<code>``, ``code`` is the stable name clients
switch on, ``detail`` the message a person can act on. Validation problems list each field in
``errors``; a policy refusal carries the deciding ``reason``. Bodies are built from an
error's code and message only: messages never hold personal values (see
:mod:`pledge.errors`), and request input is never echoed back.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import Scope

from pledge.api.schemas import FieldProblem, Problem, ReasonOut
from pledge.errors import DeniedError, PledgeError
from pledge.web.pages.errors import error_page, wants_page

TYPE_BASE = "https://pledge.dev/problems/"
log = structlog.get_logger("pledge.api")
MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
_HTTP_DETAILS = {
    404: "no such endpoint; check the path, and that it starts with /v1",
    405: "this endpoint does not take that method; see the Allow header",
}


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def request_id(scope: Scope) -> str | None:
    """The id the observability middleware gave this request, if it got that far."""
    rid: str | None = scope.get("state", {}).get("request_id")
    return rid


def problem(
    scope: Scope,
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    reason: ReasonOut | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    body = Problem(
        type=TYPE_BASE + code,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        request_id=request_id(scope),
        errors=errors,
        reason=reason,
    )
    return ProblemResponse(body.model_dump(exclude_none=True), status, headers=headers)


def from_pledge_error(scope: Scope, error: PledgeError) -> ProblemResponse:
    field = error.fields.get("field")
    denial = error.decision.denial if isinstance(error, DeniedError) and error.decision else None
    return problem(
        scope,
        error.status,
        error.code,
        error.message,
        errors=[FieldProblem(field=str(field), message=error.message)] if field else None,
        reason=ReasonOut.of(denial) if denial else None,
        headers=error.headers or None,
    )


async def _pledge_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, PledgeError)
    if error.status >= 500:
        # The code says what failed; the message may name subjects, so it stays out.
        log.error("request_failed", code=error.code, status=error.status)
    if wants_page(request):
        return error_page(request, error)
    return from_pledge_error(request.scope, error)


async def _validation_error(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        FieldProblem(field=".".join(_printable(part) for part in e["loc"]), message=e["msg"])
        for e in error.errors()
    ]
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return problem(
        request.scope,
        422,
        "invalid_input",
        f"the request is not valid ({count}); see errors",
        errors=problems,
    )


def _printable(part: object) -> str:
    """A part of a field's path (a dict key may be the caller's), with control characters and
    lone surrogates escaped so the problem itself can always be encoded and logged."""
    text = str(part)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


async def _http_error(request: Request, error: Exception) -> ProblemResponse:
    assert isinstance(error, HTTPException)
    status = error.status_code
    code = _HTTP_CODES.get(status, f"http_{status}")
    detail = _HTTP_DETAILS.get(status, error.detail)
    return problem(request.scope, status, code, detail, headers=error.headers)


def unexpected(scope: Scope) -> ProblemResponse:
    """The answer to a bug: nothing about it but the request id to quote."""
    return problem(
        scope,
        500,
        "internal_error",
        "an unexpected error occurred; it was logged. Quote the request id when reporting it",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(PledgeError, _pledge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses (see :func:`as_problem_json`)."""
    return {
        status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses
    }


def as_problem_json(schema: dict[str, Any]) -> dict[str, Any]:
    """Document error responses as ``application/problem+json``, the type they are sent as
    (FastAPI files every response model under ``application/json``)."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(status)[0] in "45" and "application/json" in content:
                    content[MEDIA_TYPE] = content.pop("application/json")
    return schema
