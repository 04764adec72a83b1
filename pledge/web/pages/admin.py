"""The staff console: the request queue, a request's steps, finding a person, their data
through a purpose, the audit log and the policy in force.

Every page needs a staff session that passed its second factor, and acts as the role chosen
then (never one a form names). Personal data never travels in a URL: a lookup is a POST, and
the person found is carried to the next form in its body. A person's data is read only
through the store's one read path, as the session's role, for a purpose the policy lets
that role use; anything else is refused by the decision function and audited like any read.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pledge.errors import DeniedError, InputError, NotFoundError
from pledge.mail.request_notices import answer as answer_request
from pledge.mail.request_notices import notify_now
from pledge.policy.deadlines import Urgency
from pledge.store.requests import Request as DataRequest
from pledge.store.sessions import STAFF
from pledge.store.vault import Vault
from pledge.web.pages import render
from pledge.web.session import SignedIn, posted, signed_in

router = APIRouter()
Staff = Annotated[SignedIn, Depends(signed_in(STAFF, second_factor=True))]
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
NAV = (
    ("/admin", "Requests"),
    ("/admin/lookup", "Find a person"),
    ("/admin/audit", "Audit log"),
    ("/admin/policy", "Policy"),
)
GROUPS = (
    (Urgency.overdue, "Overdue"),
    (Urgency.this_week, "Due within a week"),
    (Urgency.later, "Due later"),
)
ACTIONS = ("verify", "start", "extend", "answer", "refuse")
SUBJECT_ID = 32


def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def actor(staff: SignedIn) -> str:
    return f"staff:{staff.principal}"


def role_of(staff: SignedIn) -> str:
    role = staff.session.role
    assert role is not None  # the second factor sets it
    return role


def page(request: Request, staff: SignedIn, name: str, **context: Any) -> Response:
    return render(request, name, signed_in=staff, nav=NAV, role=role_of(staff), **context)


@router.get("/admin")
async def queue(request: Request, staff: Staff) -> Response:
    found = await run_in_threadpool(_vault(request).request_queue)
    groups = [(label, [r for r in found if r.urgency is u]) for u, label in GROUPS]
    return page(request, staff, "admin/queue.html", groups=groups, total=len(found))


@router.get("/admin/requests/{request_id}")
async def show(request: Request, staff: Staff, request_id: RequestId) -> Response:
    shown = await run_in_threadpool(_vault(request).request, request_id, actor=actor(staff))
    return page(request, staff, "admin/request.html", item=shown, actions=_actions(shown))


def _actions(item: DataRequest) -> list[str]:
    """The steps the request can take from where it stands."""
    if item.state == "received":
        return ["verify", "refuse"]
    if item.state == "verified":
        return ["start", "extend", "answer", "refuse"]
    if item.state == "in_progress":
        return ["extend", "answer", "refuse"] if not item.extended else ["answer", "refuse"]
    return []


@router.post("/admin/requests/{request_id}/{action}")
async def act(request: Request, staff: Staff, request_id: RequestId, action: str) -> Response:
    form = await posted(request)
    if action not in ACTIONS:
        raise NotFoundError(f"no step '{action}'")
    vault, who, text = _vault(request), actor(staff), form.get("text")
    steps = {
        "verify": lambda: vault.verify_request(request_id, actor=who),
        "start": lambda: vault.start_request(request_id, actor=who),
        "extend": lambda: vault.extend_request(request_id, text, actor=who),
        "answer": lambda: answer_request(vault, request_id, text, actor=who),
        "refuse": lambda: vault.refuse_request(request_id, text, actor=who),
    }
    await run_in_threadpool(steps[action])
    await run_in_threadpool(notify_now, vault)
    return RedirectResponse(
        f"/admin/requests/{request_id}", status_code=303, headers={"Cache-Control": "no-store"}
    )


@router.get("/admin/lookup")
async def lookup_form(request: Request, staff: Staff) -> Response:
    return page(request, staff, "admin/lookup.html", problem=None, kind="email")


@router.post("/admin/lookup")
async def lookup(request: Request, staff: Staff) -> Response:
    """Exact email or username, through the blind index: a part of one finds no one."""
    form = await posted(request)
    kind, value = form.get("kind"), form.get("value").strip()
    if kind not in ("email", "username") or not value:
        return page(
            request,
            staff,
            "admin/lookup.html",
            problem="Choose email or username and type the whole of it.",
            kind="email",
        )
    subject = await run_in_threadpool(_vault(request).find, kind, value)
    if subject is None:
        return page(
            request,
            staff,
            "admin/lookup.html",
            problem=f"No one holds exactly that {kind}. Lookups match the whole value only.",
            kind=kind,
        )
    return await _subject_page(request, staff, subject, None, None)


@router.post("/admin/subject")
async def subject_data(request: Request, staff: Staff) -> Response:
    """A person's data for one purpose, read as the session's role (audited)."""
    form = await posted(request)
    subject, purpose = form.get("subject"), form.get("purpose")
    if len(subject) != SUBJECT_ID or not subject.isalnum():
        raise InputError("the form named no person; look them up again")
    vault = _vault(request)
    try:
        released = await run_in_threadpool(
            vault.read_as_staff, staff.principal, role_of(staff), subject, purpose
        )
    except DeniedError as denied:
        return await _subject_page(request, staff, subject, purpose, None, denied, status=403)
    return await _subject_page(request, staff, subject, purpose, released)


async def _subject_page(
    request: Request,
    staff: Staff,
    subject: str,
    purpose: str | None,
    released: Any,
    denied: DeniedError | None = None,
    *,
    status: int = 200,
) -> Response:
    vault = _vault(request)
    role = vault.policy.policy.roles[role_of(staff)]
    entries = await run_in_threadpool(vault.audit_entries_for, subject)
    return render(
        request,
        "admin/subject.html",
        status=status,
        signed_in=staff,
        nav=NAV,
        role=role_of(staff),
        subject=subject,
        purposes=role.purposes,
        purpose=purpose,
        released=released,
        denied=denied.message if denied else None,
        entries=entries[-50:],
    )


@router.get("/admin/audit")
async def audit(request: Request, staff: Staff) -> Response:
    checked = await run_in_threadpool(_vault(request).verify_audit)
    return page(request, staff, "admin/audit.html", checked=checked, proof=None, problem=None)


@router.post("/admin/audit/proof")
async def proof(request: Request, staff: Staff) -> Response:
    form = await posted(request)
    vault = _vault(request)
    checked = await run_in_threadpool(vault.verify_audit)
    given = form.get("seq").strip()
    problem, shown = None, None
    if not given.isdigit():
        problem = "Give an entry's number (0 or more)."
    else:
        try:
            shown = await run_in_threadpool(vault.prove_entry, int(given))
        except NotFoundError as error:
            problem = error.message[0].upper() + error.message[1:] + "."
    return page(
        request,
        staff,
        "admin/audit.html",
        checked=checked,
        proof=json.dumps(shown, indent=2, default=str) if shown else None,
        problem=problem,
    )


@router.get("/admin/policy")
async def policy(request: Request, staff: Staff) -> Response:
    vault = _vault(request)
    return page(request, staff, "admin/policy.html", policy=vault.policy.policy)
