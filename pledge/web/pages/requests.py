"""The person's requests: each one they made (a download, a correction, a change of choices,
an erasure, a complaint, an inquiry), where it stands and by when it is due; and the forms for
a complaint or an inquiry, which staff answer (:mod:`pledge.store.requests`).

The person is signed in, so what they ask here is verified from the start. Their own words
are sealed under their data key by the store, and shown only to them and to staff.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import InputError
from pledge.store.requests import MAX_TEXT
from pledge.store.vault import Vault
from pledge.web.pages import render
from pledge.web.pages.person import ACTOR, NAV, Person
from pledge.web.session import posted

ASKED_HERE = {"complaint": "A complaint", "inquiry": "A question about your data"}
router = APIRouter()


@router.get("/center/requests")
async def listing(request: Request, person: Person) -> Response:
    return await _page(request, person, sent=None, problem=None)


@router.post("/center/requests")
async def ask(request: Request, person: Person) -> Response:
    form = await posted(request)
    vault: Vault = request.app.state.vault
    kind = form.get("kind")
    if kind not in ASKED_HERE:
        return await _page(request, person, sent=None, problem="Choose what you are sending.")
    try:
        await run_in_threadpool(
            vault.open_request, person.principal, kind, form.get("text"), actor=ACTOR
        )
    except InputError as error:
        problem = error.message[0].upper() + error.message[1:] + "."
        return await _page(request, person, sent=None, problem=problem, status=422)
    return await _page(request, person, sent=kind, problem=None)


async def _page(
    request: Request, person: Person, *, sent: str | None, problem: str | None, status: int = 200
) -> Response:
    vault: Vault = request.app.state.vault
    mine = await run_in_threadpool(vault.requests_of, person.principal)
    return render(
        request,
        "center/requests.html",
        status=status,
        signed_in=person,
        nav=NAV,
        requests=mine,
        kinds=ASKED_HERE,
        sent=sent,
        problem=problem,
        max_text=MAX_TEXT,
    )
