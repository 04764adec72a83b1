"""Staff sign in to the console with a one-time emailed link, then a TOTP code.

The link opens a staff session (:mod:`pledge.store.sessions`, principal kind ``staff``) that
can only reach the second-factor page; the code (:mod:`pledge.store.staff`) upgrades it, with
the policy role the staff member acts as from then on. Every other console page needs both.
As for people, asking for a link answers the same whoever asks, the link's GET changes
nothing, and every form carries a CSRF token (the pre-session ones a nonce cookie's).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import SecondFactorInvalid
from pledge.mail.settings import load_mail_settings
from pledge.mail.staff_sign_in import StaffSignInMail
from pledge.store.sessions import STAFF
from pledge.store.staff import lookup_token
from pledge.store.vault import Vault
from pledge.web.pages import nonce_page, render
from pledge.web.pages.link_sign_in import LinkSignIn
from pledge.web.session import SignedIn, clear_cookie, posted, signed_in

HOME = "/admin"
SECOND_FACTOR = "/admin/second-factor"
router = APIRouter()
LinkOnly = Annotated[SignedIn, Depends(signed_in(STAFF))]
FLOW = LinkSignIn(
    kind=STAFF,
    templates="admin/",
    address_hint="Enter your work email address, like ann@example.org.",
    then=SECOND_FACTOR,
)


def staff_mail(request: Request) -> StaffSignInMail:
    """As :func:`pledge.web.pages.sign_in.sign_in_mail`: in development mode to the dev
    mailbox too."""
    state = request.app.state
    mail: StaffSignInMail | None = getattr(state, "staff_sign_in_mail", None)
    if mail is None:
        transport = getattr(state, "dev_mailbox", None)
        mail = state.staff_sign_in_mail = StaffSignInMail(
            state.vault, load_mail_settings(), transport
        )
    return mail


@router.get("/admin/sign-in")
async def ask(request: Request) -> Response:
    return nonce_page(request, "admin/sign_in.html", problem=None)


@router.post("/admin/sign-in")
async def send(request: Request) -> Response:
    """Mail a link if the address is a staff member's; the same answer either way."""
    mail = staff_mail(request)
    return await FLOW.request_link(
        request, lookup_token, lambda vault, address: _send_if_staff(vault, mail, address)
    )


def _send_if_staff(vault: Vault, mail: StaffSignInMail, address: str) -> None:
    staff_id = vault.find_staff(address)
    if staff_id is not None:
        mail.send(staff_id)


@router.get("/admin/sign-in/{token}")
async def confirm(request: Request, token: str) -> Response:
    return await FLOW.show_link(request, token)


@router.post("/admin/sign-in/{token}")
async def use_link(request: Request, token: str) -> Response:
    """Use the link once: a staff session that can only give its second factor."""
    return await FLOW.use_link(request, token)


@router.get(SECOND_FACTOR)
async def ask_code(request: Request, staff: LinkOnly) -> Response:
    return await _code_page(request, staff, None)


@router.post(SECOND_FACTOR)
async def check_code(request: Request, staff: LinkOnly) -> Response:
    form = await posted(request)
    vault: Vault = request.app.state.vault
    try:
        await run_in_threadpool(
            vault.check_staff_code, staff.principal, form.get("code"), form.get("role")
        )
    except SecondFactorInvalid as error:
        return await _code_page(request, staff, error, status=error.status)
    await run_in_threadpool(vault.session_second_factor, staff.session.key, role=form.get("role"))
    return RedirectResponse(HOME, status_code=303, headers={"Cache-Control": "no-store"})


@router.post("/admin/sign-out")
async def sign_out(request: Request, staff: LinkOnly) -> Response:
    await posted(request)
    vault: Vault = request.app.state.vault
    await run_in_threadpool(vault.end_session, staff.session.key)
    response = render(request, "admin/signed_out.html")
    clear_cookie(request, response)
    return response


async def _code_page(
    request: Request, staff: SignedIn, error: SecondFactorInvalid | None, *, status: int = 200
) -> Response:
    vault: Vault = request.app.state.vault
    member = await run_in_threadpool(vault.staff_member, staff.principal)
    problem = None if error is None else error.message[0].upper() + error.message[1:] + "."
    return render(
        request,
        "admin/second_factor.html",
        status=status,
        signed_in=staff,
        roles=member.roles,
        problem=problem,
    )
