"""Sessions of the web pages at the edge: the cookie, the CSRF token, the posted form.

The session lives in the store (:mod:`pledge.store.sessions`); the browser holds only its
random id, in a cookie that scripts cannot read (``HttpOnly``), that other sites' requests do
not carry except on top-level navigation (``SameSite=Lax``), and that over HTTPS is
``Secure`` and named ``__Host-...`` (bound to this host and path ``/``, not settable by a
sibling domain). Over plain HTTP (development on localhost) the cookie drops what HTTPS
needs, and says so in its name.

Every POST of a signed-in page carries the session's CSRF token: an HMAC of the session id,
so it needs no storage, differs per session and cannot be computed without the cookie. A
form posted without it (or with another session's) does nothing. A POST whose ``Origin``
names another site is refused as well, whatever it carries.

People and staff use the same mechanism: :func:`signed_in` takes the kind of principal a page
serves, so a person's session opens no staff page and a staff session no person's page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import BodyTooLarge, CsrfRefused, SessionRequired
from pledge.store.sessions import Session
from pledge.store.vault import Vault

COOKIE = "pledge_session"
SECURE_COOKIE = "__Host-pledge_session"
NONCE_COOKIE = "pledge_sign_in"
SECURE_NONCE_COOKIE = "__Host-pledge_sign_in"
MAX_FORM_BYTES = 16 * 1024


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_name(request: Request, *, nonce: bool = False) -> str:
    if nonce:
        return SECURE_NONCE_COOKIE if _https(request) else NONCE_COOKIE
    return SECURE_COOKIE if _https(request) else COOKIE


def set_cookie(
    request: Request, response: Response, value: str, *, nonce: bool = False, max_age: int
) -> None:
    response.set_cookie(
        cookie_name(request, nonce=nonce),
        value,
        max_age=max_age,
        path="/",
        secure=_https(request),
        httponly=True,
        samesite="lax",
    )


def clear_cookie(request: Request, response: Response, *, nonce: bool = False) -> None:
    response.delete_cookie(
        cookie_name(request, nonce=nonce),
        path="/",
        secure=_https(request),
        httponly=True,
        samesite="lax",
    )


def csrf_token(secret: str) -> str:
    """The CSRF token bound to ``secret`` (a session id, or a sign-in page's nonce)."""
    mac = hmac.new(secret.encode(), b"pledge/csrf/v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode("ascii")


@dataclass(frozen=True)
class SignedIn:
    """The session a page runs under: who, and the CSRF token its forms carry."""

    session: Session
    csrf: str

    @property
    def principal(self) -> str:
        return self.session.principal


class Form:
    """A posted ``application/x-www-form-urlencoded`` form, read whole and bounded."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self._fields.get(name)
        return values[-1] if values else default

    def all(self, name: str) -> list[str]:
        return list(self._fields.get(name, []))

    def names(self) -> list[str]:
        return list(self._fields)


async def read_form(request: Request) -> Form:
    """The posted form; BodyTooLarge beyond :data:`MAX_FORM_BYTES` (no form of ours is)."""
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > MAX_FORM_BYTES:
            raise BodyTooLarge(f"a form is at most {MAX_FORM_BYTES} bytes", limit=MAX_FORM_BYTES)
    text = body.decode("utf-8", "replace")
    return Form(parse_qs(text, keep_blank_values=True, max_num_fields=200))


def same_origin(request: Request) -> bool:
    """False when the request names another origin (``Origin``, or failing that ``Referer``).
    An ``Origin`` of ``null`` says nothing: browsers send it for every POST from a page with
    ``Referrer-Policy: no-referrer``, as ours are; the CSRF token decides then."""
    origin = request.headers.get("origin")
    claimed = origin if origin and origin != "null" else request.headers.get("referer")
    if not claimed:
        return True
    parts = urlsplit(claimed)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


def check_csrf(request: Request, form: Form, secret: str) -> None:
    """CsrfRefused unless ``form`` carries the token bound to ``secret`` and the request
    comes from this origin."""
    given = form.get("csrf")
    if not same_origin(request) or not hmac.compare_digest(
        given.encode(), csrf_token(secret).encode()
    ):
        raise CsrfRefused(
            "this form was not sent from its own page (or the page is too old); reload the "
            "page and try again"
        )


def signed_in(
    kind: str, *, second_factor: bool = False
) -> Callable[[Request], Awaitable[SignedIn]]:
    """A dependency: the request's live session of principal ``kind`` (that passed its second
    factor, with ``second_factor``), else SessionRequired. The session id is kept on
    ``request.state`` for :func:`posted`."""

    async def dependency(request: Request) -> SignedIn:
        session_id = request.cookies.get(cookie_name(request))
        vault: Vault = request.app.state.vault
        session = await run_in_threadpool(vault.web_session, session_id) if session_id else None
        if (
            session is None
            or session.kind != kind
            or (second_factor and session.second_factor_at is None)
        ):
            raise SessionRequired("sign in to see this page; your session has ended")
        request.state.session_id = session_id
        return SignedIn(session, csrf_token(session_id or ""))

    return dependency


async def posted(request: Request) -> Form:
    """The form of a POST to a signed-in page, its CSRF token checked against the session
    (use after :func:`signed_in` in the same route)."""
    session_id = getattr(request.state, "session_id", None)
    if not session_id:
        raise SessionRequired("sign in to send this form; your session has ended")
    form = await read_form(request)
    check_csrf(request, form, session_id)
    return form
