"""Sending email through the gate over HTTP: to named subjects, or to a whole segment.

Both only queue: the gate decides per person, renders, writes the outbox and the audit log
in one transaction per chunk, and a sender worker (``pledge mail deliver``) does the SMTP.
A message to named subjects (at most 1,000) is gated within the request; a campaign to a
segment is a job (:mod:`pledge.mail.jobs`): ``202 Accepted`` with its ``Location``, to poll.
The answers say who was skipped and why, by subject id and policy reason, never by address.
Admin keys only: a send reaches people outside any one staff purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import Request, Response
from pydantic import BaseModel, Field

from pledge.api.deps import AdminKey, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.mail import jobs
from pledge.mail.campaign import Summary, campaign_id
from pledge.mail.settings import load_mail_settings

router = v1_router(tags=["mail"])

TemplateName = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=64)


class SendIn(BaseModel):
    communication: str = Field(description="The policy's communication type to send as.")
    template: str = TemplateName
    subjects: list[str] = Field(min_length=1, max_length=1000)
    campaign: str | None = Field(default=None, max_length=128, description="Idempotency key.")
    dry_run: bool = False


class CampaignIn(BaseModel):
    communication: str
    template: str = TemplateName
    segment: str = Field(default="all", description="'all' or 'point:<collection point>'.")
    campaign: str | None = Field(default=None, max_length=128)
    dry_run: bool = False


class SkipOut(BaseModel):
    code: str
    ref: str
    message: str
    people: int
    subjects: list[str] = Field(description="Some of the subject ids skipped for this reason.")


class SendOut(BaseModel):
    campaign: str
    communication: str
    segment: str
    dry_run: bool
    seen: int = Field(description="People decided for.")
    queued: int
    already_queued: int
    skipped: list[SkipOut] = Field(description="By reason, the most people first.")


class JobError(BaseModel):
    code: str
    message: str


class CampaignJobOut(BaseModel):
    job: str = Field(description="The job id; poll GET /v1/mail/campaigns/{job}.")
    status: Literal["queued", "running", "done", "failed"]
    campaign: str
    communication: str
    segment: str
    dry_run: bool
    progress: int = Field(description="People gated so far (in the current attempt).")
    total: int | None = Field(description="People in the segment, once the job started.")
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: SendOut | None = Field(description="The summary, once the job is done.")
    error: JobError | None = Field(description="Why the job failed; nobody was skipped by it.")


def _job_out(job: jobs.Job) -> CampaignJobOut:
    order = job.order
    return CampaignJobOut(
        job=job.job_id,
        status=job.status,
        campaign=order.campaign,
        communication=order.communication,
        segment=order.segment,
        dry_run=order.dry_run,
        progress=job.progress,
        total=job.total,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=SendOut.model_validate(job.result) if job.result else None,
        error=JobError(code=job.error["code"], message=job.error["message"]) if job.error else None,
    )


@router.post("/mail/messages", responses=documented(404, 422))
def send(body: SendIn, vault: VaultDep, key: AdminKey) -> SendOut:
    """Queue one message for each named subject whom the policy and their choices allow."""
    gate = jobs.gate_for(vault, load_mail_settings(), body.communication, body.template)
    the_id = campaign_id(body.campaign, body.communication, body.template, vault.clock().date())
    summary = Summary(the_id, body.communication, "subjects", body.dry_run, keep=100)
    summary.add(gate.process(the_id, list(dict.fromkeys(body.subjects)), dry_run=body.dry_run))
    return SendOut.model_validate(summary.to_dict())


@router.post("/mail/campaigns", status_code=202, responses=documented(404, 422))
def campaign(
    body: CampaignIn, request: Request, response: Response, vault: VaultDep, key: AdminKey
) -> CampaignJobOut:
    """Check a campaign to a segment and queue it as a job; poll the Location for its end.

    Whatever would refuse it for everybody (an unknown type, template or segment, a marketing
    message without postal address or unsubscribe URL) is refused here, with 422."""
    order = jobs.prepare(
        vault,
        body.communication,
        body.template,
        body.segment,
        body.campaign,
        dry_run=body.dry_run,
    )
    job = jobs.submit(vault, order)
    request.app.state.campaigns.wake()
    response.headers["Location"] = f"/v1/mail/campaigns/{job.job_id}"
    return _job_out(job)


@router.get("/mail/campaigns/{job}", responses=documented(404))
def campaign_status(job: str, vault: VaultDep, key: AdminKey) -> CampaignJobOut:
    """A campaign job: queued, running (with progress), done (with the summary) or failed."""
    return _job_out(jobs.get(vault, job))
