"""Signing in to the privacy center by a one-time link, and signing out.

``POST /sign-in`` takes an email address and always answers the same page, whether or not
anyone holds the address: the lookup and the message happen after the response, so neither
the words nor the time taken tell who has an account. Asking is limited per address and per
client (:class:`pledge.api.limits.SignInLimits`).

The link opens ``GET /sign-in/{token}``, which changes nothing (mail scanners fetch every
link); its button POSTs, which uses the link once and opens the session. Both forms carry a
CSRF token bound to a nonce cookie set by the page before, so another site cannot sign a
visitor in to its own account (login CSRF). Wrong, expired and used links count as failures
against the client's address, as confirmation links do.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from pledge.api.deps import client_address, failures
from pledge.api.limits import SignInLimits
from pledge.errors import PledgeError, RateLimited, SignInInvalid
from pledge.mail.settings import load_mail_settings
from pledge.mail.sign_in import SignInMail
from pledge.store.sessions import SUBJECT
from pledge.store.vault import Vault
from pledge.web.pages import check_nonce, nonce_page, render
from pledge.web.session import (
    SignedIn,
    clear_cookie,
    cookie_name,
    posted,
    read_form,
    set_cookie,
    signed_in,
)

HOME = "/center"
MAX_EMAIL = 254
router = APIRouter()
log = structlog.get_logger("pledge.web")
Person = Annotated[SignedIn, Depends(signed_in(SUBJECT))]


def sign_in_mail(request: Request) -> SignInMail:
    """The app's sign-in mail (``state.sign_in_mail``), made from ``PLEDGE_MAIL_*`` on first
    use when the app was not given one; in development mode it goes to the dev mailbox."""
    state = request.app.state
    mail: SignInMail | None = getattr(state, "sign_in_mail", None)
    if mail is None:
        transport = getattr(state, "dev_mailbox", None)
        mail = state.sign_in_mail = SignInMail(state.vault, load_mail_settings(), transport)
    return mail


@router.get("/sign-in")
async def ask(request: Request) -> Response:
    """The form; a person already signed in goes straight to their data."""
    vault: Vault = request.app.state.vault
    session_id = request.cookies.get(cookie_name(request))
    session = await run_in_threadpool(vault.web_session, session_id) if session_id else None
    if session is not None and session.kind == SUBJECT:
        return RedirectResponse(HOME, status_code=303, headers={"Cache-Control": "no-store"})
    return nonce_page(request, "sign_in.html", problem=None)


@router.post("/sign-in")
async def send(request: Request) -> Response:
    """Send a link if someone holds the address; the same answer either way."""
    form = await read_form(request)
    check_nonce(request, form)
    vault: Vault = request.app.state.vault
    address = form.get("email").strip()
    if not (3 <= len(address) <= MAX_EMAIL and "@" in address.strip("@")):
        return nonce_page(
            request,
            "sign_in.html",
            status=422,
            problem="Enter the email address you gave us, like name@example.org.",
        )
    limits: SignInLimits = request.app.state.sign_in_limits
    try:
        limits.take(vault.index.token("email", address), client_address(request))
    except RateLimited as limited:
        return render(
            request,
            "sign_in_sent.html",
            status=429,
            limited=limited.fields["retry_after"],
        )
    mail = sign_in_mail(request)
    response = render(request, "sign_in_sent.html", limited=None)
    response.background = BackgroundTask(_send_if_held, vault, mail, address)
    return response


def _send_if_held(vault: Vault, mail: SignInMail, address: str) -> None:
    """After the response: nothing here may reach the person, so a failure is logged (its
    code only: never the address) and the person may ask again."""
    try:
        subject = vault.find("email", address)
        if subject is not None:
            mail.send(subject)
    except PledgeError as error:
        log.warning("sign_in_not_sent", code=error.code)


@router.get("/sign-in/{token}")
async def confirm(request: Request, token: str) -> Response:
    """Ask the person to press the button (nothing is used up yet)."""
    vault: Vault = request.app.state.vault
    names = [client_address(request)]
    failures(request).check(*names)
    try:
        await run_in_threadpool(vault.check_sign_in, token)
    except SignInInvalid as error:
        failures(request).fail(*names)
        return _refused(request, error)
    return nonce_page(request, "sign_in_confirm.html", action=request.url.path)


@router.post("/sign-in/{token}")
async def sign_in(request: Request, token: str) -> Response:
    """Use the link once and open the session."""
    vault: Vault = request.app.state.vault
    names = [client_address(request)]
    failures(request).check(*names)
    form = await read_form(request)
    check_nonce(request, form)
    try:
        opened = await run_in_threadpool(vault.sign_in, token, SUBJECT)
    except SignInInvalid as error:
        failures(request).fail(*names)
        return _refused(request, error)
    # Signing in proves who the person is: requests they made unverified (by email, to
    # staff) are verified now.
    await run_in_threadpool(vault.verify_waiting_requests, opened.session.principal)
    response = RedirectResponse(HOME, status_code=303, headers={"Cache-Control": "no-store"})
    lifetime = opened.session.expires_at - opened.session.created_at
    set_cookie(request, response, opened.session_id, max_age=int(lifetime.total_seconds()))
    clear_cookie(request, response, nonce=True)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, person: Person) -> Response:
    await posted(request)
    vault: Vault = request.app.state.vault
    await run_in_threadpool(vault.end_session, person.session.key)
    response = render(request, "signed_out.html")
    clear_cookie(request, response)
    return response


def _refused(request: Request, error: SignInInvalid) -> Response:
    message = error.message[0].upper() + error.message[1:]
    return nonce_page(request, "sign_in.html", status=error.status, problem=f"{message}.")
