"""The unsubscribe pages: ``GET /unsubscribe/{token}`` asks, ``POST`` does it.

The POST is also RFC 8058's one-click endpoint: a mail client posts
``List-Unsubscribe=One-Click`` with no cookie and no login, and the opt-out is in the consent
ledger before the response leaves. A GET never changes anything, because link scanners and
previews fetch every URL in a message. The token is the only credential, so the pages send
no Referer onward and are never cached.

Mount with ``app.include_router(pledge.mail.web.router)`` on an app whose ``state`` holds an
:class:`~pledge.mail.unsubscribe.Unsubscribes` as ``unsubscribes`` (or a ``vault``, from which
one is made on first use with the ``PLEDGE_MAIL_*`` settings). When its ``state`` also holds
``failures`` (:class:`pledge.api.limits.Failures`), bad tokens count against the client's
address, and an address with too many is refused (429) before its token is checked.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import TokenInvalid
from pledge.mail.settings import load_mail_settings
from pledge.mail.tokens import Ticket
from pledge.mail.unsubscribe import Unsubscribes

MAX_BODY = 4096
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}

router = APIRouter(tags=["unsubscribe"])
_pages = jinja2.Environment(
    loader=jinja2.PackageLoader("pledge.mail", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def unsubscribes(request: Request) -> Unsubscribes:
    """The app's Unsubscribes (see the module docstring for how an app provides one)."""
    state = request.app.state
    service = getattr(state, "unsubscribes", None)
    if service is None:
        vault = getattr(state, "vault", None)
        if vault is None:
            raise RuntimeError(
                "pledge.mail.web.router needs app.state.unsubscribes (an Unsubscribes) or "
                "app.state.vault"
            )
        service = state.unsubscribes = Unsubscribes.for_vault(vault, load_mail_settings())
    assert isinstance(service, Unsubscribes)
    return service


Service = Annotated[Unsubscribes, Depends(unsubscribes)]


def _client(request: Request) -> str:
    return f"addr:{request.client.host if request.client else 'unknown'}"


def _check_failures(request: Request) -> None:
    limit = getattr(request.app.state, "failures", None)
    if limit is not None:
        limit.check(_client(request))


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
async def confirm(request: Request, token: str, service: Service) -> Response:
    """Ask before unsubscribing; offer "stop everything" too."""
    _check_failures(request)
    try:
        ticket = await run_in_threadpool(service.check, token)
    except TokenInvalid as error:
        return _refused(request, service, error)
    return _page(
        service,
        "unsubscribe_confirm.html",
        200,
        what=_what(service, ticket),
        action=_action(request),
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str, service: Service) -> Response:
    """Unsubscribe at once: one-click (RFC 8058) or the confirmation page's form."""
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > MAX_BODY:
            break
    form = {k: v[-1] for k, v in parse_qs(body[:MAX_BODY].decode("latin-1")).items()}
    stop_all = form.get("scope") == "all"
    _check_failures(request)
    try:
        done = await run_in_threadpool(service.apply, token, stop_all=stop_all)
    except TokenInvalid as error:
        return _refused(request, service, error)
    if not _wants_html(request):
        return JSONResponse(
            {"unsubscribed": True, "choice": done.choice, "stop_all": done.stop_all},
            headers=PRIVATE,
        )
    return _page(
        service,
        "unsubscribe_done.html",
        200,
        what=_what(service, done.ticket),
        action=_action(request),
        stop_all=done.stop_all,
    )


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _action(request: Request) -> str:
    return request.url.path


def _what(service: Unsubscribes, ticket: Ticket) -> str:
    """The choice in words: 'newsletter emails', or what the purpose says it is."""
    policy = service.vault.policy.policy
    kind, _, name = ticket.choice.partition(":")
    if kind == "purpose":
        sent = [c for c, spec in policy.communications.items() if spec.purpose == name]
        if sent:
            return " and ".join(s.replace("_", " ") for s in sent) + " emails"
        return f"emails for {name}"
    if kind == "channel":
        return f"{name} messages"
    return "correspondence"


def _page(service: Unsubscribes, name: str, status: int, **context: Any) -> HTMLResponse:
    organisation = service.vault.policy.policy.organisation
    html = _pages.get_template(name).render(
        organisation=organisation.name, privacy_contact=organisation.privacy_contact, **context
    )
    return HTMLResponse(html, status_code=status, headers=PRIVATE)


def _refused(request: Request, service: Unsubscribes, error: TokenInvalid) -> Response:
    """A page for a person; for a mail client or script, the service's own problem+json."""
    limit = getattr(request.app.state, "failures", None)
    if limit is not None:
        limit.fail(_client(request))
    if _wants_html(request):
        message = error.message[0].upper() + error.message[1:]
        return _page(service, "unsubscribe_refused.html", error.status, message=message)
    raise error
