"""Data-subject requests for staff: the queue by what is due, and each step of an answer.

Role and admin keys call these; each step is audited with the key that took it, and the
person is emailed about it (see :mod:`pledge.mail.request_notices`). Logging a request that
came another way (``POST /v1/subjects/{subject}/requests``) is an admin's: it waits until the
person's identity is verified.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from starlette.concurrency import run_in_threadpool

from pledge.api.deps import AdminKey, RequestsKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import RequestOpenIn, RequestOut, RequestStepOut, RequestTextIn
from pledge.mail.request_notices import answer as answer_request
from pledge.mail.request_notices import notify_now
from pledge.store.requests import Request
from pledge.store.vault import Vault

router = v1_router(tags=["requests"])

RequestId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", description="A request id (32 hex characters).")
]


def out(request: Request) -> RequestOut:
    return RequestOut(
        request=request.request_id,
        subject=request.subject,
        kind=request.kind,
        state=request.state,
        received_at=request.received_at,
        acknowledge_by=request.acknowledge_by,
        respond_by=request.respond_by,
        extended=request.extended,
        urgency=request.urgency.value if request.urgency else None,
        law=request.law,
        closed_at=request.closed_at,
        last_error=request.last_error,
        steps=[
            RequestStepOut(step=s.step, actor=s.actor, at=s.at, message=s.message)
            for s in request.steps
        ],
    )


def _told(vault: Vault, request: Request) -> RequestOut:
    notify_now(vault)
    return out(request)


@router.get("/requests")
def queue(
    vault: VaultDep,
    key: RequestsKey,
    closed: Annotated[bool, Query(description="Closed requests instead of open ones.")] = False,
) -> list[RequestOut]:
    """Open requests, overdue first, then by due date; with ``closed``, the latest closed."""
    return [out(r) for r in vault.request_queue(closed=closed)]


@router.get("/requests/{request_id}", responses=documented(404))
def show(request_id: RequestId, vault: VaultDep, key: RequestsKey) -> RequestOut:
    """One request with its steps and their words (reading them is audited)."""
    return out(vault.request(request_id, actor=str(key)))


@router.post("/requests/{request_id}/verify", responses=documented(404, 409))
async def verify(request_id: RequestId, vault: VaultDep, key: RequestsKey) -> RequestOut:
    """The person's identity was checked another way."""
    done = await run_in_threadpool(vault.verify_request, request_id, actor=str(key))
    return await run_in_threadpool(_told, vault, done)


@router.post("/requests/{request_id}/start", responses=documented(404, 409))
async def start(request_id: RequestId, vault: VaultDep, key: RequestsKey) -> RequestOut:
    """Someone is working on it."""
    done = await run_in_threadpool(vault.start_request, request_id, actor=str(key))
    return await run_in_threadpool(_told, vault, done)


@router.post("/requests/{request_id}/extend", responses=documented(404, 409))
async def extend(
    request_id: RequestId, body: RequestTextIn, vault: VaultDep, key: RequestsKey
) -> RequestOut:
    """Extend the deadline as far as the policy's law allows (409 when it allows none, or no
    longer); ``text`` is the reason the person is told."""
    done = await run_in_threadpool(vault.extend_request, request_id, body.text, actor=str(key))
    return await run_in_threadpool(_told, vault, done)


@router.post("/requests/{request_id}/answer", responses=documented(404, 409))
async def answer(
    request_id: RequestId, body: RequestTextIn, vault: VaultDep, key: RequestsKey
) -> RequestOut:
    """Answer: done. An erasure request is carried out."""
    done = await run_in_threadpool(answer_request, vault, request_id, body.text, actor=str(key))
    return await run_in_threadpool(_told, vault, done)


@router.post("/requests/{request_id}/refuse", responses=documented(404, 409))
async def refuse(
    request_id: RequestId, body: RequestTextIn, vault: VaultDep, key: RequestsKey
) -> RequestOut:
    """Refuse, with the reason the person is told."""
    done = await run_in_threadpool(vault.refuse_request, request_id, body.text, actor=str(key))
    return await run_in_threadpool(_told, vault, done)


@router.post("/subjects/{subject}/requests", status_code=201, responses=documented(404))
async def open_request(
    subject: SubjectId, body: RequestOpenIn, vault: VaultDep, key: AdminKey
) -> RequestOut:
    """Log a request that came by letter, phone or email; it waits for identity verification
    and expires without it."""
    done = await run_in_threadpool(
        vault.open_request, subject, body.kind, body.text, actor=str(key), verified=False
    )
    return await run_in_threadpool(_told, vault, done)
