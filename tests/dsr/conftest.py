"""Fixtures of the request tests: a policy bound to the GDPR, people, mail settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dsr_support import policy_under
from mail_support import sink

from pledge.mail.settings import MailSettings
from pledge.store.vault import Vault


@pytest.fixture
def gdpr_policy(tmp_path: Path) -> Path:
    return policy_under(tmp_path, "gdpr")


@pytest.fixture
def person() -> Callable[[Vault, int], str]:
    """``person(vault, n)``: a registered subject whose address is personN@example.com."""

    def make(vault: Vault, n: int) -> str:
        return vault.collect(
            "registration",
            {"name": f"Person {n}", "email": f"person{n}@example.com"},
            age=30,
        ).subject

    return make


@pytest.fixture
def request_mail() -> MailSettings:
    return MailSettings(
        from_address="Zabbix privacy <privacy@zabbix.com>", requests_communication="order_update"
    )
