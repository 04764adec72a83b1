"""Disclosures: who received the person's data, what, when and why, each with the proof that
the audit log records it.

The proof is checked in the person's browser (``/assets/center.js``): it hashes the entry's
own bytes as an RFC 6962 leaf, climbs the inclusion path to a root, and checks that root
against the log's signed checkpoint with WebCrypto's Ed25519, so the page does not ask the
person to take the server's word. Without JavaScript the proof is a JSON link to check with
any RFC 6962 tool. A proof is addressed by its place in the person's own list, never by an
audit entry number: there is no way to ask for anyone else's.
"""

from __future__ import annotations

import base64
import hashlib

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pledge.policy.explain import namer
from pledge.store.vault import Vault
from pledge.web.pages import render
from pledge.web.pages.person import NAV, Person

router = APIRouter()


@router.get("/center/disclosures")
async def disclosures(request: Request, person: Person) -> Response:
    vault: Vault = request.app.state.vault
    listed = await run_in_threadpool(vault.disclosures, person.principal)
    name = namer(vault.policy.policy)
    for item in listed:
        item["what"] = ", ".join(name("data_category", c) for c in item["categories"])
        item["why"] = name("data_use", item["purpose"])
    key = vault.audit.public_key.public_bytes_raw()
    return render(
        request,
        "center/disclosures.html",
        signed_in=person,
        nav=NAV,
        disclosures=listed,
        key=base64.b64encode(key).decode(),
        fingerprint=hashlib.sha256(key).hexdigest()[:32],
        origin=vault.audit.origin,
    )


@router.get("/center/disclosures/{index}/proof")
async def proof(
    request: Request, person: Person, index: int = Path(ge=0, le=1_000_000)
) -> Response:
    vault: Vault = request.app.state.vault
    found = await run_in_threadpool(vault.prove_disclosure, person.principal, index)
    return JSONResponse(found, headers={"Cache-Control": "no-store"})
