"""Deleting (or deactivating) one's data, with what the policy keeps said first.

Before anything happens the page lists, value by value, what goes and what the law makes the
organisation keep: for how long and for what alone. Pressing the button makes an erasure
request (:mod:`pledge.store.requests`), verified since the person is signed in, with the
deadline the policy and its law give; staff carry it out (:meth:`Vault.erase`, which shreds
what goes and keeps the held values under their hold) and the person hears of each step.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import InputError
from pledge.store.vault import Vault
from pledge.web.pages import render
from pledge.web.pages.center import holdings
from pledge.web.pages.person import ACTOR, NAV, Person, deletion_verb
from pledge.web.session import posted

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


@router.post("/center/delete")
async def erase(request: Request, person: Person) -> Response:
    form = await posted(request)
    vault: Vault = request.app.state.vault
    verb = deletion_verb(vault)
    if form.get("confirm") != "yes":
        raise InputError(f"tick the box to confirm that you want to {verb} your data")
    asked = await run_in_threadpool(
        vault.open_request, person.principal, "erase", None, actor=ACTOR, verified=True
    )
    return render(request, "center/deleted.html", signed_in=person, nav=NAV, verb=verb, asked=asked)
