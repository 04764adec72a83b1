"""Fixtures of the staff console tests: an SMTP server, the service over the Zabbix example
policy bound to the GDPR, a staff member of the sales role, and people with requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from admin_support import Console, Sink, policy_under
from mail_support import sink

from pledge.store.vault import Vault


@pytest.fixture
def console(vault_factory: Callable[..., Vault], sink: Sink, tmp_path: Path) -> Console:
    return Console.start(vault_factory(policy_under(tmp_path, "gdpr")), sink)
