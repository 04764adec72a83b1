"""Helpers for the email tests: a real SMTP server on a loopback port that keeps what it
receives, and people collected through each policy's own forms.

The server is aiosmtpd's ``Controller``; tests stop and restart it to play an outage, and
hook its handler to refuse or hold messages.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pledge.mail.gate import Gate
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.mail.tokens import KEY_NAME, UnsubscribeTokens, offered_choices
from pledge.mail.unsubscribe import Unsubscribes
from pledge.policy.model import CollectionPoint
from pledge.store.shapes import shape_of
from pledge.store.vault import Vault

EXAMPLE_POLICIES = Path(__file__).resolve().parents[2] / "examples" / "policies"
HOST = "127.0.0.1"
UNSUBSCRIBE_URL = "https://privacy.example.test/unsubscribe"
SAMPLE = {"phone": "+15555550123", "date": "1990-01-01", "integer": "42", "text": "sample"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class Sink:
    """An SMTP server that keeps every message it accepts.

    ``refuse`` maps a recipient to the reply its RCPT gets; ``on_data(received)`` runs before
    a message is accepted and may block (the test then holds the server's reply).
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refuse: dict[str, str] = {}
        self.on_data: Callable[[Received], None] | None = None
        self.on_rcpt: Callable[[], None] | None = None
        self.refuse_data: str | None = None  # the reply to every DATA, instead of accepting
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    # aiosmtpd handler hooks
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.on_rcpt is not None:
            self.on_rcpt()
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = Received(
            envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)
        )
        if self.on_data is not None:
            self.on_data(received)
        if self.refuse_data is not None:
            return self.refuse_data
        with self._lock:
            self.received.append(received)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    def message_ids(self) -> Counter[str]:
        return Counter(r.message_id for r in self.received)


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A running SMTP sink for one test (conftests import this fixture by name)."""
    server = Sink()
    server.start()
    yield server
    server.stop()


def settings_for(vault: Vault, settings: MailSettings, **changes: Any) -> MailSettings:
    """``settings`` with the From address in the policy's first sender domain."""
    domains = vault.policy.policy.organisation.sender_domains
    sender = (settings.from_address or "").format(domain=domains[0] if domains else "example.test")
    return settings.model_copy(update={"from_address": sender, **changes})


def tokens_for(vault: Vault, days: int = 60) -> UnsubscribeTokens:
    return UnsubscribeTokens(
        vault.named_secret(KEY_NAME), offered_choices(vault.policy), valid_days=days
    )


def write_template(folder: Path, subject: str, text: str, html: str | None = None) -> TemplateSet:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "subject.txt").write_text(subject, encoding="utf-8")
    (folder / "body.txt").write_text(text, encoding="utf-8")
    if html is not None:
        (folder / "body.html").write_text(html, encoding="utf-8")
    return TemplateSet(folder)


GateFactory = Callable[..., Gate]


def unsubscribes_for(vault: Vault, days: int = 60) -> Unsubscribes:
    return Unsubscribes(vault, tokens_for(vault, days))


# --- people -----------------------------------------------------------------------------------


def form_for(point: CollectionPoint, n: int, *, email_address: str) -> dict[str, str]:
    """Values for every required field (and name/email) of ``point``, by shape."""
    fields: dict[str, str] = {}
    for name, spec in point.fields.items():
        if spec.category == "user.contact.email":
            fields[name] = email_address
        elif spec.category == "user.name":
            fields[name] = f"Person {n}"
        elif spec.required:
            shape = shape_of(spec.category, spec.shape)
            fields[name] = f"{SAMPLE.get(shape, 'sample')}" if shape != "text" else f"value {n}"
    return fields


def collect(
    vault: Vault,
    point: str,
    n: int,
    *,
    choices: dict[str, bool] | None = None,
    domain: str = "example.com",
) -> tuple[str, str]:
    """Collect person ``n`` at ``point``; returns (subject id, email address)."""
    spec = vault.policy.policy.collection_points[point]
    address = f"person{n}@example.com"
    pass_through = {
        name for name, field in spec.fields.items() if vault.policy.is_pass_through(field.category)
    }
    fields = {
        k: v for k, v in form_for(spec, n, email_address=address).items() if k not in pass_through
    }
    collected = vault.collect(
        point, fields, choices=choices or {}, age=30 if spec.min_age is not None else None
    )
    return collected.subject, address


def clock_sleep(clock: Any) -> Callable[[float], None]:
    """A sleep for the worker that moves the test's fake clock instead of waiting."""
    return lambda seconds: clock.advance(seconds=seconds)
