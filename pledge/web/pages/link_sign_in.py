"""The emailed-link sign-in that people and staff share, page by page.

Three steps, the same for both kinds of principal: a form takes an address and always answers
the same page (the lookup and the message happen after the response, so neither the words
nor the time tell who has an account; asking is limited per address and per client); the
link's GET changes nothing (mail scanners fetch every link) and shows a button; the button's
POST uses the link once and opens the session. Both forms carry a CSRF token bound to a nonce
cookie (against login CSRF). Wrong, expired and used links count as failures against the
client's address, as confirmation links do. What differs between people and staff (the
templates, the words, how an address is looked up, where a new session goes) is a
:class:`LinkSignIn`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from pledge.api.deps import client_address, failures
from pledge.api.limits import SignInLimits
from pledge.errors import PledgeError, RateLimited, SignInInvalid
from pledge.store.sessions import Opened
from pledge.store.vault import Vault
from pledge.web.pages import check_nonce, nonce_page, render
from pledge.web.session import clear_cookie, read_form, set_cookie

MAX_EMAIL = 254
log = structlog.get_logger("pledge.web")


@dataclass(frozen=True)
class LinkSignIn:
    kind: str
    """The principal kind a link of this flow opens (``subject`` or ``staff``)."""
    templates: str
    """Folder prefix of ``sign_in.html``, ``sign_in_sent.html`` and ``sign_in_confirm.html``."""
    address_hint: str
    """What the form says when the address cannot be one."""
    then: str
    """Where a newly opened session goes."""

    def page(self, name: str) -> str:
        return f"{self.templates}{name}"

    async def request_link(
        self,
        request: Request,
        limit_key: Callable[[Vault, str], str],
        send: Callable[[Vault, str], None],
    ) -> Response:
        """Answer the address form; ``send(vault, address)`` runs after the response and
        mails a link only if the address is on record."""
        form = await read_form(request)
        check_nonce(request, form)
        vault: Vault = request.app.state.vault
        address = form.get("email").strip()
        if not (3 <= len(address) <= MAX_EMAIL and "@" in address.strip("@")):
            return nonce_page(
                request, self.page("sign_in.html"), status=422, problem=self.address_hint
            )
        limits: SignInLimits = request.app.state.sign_in_limits
        try:
            limits.take(limit_key(vault, address), client_address(request))
        except RateLimited as limited:
            return render(
                request,
                self.page("sign_in_sent.html"),
                status=429,
                limited=limited.fields["retry_after"],
            )
        response = render(request, self.page("sign_in_sent.html"), limited=None)
        response.background = BackgroundTask(_after_response, send, vault, address)
        return response

    async def show_link(self, request: Request, token: str) -> Response:
        """The link's page: checks it without using it up."""
        vault: Vault = request.app.state.vault
        names = [client_address(request)]
        failures(request).check(*names)
        try:
            await run_in_threadpool(vault.check_sign_in, token)
        except SignInInvalid as error:
            failures(request).fail(*names)
            return self.refused(request, error)
        return nonce_page(request, self.page("sign_in_confirm.html"), action=request.url.path)

    async def use_link(
        self, request: Request, token: str, then: Callable[[Vault, Opened], None] | None = None
    ) -> Response:
        """Use the link once, open the session (``then`` runs on it first) and set its
        cookie."""
        vault: Vault = request.app.state.vault
        names = [client_address(request)]
        failures(request).check(*names)
        form = await read_form(request)
        check_nonce(request, form)
        try:
            opened = await run_in_threadpool(vault.sign_in, token, self.kind)
        except SignInInvalid as error:
            failures(request).fail(*names)
            return self.refused(request, error)
        if then is not None:
            await run_in_threadpool(then, vault, opened)
        response = RedirectResponse(
            self.then, status_code=303, headers={"Cache-Control": "no-store"}
        )
        lifetime = opened.session.expires_at - opened.session.created_at
        set_cookie(request, response, opened.session_id, max_age=int(lifetime.total_seconds()))
        clear_cookie(request, response, nonce=True)
        return response

    def refused(self, request: Request, error: SignInInvalid) -> Response:
        message = error.message[0].upper() + error.message[1:]
        return nonce_page(
            request, self.page("sign_in.html"), status=error.status, problem=f"{message}."
        )


def _after_response(send: Callable[[Vault, str], None], vault: Vault, address: str) -> None:
    """Nothing sent after the response may reach the person asking (it would tell whether the
    address is known), so a failure is logged, by its code only (never the address), and the
    person may ask again."""
    try:
        send(vault, address)
    except PledgeError as error:
        log.warning("sign_in_not_sent", code=error.code)
