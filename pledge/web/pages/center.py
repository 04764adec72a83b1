"""The privacy center's data pages: "your data" with its reasons, the download, corrections.

A download and a correction are requests answered at once (recorded as such, with their
steps: see :mod:`pledge.store.requests`).

Every page acts for the session's subject and no one else: no URL or form names a subject,
so there is no other person's id to try. The data is read through the store's one read path
as the person exercising their right of access (:meth:`Vault.export`, audited), and each value
is explained from the policy version it was collected under (:mod:`pledge.policy.explain`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import ConflictError, InputError, NotFoundError
from pledge.policy.explain import Explanation, Use, explain
from pledge.store.vault import Vault
from pledge.web.pages import PRIVATE, render, templates
from pledge.web.pages.person import ACTOR, NAV, Person
from pledge.web.session import posted

router = APIRouter()
OTHER = Use("", "Other", "")


@dataclass(frozen=True)
class Held:
    """One value the person sees, with the reasons it is held."""

    point: str
    field: str
    value: str
    collected_at: dt.datetime
    policy_version: str
    why: Explanation


@dataclass(frozen=True)
class Holdings:
    groups: list[tuple[Use, list[Held]]]
    export: dict[str, Any]


def holdings(vault: Vault, subject: str, *, as_request: bool = False) -> Holdings:
    """The person's data grouped by the purposes it serves (a value serving several purposes
    is under each), read as the person's access. A download (``as_request``) is also recorded
    as an export request answered at once; looking at the page is not."""
    data = (vault.export_request if as_request else vault.export)(subject, actor=ACTOR)
    groups: dict[str, tuple[Use, list[Held]]] = {}
    for item in data["data"]:
        compiled = vault.policy.history.get(item["policy_version"], vault.policy)
        collected_at = dt.datetime.fromisoformat(item["collected_at"])
        why = explain(compiled.policy, item["point"], item["category"], collected_at)
        held = Held(
            item["point"], item["field"], item["value"], collected_at, item["policy_version"], why
        )
        for use in why.uses or (OTHER,):
            groups.setdefault(use.key, (use, []))[1].append(held)
    return Holdings(list(groups.values()), data)


@router.get("/center")
async def your_data(request: Request, person: Person) -> Response:
    vault: Vault = request.app.state.vault
    found = await run_in_threadpool(holdings, vault, person.principal)
    return render(
        request,
        "center/your_data.html",
        signed_in=person,
        nav=NAV,
        groups=found.groups,
        credentials=found.export["credentials"],
        since=found.export["created_at"][:10],
    )


@router.get("/center/download")
async def download(request: Request, person: Person) -> Response:
    return render(request, "center/download.html", signed_in=person, nav=NAV)


@router.get("/center/download/data.json")
async def download_json(request: Request, person: Person) -> Response:
    vault: Vault = request.app.state.vault
    data = await run_in_threadpool(vault.export_request, person.principal, actor=ACTOR)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={**_attachment("json"), "Cache-Control": "no-store"},
    )


@router.get("/center/download/data.html")
async def download_html(request: Request, person: Person) -> Response:
    vault: Vault = request.app.state.vault
    found = await run_in_threadpool(holdings, vault, person.principal, as_request=True)
    organisation = vault.policy.policy.organisation
    html = templates.get_template("center/export.html").render(
        organisation=organisation.name,
        privacy_contact=organisation.privacy_contact,
        groups=found.groups,
        data=found.export,
    )
    return Response(html, media_type="text/html", headers={**PRIVATE, **_attachment("html")})


def _attachment(extension: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="my-data.{extension}"'}


@router.get("/center/correct")
async def correct_form(request: Request, person: Person) -> Response:
    return await _correct_page(request, person, problem=None, done=None)


@router.post("/center/correct")
async def correct(request: Request, person: Person) -> Response:
    """Correct one field wherever it was collected, checked as at collection; audited."""
    form = await posted(request)
    vault: Vault = request.app.state.vault
    field, value = form.get("field"), form.get("value").strip()
    try:
        await run_in_threadpool(vault.rectify_request, person.principal, field, value, actor=ACTOR)
    except (InputError, ConflictError, NotFoundError) as error:
        problem = error.message[0].upper() + error.message[1:]
        return await _correct_page(request, person, problem=problem, done=None, status=422)
    return await _correct_page(request, person, problem=None, done=field)


async def _correct_page(
    request: Request, person: Person, *, problem: str | None, done: str | None, status: int = 200
) -> Response:
    vault: Vault = request.app.state.vault
    found = await run_in_threadpool(holdings, vault, person.principal)
    fields = {h.field: h for _, values in found.groups for h in values}
    return render(
        request,
        "center/correct.html",
        status=status,
        signed_in=person,
        nav=NAV,
        fields=sorted(fields.values(), key=lambda h: h.field),
        problem=problem,
        done=done,
    )
