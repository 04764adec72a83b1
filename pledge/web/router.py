"""What the Pledge app serves a website: the banner's assets and snippet, the endpoint that
turns each answer into a receipt, and ``/.well-known/gpc.json``.

None of it needs a key: visitors are anonymous. Serve these paths from the site's own origin
(mount the router on the site's app, or proxy ``/pledge/`` and ``/.well-known/gpc.json`` to
Pledge) so that the consent cookie is first-party. Mount with
``app.include_router(pledge.web.router.router)`` on an app whose ``state.vault`` is a Vault.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from pledge.policy.cookies import CONSENT_COOKIE_DAYS
from pledge.store.receipts import RECEIPT_PATTERN
from pledge.store.vault import Vault
from pledge.web import banner
from pledge.web.consent_cookie import ConsentCookie
from pledge.web.gpc import gpc_document, signal_on

BASE = "/pledge"
PRIVATE = {"Cache-Control": "no-store"}
_TYPES = {"banner.js": "text/javascript; charset=utf-8", "banner.css": "text/css; charset=utf-8"}

router = APIRouter(tags=["website"])


def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


VaultDep = Annotated[Vault, Depends(_vault)]


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt: str | None = Field(
        default=None,
        pattern=RECEIPT_PATTERN,
        description="The id from the visitor's consent cookie; none for a first answer.",
    )
    allowed: list[Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]] = Field(
        max_length=8, description="Categories the visitor allowed."
    )
    gpc: bool = Field(default=False, description="navigator.globalPrivacyControl was true.")
    dnt: bool = Field(default=False, description="navigator.doNotTrack was '1'.")


class ReceiptOut(BaseModel):
    receipt: str
    allowed: list[str]
    refused: list[str]
    cookie: str = Field(description="The consent cookie's value, for the banner to set.")
    max_age: int


@router.get(BASE + "/banner.js", include_in_schema=False)
@router.get(BASE + "/banner.css", include_in_schema=False)
def asset(request: Request) -> Response:
    name = request.url.path.rsplit("/", 1)[1]
    return Response(
        banner.asset(name),
        media_type=_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get(BASE + "/banner.html", response_class=HTMLResponse)
def snippet(vault: VaultDep) -> HTMLResponse:
    """The banner's HTML snippet for the policy in force, to put at the top of ``<body>``."""
    return HTMLResponse(banner.snippet(vault.policy.policy, BASE), headers=PRIVATE)


@router.post(BASE + "/receipts")
async def receipt(
    body: ReceiptIn,
    vault: VaultDep,
    sec_gpc: Annotated[list[str] | None, Header()] = None,
    dnt: Annotated[list[str] | None, Header()] = None,
) -> JSONResponse:
    """Record the visitor's answer; the browser's signals count whether the page or the
    request headers carry them."""
    recorded = await run_in_threadpool(
        vault.record_cookie_choice,
        body.receipt,
        body.allowed,
        gpc=body.gpc or signal_on(sec_gpc or ()),
        dnt=body.dnt or signal_on(dnt or ()),
    )
    cookie = ConsentCookie(
        recorded.receipt_id, frozenset(recorded.allowed), frozenset(recorded.refused)
    )
    out = ReceiptOut(
        receipt=recorded.receipt_id,
        allowed=list(recorded.allowed),
        refused=list(recorded.refused),
        cookie=cookie.value(),
        max_age=CONSENT_COOKIE_DAYS * 86400,
    )
    return JSONResponse(out.model_dump(), headers=PRIVATE)


@router.get("/.well-known/gpc.json")
def gpc(vault: VaultDep) -> JSONResponse:
    """This site honours Global Privacy Control (the GPC specification's site resource)."""
    return JSONResponse(
        gpc_document(vault.policy.policy.effective),
        headers={"Cache-Control": "public, max-age=86400"},
    )
