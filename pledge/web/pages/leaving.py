"""Deleting (or deactivating) one's data, with what the policy keeps said first.

Before anything happens the page lists, value by value, what goes at once and what the law
makes the organisation keep: for how long and for what alone. Pressing the button erases
through :meth:`Vault.erase` (crypto-shredding what goes), ends every session of the person,
and shows what was kept, until when.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import InputError
from pledge.store.rights import Erasure
from pledge.store.sessions import SUBJECT
from pledge.store.vault import Vault
from pledge.web.pages import render
from pledge.web.pages.center import holdings
from pledge.web.pages.person import ACTOR, NAV, Person, deletion_verb
from pledge.web.session import clear_cookie, posted

router = APIRouter()


@router.get("/center/delete")
async def explain(request: Request, person: Person) -> Response:
    vault: Vault = request.app.state.vault
    verb = deletion_verb(vault)
    found = await run_in_threadpool(holdings, vault, person.principal)
    values = {(h.point, h.field): h for _, group in found.groups for h in group}
    kept = [h for h in values.values() if h.why.hold]
    gone = [h for h in values.values() if not h.why.hold]
    return render(
        request,
        "center/delete.html",
        signed_in=person,
        nav=NAV,
        verb=verb,
        kept=kept,
        gone=gone,
        problem=None,
    )


def _erase(vault: Vault, subject: str) -> Erasure:
    erasure = vault.erase(subject, actor=ACTOR)
    vault.end_sessions(SUBJECT, subject)
    return erasure


@router.post("/center/delete")
async def erase(request: Request, person: Person) -> Response:
    form = await posted(request)
    vault: Vault = request.app.state.vault
    verb = deletion_verb(vault)
    if form.get("confirm") != "yes":
        raise InputError(f"tick the box to confirm that you want to {verb} your data")
    erasure = await run_in_threadpool(_erase, vault, person.principal)
    response = render(request, "center/deleted.html", verb=verb, erasure=erasure)
    clear_cookie(request, response)
    return response
