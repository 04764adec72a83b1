"""Server-rendered pages for people (the privacy center) and staff, on one foundation.

One Jinja2 environment over ``pledge/web/templates`` (autoescaped, undefined variables are
errors), one way to answer with a page (:func:`render`), and the headers every page that
shows personal data needs: never cached, never indexed, a Content-Security-Policy that runs
only this origin's scripts and styles. Pages work without JavaScript; the one script adds
what only a browser can do (checking audit proofs itself).
"""

from __future__ import annotations

import os
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from pledge.errors import CsrfRefused
from pledge.store.vault import Vault
from pledge.web.session import Form, check_csrf, cookie_name, csrf_token, set_cookie

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": PAGE_POLICY,
}
NONCE_SECONDS = 30 * 60

templates = jinja2.Environment(
    loader=jinja2.PackageLoader("pledge.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` rendered with the organisation's name and contact, and ``context``.
    ``signed_in`` (a :class:`pledge.web.session.SignedIn`) gives the layout its navigation
    and the forms their CSRF token."""
    vault: Vault = request.app.state.vault
    organisation = vault.policy.policy.organisation
    context.setdefault("signed_in", None)
    context.setdefault("nav", None)
    html = templates.get_template(name).render(
        organisation=organisation.name,
        privacy_contact=organisation.privacy_contact,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=PRIVATE)


def nonce_page(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page whose form is posted before there is a session (sign-in): it sets a fresh nonce
    cookie and gives the form (``csrf``) the token bound to it; :func:`check_nonce` checks."""
    nonce = os.urandom(24).hex()
    response = render(request, name, status=status, csrf=csrf_token(nonce), **context)
    set_cookie(request, response, nonce, nonce=True, max_age=NONCE_SECONDS)
    return response


def check_nonce(request: Request, form: Form) -> None:
    """CsrfRefused unless ``form`` came from a :func:`nonce_page` in this browser."""
    nonce = request.cookies.get(cookie_name(request, nonce=True))
    if not nonce:
        raise CsrfRefused(
            "this form has expired or your browser refused our cookie; open the page again "
            "(signing in needs cookies)"
        )
    check_csrf(request, form, nonce)
