"""What happens around every request: its id, its log line, its metrics, its safety net.

The outermost layer of the app. It gives each request an id (echoed in ``X-Request-ID``),
writes one access line per request (method, route template, status, time, key id; never the
path, which holds subject ids, nor any header), counts it, marks the response
``Cache-Control: no-store``, and turns an unexpected exception into a 500 problem with the
request id, logged without its message (see :mod:`pledge.api.logs`).

Every response is ``no-store``: API responses are personal data or about it, and a response
wrongly left cacheable is a leak, while one needlessly uncached costs a refetch.
"""

from __future__ import annotations

import os
import re
import time

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pledge.api.metrics import UNMATCHED, Metrics
from pledge.api.problems import unexpected

# Only opaque ids are kept: a free-text id could carry a name or an address into the logs.
_OPAQUE_ID = re.compile(r"^[0-9A-Fa-f-]{16,64}$")

log = structlog.get_logger("pledge.api")


def _request_id(scope: Scope) -> str:
    # The raw header list, not a Headers object: this runs for every request.
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if _OPAQUE_ID.match(given):
                return given
            break
    return os.urandom(16).hex()


def _template(scope: Scope) -> str:
    """The route template of a routed request. Starlette's own routes (the docs pages) do
    not record theirs, but have no parameters, so their path is the template."""
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    if "endpoint" in scope and not scope.get("path_params"):
        return str(scope["path"])
    return UNMATCHED


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        status, started = 500, False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        begun = time.perf_counter()
        with structlog.contextvars.bound_contextvars(request_id=rid):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception as exc:
                log.error("unexpected_error", exc_info=exc)
                if not started:
                    await unexpected(scope)(scope, receive, send_with_headers)
            finally:
                template = _template(scope)
                seconds = time.perf_counter() - begun
                self.metrics.observe(template, status, seconds)
                log.info(
                    "request",
                    method=scope["method"],
                    route=template,
                    status=status,
                    ms=round(seconds * 1000, 1),
                    key_id=state.get("key_id"),
                )
