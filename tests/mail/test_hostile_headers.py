"""Names and subjects a hostile or careless person can put into headers: NUL bytes, line
breaks, 2,000 characters. SMTP must never see an illegal line, the person still gets the
message with a cleaned, shortened, encoded name, and a refusal that will not change (5xx) ends
the message instead of retrying it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from mail_support import HOST, GateFactory, Sink, clock_sleep
from sqlalchemy import select

from pledge.mail.campaign import run_campaign
from pledge.mail.compose import NAME_LIMIT, SUBJECT_LIMIT, Composer
from pledge.mail.segments import Segment
from pledge.mail.sender import Sender, SmtpTransport
from pledge.mail.templates import Rendered
from pledge.store.schema import mail_outbox
from pledge.store.vault import Vault

HOSTILE_NAMES = [
    "Eve\x00Null",
    "Eve\r\nBcc: victim@example.org",
    "Eve\nX-Injected: 1",
    "E" * 2000,
    "Ève " * 500,
    "\u2028Eve\u0085\x7f",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_name_or_subject_becomes_legal_header_lines(name: str) -> None:
    message = Composer("News <news@example.com>").compose(
        recipient="eve@example.com",
        recipient_name=name,
        rendered=Rendered(name, "Hello", None),
        message_id="<1@example.com>",
        date=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        headers=[],
    )
    head = message.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert len(line) <= 998
        assert line.isascii()
        assert not any(byte < 32 or byte == 127 for byte in line if byte != 9)
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if not line.startswith(b" ")]
    assert names == [
        b"From",
        b"To",
        b"Subject",
        b"Date",
        b"Message-ID",
        b"MIME-Version",
        b"Content-Type",
        b"Content-Transfer-Encoding",
    ]
    assert len(head) < 4 * (NAME_LIMIT + SUBJECT_LIMIT) + 600


def test_a_person_with_a_hostile_name_gets_the_message(
    vault_factory: Callable[..., Vault], gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    for n, name in enumerate(HOSTILE_NAMES[:4]):
        vault.collect(
            "registration",
            {"name": name, "email": f"p{n}@example.com"},
            age=30,
            choices={"marketing.communications.email": True},
        )
    gate = gate_for(vault, "newsletter")
    assert run_campaign(gate, Segment(), "news-1", dry_run=False, chunk_size=50).queued == 4
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    report = Sender(vault, transport, gate.settings, sleep=clock_sleep(clock)).run()
    assert report.sent == 4, report.errors
    assert len(sink.received) == 4


def test_a_message_the_server_refuses_for_good_fails_at_once(
    vault_factory: Callable[..., Vault], gate_for: GateFactory, sink: Sink, clock: Any
) -> None:
    vault = vault_factory("zabbix")
    vault.collect(
        "registration",
        {"name": "Ada", "email": "ada@example.com"},
        age=30,
        choices={"marketing.communications.email": True},
    )
    gate = gate_for(vault, "newsletter", max_attempts=5)
    run_campaign(gate, Segment(), "news-1", dry_run=False, chunk_size=50)
    sink.refuse_data = "554 5.6.0 Message content rejected"
    transport = SmtpTransport(HOST, gate.settings.smtp_port, timeout=5)
    report = Sender(vault, transport, gate.settings, sleep=clock_sleep(clock)).run()
    assert (report.sent, report.failed, report.retried) == (0, 1, 0), report.errors
    with vault.engine.connect() as connection:
        row = connection.execute(select(mail_outbox)).one()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "554 5.6.0 Message content rejected"
