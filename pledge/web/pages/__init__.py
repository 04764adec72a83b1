"""Server-rendered pages for people (the privacy center) and staff, on one foundation.

One Jinja2 environment over ``pledge/web/templates`` (autoescaped, undefined variables are
errors), one way to answer with a page (:func:`render`), and the headers every page that
shows personal data needs: never cached, never indexed, a Content-Security-Policy that runs
only this origin's scripts and styles. Pages work without JavaScript; the one script adds
what only a browser can do (checking audit proofs itself).
"""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from pledge.store.vault import Vault

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PRIVATE = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": PAGE_POLICY,
}

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
