"""Confirmation messages: the link a person follows to confirm a change that waits for them.

Each goes through the email gate like any message, as the policy's transactional
communication named by ``PLEDGE_MAIL_CONFIRM_COMMUNICATION``, to the address on record for
the subject (for a submission that matched an existing person, that person's address, not the
submitter's), and is queued in the outbox with its own campaign id (``confirm-<pending id>``),
so a retry never sends it twice. Without the settings, the change waits and nothing is sent;
a log line says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from pledge.mail.gate import Gate
from pledge.mail.settings import MailSettings, load_mail_settings
from pledge.mail.templates import TemplateSet
from pledge.store.vault import Vault

log = structlog.get_logger("pledge.mail")


def send_confirmations(
    vault: Vault,
    pending: Sequence[tuple[str, str | None]],
    settings: MailSettings | None = None,
) -> int:
    """Queue one confirmation per (subject, pending id); the number queued."""
    waiting = [(subject, pid) for subject, pid in pending if pid]
    if not waiting:
        return 0
    settings = settings or load_mail_settings()
    if not (settings.confirm_communication and settings.confirm_url and settings.from_address):
        log.warning("confirmation_not_sent", pending=len(waiting), reason="not_configured")
        return 0
    gate = Gate(
        vault,
        settings.confirm_communication,
        TemplateSet(settings.templates_dir / settings.confirm_template),
        settings,
    )
    queued = 0
    for subject, pending_id in waiting:
        url = f"{settings.confirm_url.rstrip('/')}/{vault.confirmation_token(pending_id)}"
        result = gate.process(
            f"confirm-{pending_id}", [subject], dry_run=False, context={"confirm_url": url}
        )
        queued += len(result.queued)
        for skip in result.skipped:
            log.warning("confirmation_not_sent", pending=pending_id, reason=skip.code)
    return queued
