"""Sign-in links of the staff console, mailed to the staff member's address.

Staff are not data subjects, so their link does not go through the email gate (which decides
for subjects under the policy) nor the outbox (whose rows are sealed under a subject's key):
it is sent at once over SMTP, with the same composer and transport as every message. A link
alone opens nothing: the console asks for the TOTP code next (:mod:`pledge.store.staff`).
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog

from pledge.mail.compose import Composer, sender_domain
from pledge.mail.sender import SmtpTransport, Transport
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.store.sessions import LINK_TTL, STAFF
from pledge.store.vault import Vault

TEMPLATE = Path(__file__).parent / "templates" / "staff_sign_in"
log = structlog.get_logger("pledge.mail")


def staff_sign_in_url(settings: MailSettings) -> str | None:
    """The console's sign-in page: ``staff_sign_in_url``, or beside the people's one."""
    if settings.staff_sign_in_url:
        return settings.staff_sign_in_url
    base = settings.sign_in_url
    if base and base.rstrip("/").endswith("/sign-in"):
        return base.rstrip("/").removesuffix("/sign-in") + "/admin/sign-in"
    return None


class StaffSignInMail:
    def __init__(
        self, vault: Vault, settings: MailSettings, transport: Transport | None = None
    ) -> None:
        self.vault = vault
        self.settings = settings
        self.transport = transport or SmtpTransport.from_settings(settings)
        self.template = TemplateSet(TEMPLATE)

    def send(self, staff_id: str) -> bool:
        """Mail a new link to ``staff_id``; whether one went out."""
        url = staff_sign_in_url(self.settings)
        sender = self.settings.from_address
        if not (url and sender):
            log.warning("staff_sign_in_not_sent", reason="not_configured")
            return False
        token = self.vault.sign_in_link(STAFF, staff_id)
        rendered = self.template.render(
            organisation=self.vault.policy.policy.organisation.name,
            sign_in_url=f"{url.rstrip('/')}/{token}",
            minutes=str(int(LINK_TTL.total_seconds() // 60)),
        )
        address = self.vault.staff_address(staff_id)
        message = Composer(sender).compose(
            recipient=address,
            recipient_name=None,
            rendered=rendered,
            message_id=f"<{os.urandom(16).hex()}@{sender_domain(sender)}>",
            date=self.vault.clock(),
            headers=[],
        )
        envelope = sender.rpartition("<")[2].rstrip(">").strip()
        connection = self.transport.connect()
        try:
            connection.sendmail(envelope, [address], message)
        finally:
            connection.quit()
        return True
