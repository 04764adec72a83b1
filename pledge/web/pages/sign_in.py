"""Signing in to the privacy center by a one-time emailed link, and signing out.

The steps (the address form that answers the same whoever asks, the link's harmless GET, the
POST that uses it once) are :mod:`pledge.web.pages.link_sign_in`'s, shared with the staff
console; this module says what is a person's: an address is looked up among the emails the
store holds, and signing in verifies the requests the person made unverified.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pledge.mail.settings import load_mail_settings
from pledge.mail.sign_in import SignInMail
from pledge.store.sessions import SUBJECT, Opened
from pledge.store.vault import Vault
from pledge.web.pages import nonce_page, render
from pledge.web.pages.link_sign_in import LinkSignIn
from pledge.web.session import (
    SignedIn,
    clear_cookie,
    cookie_name,
    posted,
    signed_in,
)

HOME = "/center"
router = APIRouter()
Person = Annotated[SignedIn, Depends(signed_in(SUBJECT))]
FLOW = LinkSignIn(
    kind=SUBJECT,
    templates="",
    address_hint="Enter the email address you gave us, like name@example.org.",
    then=HOME,
)


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
    mail = sign_in_mail(request)
    return await FLOW.request_link(
        request,
        lambda vault, address: vault.index.token("email", address),
        lambda vault, address: _send_if_held(vault, mail, address),
    )


def _send_if_held(vault: Vault, mail: SignInMail, address: str) -> None:
    subject = vault.find("email", address)
    if subject is not None:
        mail.send(subject)


@router.get("/sign-in/{token}")
async def confirm(request: Request, token: str) -> Response:
    """Ask the person to press the button (nothing is used up yet)."""
    return await FLOW.show_link(request, token)


@router.post("/sign-in/{token}")
async def sign_in(request: Request, token: str) -> Response:
    """Use the link once and open the session."""
    return await FLOW.use_link(request, token, _verify_waiting_requests)


def _verify_waiting_requests(vault: Vault, opened: Opened) -> None:
    """Signing in proves who the person is: requests they made unverified (by email, to
    staff) are verified now."""
    vault.verify_waiting_requests(opened.session.principal)


@router.post("/sign-out")
async def sign_out(request: Request, person: Person) -> Response:
    await posted(request)
    vault: Vault = request.app.state.vault
    await run_in_threadpool(vault.end_session, person.session.key)
    response = render(request, "signed_out.html")
    clear_cookie(request, response)
    return response
