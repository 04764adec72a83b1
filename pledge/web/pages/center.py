"""The privacy center: a signed-in person's own data, choices, disclosures and rights.

Every page acts for the session's subject and for no one else: no page or form takes a
subject id from the URL or the form, so there is no other person's id to try. Reads go
through the store's one read path as the subject (``Vault.export``, ``Vault.release``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pledge.store.sessions import SUBJECT
from pledge.web.pages import render
from pledge.web.session import SignedIn, signed_in

router = APIRouter()
Person = Annotated[SignedIn, Depends(signed_in(SUBJECT))]
NAV = (("/center", "Your data"),)


@router.get("/center")
async def home(request: Request, person: Person) -> Response:
    return render(request, "center/home.html", signed_in=person, nav=NAV)
