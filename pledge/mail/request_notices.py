"""Tell the person about each step of their request, through the email gate.

Each step the store records (:mod:`pledge.store.requests`) waits in ``request_events`` until
its email is queued: this module renders it from the built-in ``request_step`` template as
the policy's transactional communication named by ``PLEDGE_MAIL_REQUESTS_COMMUNICATION``
(default: the one sign-in links go as), and the gate decides, audits and queues it like any message.
The campaign id ``request-<id>-<step number>`` makes a retry after a crash queue nothing
twice. A step that fails is counted on its row and the others go on.

An erasure's answer cannot wait for its step: once the erasure is done there is no address
left to write to. :func:`answer` queues it before, as a farewell (held, sealed under a key of
its own, see :mod:`pledge.store.outbox`), and the erasure releases it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import structlog

from pledge.mail.gate import Gate
from pledge.mail.settings import MailSettings, load_mail_settings
from pledge.mail.sign_in import sign_in_communication
from pledge.mail.templates import TemplateSet
from pledge.store.request_work import Notice
from pledge.store.requests import ANSWERABLE, DONE, VERIFY_WITHIN, Request
from pledge.store.vault import Vault

TEMPLATE = Path(__file__).parent / "templates" / "request_step"
KIND_LABELS = {
    "access": "request to see your data",
    "export": "request for a copy of your data",
    "rectify": "correction",
    "erase": "request to erase your data",
    "object": "objection",
    "choices": "change of choices",
    "complaint": "complaint",
    "inquiry": "question",
}
log = structlog.get_logger("pledge.mail")


@dataclass
class NoticeReport:
    queued: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # "<request>/<step>" -> error
    waiting: int = 0  # steps left untold because no communication is configured


def communication(vault: Vault, settings: MailSettings) -> str | None:
    return settings.requests_communication or sign_in_communication(vault, settings)


def send_request_notices(vault: Vault, settings: MailSettings | None = None) -> NoticeReport:
    """Queue the email of every step not yet told; what was queued, skipped and failed."""
    settings = settings or load_mail_settings()
    report = NoticeReport()
    name = communication(vault, settings)
    notices = vault.request_notices()
    if not notices:
        return report
    if not (name and settings.from_address):
        report.waiting = len(notices)
        return report
    gate = Gate(vault, name, TemplateSet(TEMPLATE), settings)
    for notice in notices:
        try:
            result = gate.process(
                f"request-{notice.request_id}-{notice.seq}",
                [notice.subject],
                dry_run=False,
                context=_context(notice),
            )
        except Exception as exc:  # one step's failure never holds up the others
            error = getattr(exc, "message", type(exc).__name__)
            report.failed[f"{notice.request_id}/{notice.seq}"] = error
            vault.request_notice_done(notice, error=error)
            continue
        report.queued += len(result.queued) + result.already_queued
        report.skipped += len(result.skipped)
        for skip in result.skipped:
            log.warning("request_notice_skipped", request=notice.request_id, reason=skip.code)
        vault.request_notice_done(notice)
    return report


def answer(
    vault: Vault,
    request_id: str,
    text: str,
    *,
    actor: str,
    settings: MailSettings | None = None,
) -> Request:
    """Answer a request (done). For an erasure request that can be answered, its answer is
    queued first as a farewell, which the erasure releases; if that cannot be queued (no mail
    configured, the gate refuses), the erasure still happens and the log says why nobody was
    told."""
    request = vault.request_header(request_id)
    if request.kind == "erase" and request.state in ANSWERABLE:
        _queue_farewell(vault, request, text, settings or load_mail_settings())
    return vault.answer_request(request_id, text, actor=actor)


def _queue_farewell(vault: Vault, request: Request, text: str, settings: MailSettings) -> None:
    name = communication(vault, settings)
    if not (name and settings.from_address):
        log.warning("farewell_not_sent", request=request.request_id, reason="not_configured")
        return
    notice = Notice(
        request.request_id, request.subject, 0, request.kind, DONE, request.respond_by, text
    )
    try:
        result = Gate(vault, name, TemplateSet(TEMPLATE), settings).process(
            f"request-{request.request_id}-farewell",
            [request.subject],
            dry_run=False,
            context={**_context(notice), "farewell": "yes"},
            farewell=True,
        )
    except Exception as exc:  # the erasure is owed whatever happens to its email
        log.warning("farewell_not_sent", request=request.request_id, error=type(exc).__name__)
        return
    for skip in result.skipped:
        log.warning("farewell_not_sent", request=request.request_id, reason=skip.code)


def _context(notice: Notice) -> dict[str, str]:
    return {
        "step": notice.step,
        "kind_label": KIND_LABELS.get(notice.kind, "request"),
        "reference": notice.request_id[:12],
        "respond_by": notice.respond_by.isoformat(),
        "message": notice.message or "",
        "verify_days": str(VERIFY_WITHIN.days),
        "farewell": "",
    }


def notify_now(vault: Vault, settings: MailSettings | None = None) -> NoticeReport:
    """Tell the person right after a step, without failing the step: it is recorded, and
    what cannot be queued now is queued by the next ``pledge requests run``."""
    try:
        report = send_request_notices(vault, settings)
    except Exception as exc:  # the step stands; the next run retries its email
        log.warning("request_notices_failed", error=type(exc).__name__)
        return NoticeReport(failed={"*": type(exc).__name__})
    if report.failed:
        log.warning("request_notices_failed", steps=len(report.failed))
    if report.waiting:
        log.warning("request_notices_not_sent", steps=report.waiting, reason="not_configured")
    return report
