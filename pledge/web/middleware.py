"""Middleware for the company's own site: no cookie leaves that the policy does not declare or
the visitor has not allowed.

Wrap an ASGI app in :class:`CookieGate`, a WSGI app in :class:`WsgiCookieGate`. Before the
response's headers leave, every ``Set-Cookie`` is checked: the cookie's name must be declared
in the policy (``cookies``), and its category must be essential or one the visitor allowed in
the banner (the consent cookie the request carries) and no browser signal turned off
(``Sec-GPC``, and ``DNT`` as ``cookie_consent.do_not_track`` says). Anything else is dropped;
an undeclared name is logged the first time it is seen. A ``Set-Cookie`` that deletes a
cookie always passes: removing is never a privacy risk. A response without ``Set-Cookie``
costs one scan of its header names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Any

import structlog

from pledge.policy import CompiledPolicy, Policy
from pledge.policy.cookies import CookieRegistry
from pledge.web import consent_cookie
from pledge.web.gpc import signal_on

log = structlog.get_logger("pledge.web")

_MAX_VERDICTS = 4096
Asgi = Callable[..., Any]
Wsgi = Callable[..., Any]


class CookieRules:
    """What both middlewares ask: which ``Set-Cookie`` values this request may receive."""

    def __init__(self, policy: Policy | CompiledPolicy) -> None:
        self.registry = CookieRegistry.of(
            policy.policy if isinstance(policy, CompiledPolicy) else policy
        )
        self._reported: set[str] = set()
        self._verdicts: dict[tuple[str, frozenset[str]], bool] = {}

    def allowed(self, cookie: str, gpc: Iterable[str], dnt: Iterable[str]) -> frozenset[str]:
        consent = consent_cookie.from_header(cookie) if cookie else None
        return self.registry.allowed(
            consent.allowed if consent else frozenset(),
            gpc=signal_on(gpc),
            dnt=signal_on(dnt),
        )

    def keep(self, set_cookie: str, allowed: frozenset[str]) -> bool:
        name = set_cookie.partition("=")[0].strip()
        key = (name, allowed)
        verdict = self._verdicts.get(key)
        if verdict is None:
            if len(self._verdicts) > _MAX_VERDICTS:  # a site that makes up cookie names
                self._verdicts.clear()
            verdict = self._verdicts[key] = self.registry.may_set(name, allowed)
        if verdict or _deletes(set_cookie):
            return True
        if self.registry.category(name) is None and name not in self._reported:
            # Once per name and process: the operator learns that the site sets a cookie the
            # policy does not declare, without a log line on every response.
            self._reported.add(name)
            log.warning("undeclared_cookie_removed", cookie=name)
        return False


def _deletes(set_cookie: str) -> bool:
    """Whether a ``Set-Cookie`` value removes its cookie (``Max-Age`` <= 0 or an ``Expires``
    in the past)."""
    lower = set_cookie.lower()
    if "max-age" not in lower and "expires" not in lower:
        return False
    for attribute in lower.split(";")[1:]:
        key, _, value = attribute.partition("=")
        key = key.strip()
        if key == "max-age":
            try:
                return int(value.strip()) <= 0
            except ValueError:
                return False
        if key == "expires":
            try:
                return parsedate_to_datetime(value.strip()) < dt.datetime.now(dt.UTC)
            except (TypeError, ValueError):
                return False
    return False


class CookieGate:
    """ASGI middleware: ``app = CookieGate(app, policy)``."""

    def __init__(self, app: Asgi, policy: Policy | CompiledPolicy) -> None:
        self.app = app
        self.rules = CookieRules(policy)

    async def __call__(self, scope: dict[str, Any], receive: Asgi, send: Asgi) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rules = self.rules

        async def gated(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or ()
                if any(name.lower() == b"set-cookie" for name, _ in headers):
                    message = {**message, "headers": _filtered(rules, scope, headers)}
            await send(message)

        await self.app(scope, receive, gated)


def _filtered(
    rules: CookieRules, scope: dict[str, Any], headers: Iterable[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    cookie: list[str] = []
    gpc: list[str] = []
    dnt: list[str] = []
    for name, value in scope["headers"]:
        name = name.lower()
        if name == b"cookie":
            cookie.append(value.decode("latin-1"))
        elif name == b"sec-gpc":
            gpc.append(value.decode("latin-1"))
        elif name == b"dnt":
            dnt.append(value.decode("latin-1"))
    allowed = rules.allowed("; ".join(cookie), gpc, dnt)
    return [
        (name, value)
        for name, value in headers
        if name.lower() != b"set-cookie" or rules.keep(value.decode("latin-1"), allowed)
    ]


class WsgiCookieGate:
    """WSGI middleware: ``app = WsgiCookieGate(app, policy)``."""

    def __init__(self, app: Wsgi, policy: Policy | CompiledPolicy) -> None:
        self.app = app
        self.rules = CookieRules(policy)

    def __call__(self, environ: dict[str, Any], start_response: Wsgi) -> Any:
        rules = self.rules

        def gated(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(name.lower() == "set-cookie" for name, _ in headers):
                allowed = rules.allowed(
                    environ.get("HTTP_COOKIE", ""),
                    [environ.get("HTTP_SEC_GPC", "")],
                    [environ.get("HTTP_DNT", "")],
                )
                headers = [
                    (name, value)
                    for name, value in headers
                    if name.lower() != "set-cookie" or rules.keep(value, allowed)
                ]
            return start_response(status, headers, exc_info)

        return self.app(environ, gated)
