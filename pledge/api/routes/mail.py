"""Sending email through the gate over HTTP: to named subjects, or to a whole segment.

Both only queue: the gate decides per person, renders, writes the outbox and the audit log
in one transaction per chunk, and a sender worker (``pledge mail deliver``) does the SMTP.
The answer says who was skipped and why, by subject id and policy reason, never by address.
Admin keys only: a send reaches people outside any one staff purpose.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from pledge.api.deps import AdminKey, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.errors import InputError
from pledge.mail.campaign import Summary, campaign_id, run_campaign
from pledge.mail.gate import Gate
from pledge.mail.segments import Segment
from pledge.mail.settings import MailSettings, load_mail_settings
from pledge.mail.templates import TemplateSet
from pledge.mail.unsubscribe import Unsubscribes
from pledge.store.vault import Vault

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
    dry_run: bool
    queued: int
    already_queued: int
    skipped: list[SkipOut]


def _gate(vault: Vault, communication: str, template: str) -> tuple[Gate, MailSettings]:
    settings = load_mail_settings()
    folder = settings.templates_dir / template
    if not folder.is_dir():
        raise InputError(f"no template '{template}' in the templates folder", template=template)
    tokens = Unsubscribes.for_vault(vault, settings).tokens
    return Gate(vault, communication, TemplateSet(folder), settings, tokens), settings


def _answer(summary: Summary) -> SendOut:
    return SendOut(
        campaign=summary.campaign,
        dry_run=summary.dry_run,
        queued=summary.queued,
        already_queued=summary.already_queued,
        skipped=[
            SkipOut(
                code=code,
                ref=ref,
                message=summary.messages.get((code, ref), ""),
                people=count,
                subjects=summary.examples.get((code, ref), []),
            )
            for (code, ref), count in sorted(summary.skipped.items())
        ],
    )


@router.post("/mail/messages", responses=documented(404, 422))
def send(body: SendIn, vault: VaultDep, key: AdminKey) -> SendOut:
    """Queue one message for each named subject whom the policy and their choices allow."""
    gate, _ = _gate(vault, body.communication, body.template)
    the_id = campaign_id(body.campaign, body.communication, body.template, vault.clock().date())
    summary = Summary(the_id, body.communication, "subjects", body.dry_run, keep=100)
    summary.add(gate.process(the_id, list(dict.fromkeys(body.subjects)), dry_run=body.dry_run))
    return _answer(summary)


@router.post("/mail/campaigns", responses=documented(422))
def campaign(body: CampaignIn, vault: VaultDep, key: AdminKey) -> SendOut:
    """Queue a campaign to a segment, streamed through the gate chunk by chunk."""
    gate, settings = _gate(vault, body.communication, body.template)
    the_id = campaign_id(body.campaign, body.communication, body.template, vault.clock().date())
    summary = run_campaign(
        gate,
        Segment.parse(body.segment, vault.policy),
        the_id,
        dry_run=body.dry_run,
        chunk_size=settings.chunk_size,
    )
    return _answer(summary)
