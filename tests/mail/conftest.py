"""Fixtures of the email tests: a running SMTP sink, mail settings pointing at it, a
template, and a gate factory wired to all three (helpers live in ``mail_support``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mail_support import (
    HOST,
    UNSUBSCRIBE_URL,
    GateFactory,
    Sink,
    settings_for,
    sink,
    tokens_for,
    write_template,
)

from pledge.mail.gate import Gate
from pledge.mail.settings import MailSettings
from pledge.mail.templates import TemplateSet
from pledge.store.vault import Vault


@pytest.fixture
def mail_settings(sink: Sink) -> MailSettings:
    return MailSettings(
        smtp_host=HOST,
        smtp_port=sink.port,
        smtp_timeout=5,
        from_address="News <news@{domain}>",
        unsubscribe_url=UNSUBSCRIBE_URL,
        backoff_seconds=1,
        backoff_max_seconds=4,
        batch_size=10,
        lease_seconds=30,
        connections=1,
    )


@pytest.fixture
def template(tmp_path: Path) -> TemplateSet:
    return write_template(
        tmp_path / "news",
        "News from {{ organisation }}",
        "Hello {{ name or 'there' }},\n\nHere is what is new.\n",
        "<html><body><p>Hello {{ name or 'there' }},</p><p>Here is what is new.</p></body></html>",
    )


@pytest.fixture
def gate_for(mail_settings: MailSettings, template: TemplateSet) -> GateFactory:
    """``gate_for(vault, "newsletter")``: a gate with the test's sink and template."""

    def make(
        vault: Vault,
        communication: str,
        template_set: TemplateSet | None = None,
        **changes: Any,
    ) -> Gate:
        settings = settings_for(vault, mail_settings, **changes)
        return Gate(vault, communication, template_set or template, settings, tokens_for(vault))

    return make
