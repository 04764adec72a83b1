"""Sign-in messages: the one-time link to the privacy center, mailed to the address on record.

The link goes through the email gate like any message, as the policy's transactional
communication (``PLEDGE_MAIL_SIGN_IN_COMMUNICATION``, default the first transactional one, else
the first service message),
to the address the policy releases for it, never to the address someone typed: asking for a
link with another person's address sends them their link, and nothing to the one asking.

A person waiting at a sign-in page cannot wait for the next ``pledge mail deliver``, so after
queuing a link the service delivers the outbox itself, in one background thread per process
(:class:`Courier`). It is the same worker as ``pledge mail deliver`` and safe beside it (each
message is claimed by one worker); it delivers whatever else is due too.
"""

from __future__ import annotations

import threading
from pathlib import Path

import structlog

from pledge.errors import PledgeError
from pledge.mail.gate import Gate
from pledge.mail.sender import Sender, SmtpTransport, Transport
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.policy.model import MessageClass
from pledge.store.sessions import LINK_TTL, SUBJECT
from pledge.store.vault import Vault

TEMPLATE = Path(__file__).parent / "templates" / "sign_in"
log = structlog.get_logger("pledge.mail")


def sign_in_communication(vault: Vault, settings: MailSettings) -> str | None:
    """The communication sign-in links are sent as: the setting, else the policy's first
    transactional one, else its first service message (both are about the person's own
    account, never marketing); None when the policy has neither."""
    if settings.sign_in_communication:
        return settings.sign_in_communication
    communications = vault.policy.policy.communications
    for wanted in (MessageClass.transactional, MessageClass.service):
        for name, spec in communications.items():
            if spec.message_class is wanted:
                return name
    return None


class Courier:
    """Delivers the outbox in a background thread when told a message is waiting; one thread
    at a time, which runs again if told while it was finishing."""

    def __init__(self, vault: Vault, transport: Transport, settings: MailSettings) -> None:
        self.vault, self.transport, self.settings = vault, transport, settings
        self._lock = threading.Lock()
        self._again = False
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        with self._lock:
            self._again = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="courier", daemon=True)
                self._thread.start()

    def wait(self, timeout: float = 30.0) -> None:
        """Until the thread has nothing left to do (for tests and the demo)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
            try:
                Sender(self.vault, self.transport, self.settings).run()
            except PledgeError as error:
                log.warning("courier_stopped", code=error.code)


class SignInMail:
    """Queues sign-in links through the gate and has them delivered."""

    def __init__(
        self, vault: Vault, settings: MailSettings, transport: Transport | None = None
    ) -> None:
        self.vault = vault
        self.settings = settings
        communication = sign_in_communication(vault, settings)
        configured = settings.sign_in_url and settings.from_address and communication
        self.gate = (
            Gate(
                vault,
                communication,
                TemplateSet(settings.sign_in_template or TEMPLATE),
                settings,
            )
            if configured and communication
            else None
        )
        self.courier = Courier(vault, transport or SmtpTransport.from_settings(settings), settings)

    @property
    def ready(self) -> bool:
        return self.gate is not None

    def send(self, subject: str) -> bool:
        """Queue a new link for ``subject`` and start delivering; whether one was queued."""
        if self.gate is None or not self.settings.sign_in_url:
            log.warning("sign_in_not_sent", reason="not_configured")
            return False
        token = self.vault.sign_in_link(SUBJECT, subject)
        link_id = self.vault.check_sign_in(token)
        url = f"{self.settings.sign_in_url.rstrip('/')}/{token}"
        result = self.gate.process(
            f"sign-in-{link_id}",
            [subject],
            dry_run=False,
            context={"sign_in_url": url, "minutes": str(int(LINK_TTL.total_seconds() // 60))},
        )
        for skip in result.skipped:
            log.warning("sign_in_not_sent", reason=skip.code)
        if result.queued:
            self.courier.kick()
        return bool(result.queued)
