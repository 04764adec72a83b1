"""The confirmation and opt-out pages, for people (not in the API schema): GET asks, POST
acts (confirms a pending change, or opts out of a policy change).

A GET changes nothing, because link scanners and previews fetch every URL in a message; the
person's click on the page's button (a POST) applies the pending change, once. Wrong, expired
and used links count as failures against the client's address (see
:class:`pledge.api.limits.Failures`), so guessing links is as slow as guessing API keys.
"""

from __future__ import annotations

from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pledge.api.deps import client_address, failures
from pledge.errors import ConfirmationInvalid, NotFoundError
from pledge.store.vault import Vault

PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
router = APIRouter(tags=["confirmation"])
_pages = jinja2.Environment(
    loader=jinja2.PackageLoader("pledge.mail", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _guarded(request: Request) -> list[str]:
    names = [client_address(request)]
    failures(request).check(*names)
    return names


@router.get("/confirm/{token}", response_class=HTMLResponse)
async def ask(request: Request, token: str) -> Response:
    """Ask the person to confirm (nothing changes yet)."""
    vault: Vault = request.app.state.vault
    names = _guarded(request)
    try:
        await run_in_threadpool(vault.check_confirmation, token)
    except ConfirmationInvalid as error:
        return _refused(request, vault, error, names)
    return _page(vault, "confirm_ask.html", 200, what="change your data", action=request.url.path)


@router.post("/confirm/{token}")
async def confirm(request: Request, token: str) -> Response:
    """Apply the change the link names; a second use is refused."""
    vault: Vault = request.app.state.vault
    names = _guarded(request)
    try:
        done = await run_in_threadpool(vault.confirm, token)
    except ConfirmationInvalid as error:
        return _refused(request, vault, error, names)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(
            {"confirmed": True, "fields": list(done.fields), "choices": done.choices},
            headers=PRIVATE,
        )
    return _page(vault, "confirm_done.html", 200)


@router.get("/policy-changes/opt-out/{token}", response_class=HTMLResponse)
async def ask_opt_out(request: Request, token: str) -> Response:
    """Ask the person whether to opt out of a policy change (nothing changes yet)."""
    vault: Vault = request.app.state.vault
    names = _guarded(request)
    try:
        _, version = await run_in_threadpool(vault.check_opt_out, token)
    except (ConfirmationInvalid, NotFoundError) as error:
        return _refused(request, vault, _as_invalid(error), names)
    return _page(vault, "opt_out_ask.html", 200, version=version, action=request.url.path)


@router.post("/policy-changes/opt-out/{token}")
async def opt_out(request: Request, token: str) -> Response:
    """Record the opt-out; a second click records nothing more and says the same."""
    vault: Vault = request.app.state.vault
    names = _guarded(request)
    try:
        done = await run_in_threadpool(vault.opt_out_by_link, token)
    except (ConfirmationInvalid, NotFoundError) as error:
        return _refused(request, vault, _as_invalid(error), names)
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(
            {"opted_out": True, "version": done.version, "already": not done.recorded},
            headers=PRIVATE,
        )
    return _page(vault, "opt_out_done.html", 200, version=done.version)


def _as_invalid(error: ConfirmationInvalid | NotFoundError) -> ConfirmationInvalid:
    """An erased person's link says no more than a damaged one."""
    if isinstance(error, ConfirmationInvalid):
        return error
    return ConfirmationInvalid("this link no longer applies to anyone", reason="gone")


def _page(vault: Vault, name: str, status: int, **context: Any) -> HTMLResponse:
    organisation = vault.policy.policy.organisation
    html = _pages.get_template(name).render(
        organisation=organisation.name, privacy_contact=organisation.privacy_contact, **context
    )
    return HTMLResponse(html, status_code=status, headers=PRIVATE)


def _refused(
    request: Request, vault: Vault, error: ConfirmationInvalid, names: list[str]
) -> Response:
    failures(request).fail(*names)
    if "text/html" in request.headers.get("accept", ""):
        message = error.message[0].upper() + error.message[1:]
        return _page(vault, "confirm_refused.html", error.status, message=message)
    raise error
