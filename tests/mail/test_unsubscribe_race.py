"""Twenty one-click unsubscribes with one token, at once, over real HTTP to a running
server, on SQLite and PostgreSQL: one withdrawal in the ledger, twenty successes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from mail_support import collect

from pledge.api import create_app
from pledge.api.config import ApiSettings
from pledge.mail.unsubscribe import LINK, Unsubscribes
from pledge.policy.decision import purpose_choice
from pledge.store.vault import Vault

CLICKS = 20
MARKETING = "marketing.communications.email"


@contextmanager
def serving(vault: Vault, data_dir: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    app = create_app(vault, settings=ApiSettings(data_dir=data_dir))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_twenty_concurrent_clicks_record_one_withdrawal(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    vault = vault_factory("zabbix")
    subject, _ = collect(vault, "registration", 1, choices={MARKETING: True})
    token = Unsubscribes.for_vault(vault).tokens.issue(
        subject, purpose_choice(MARKETING), vault.clock().date()
    )
    barrier = threading.Barrier(CLICKS)

    def click(base: str) -> int:
        with httpx.Client(base_url=base, timeout=30) as client:
            barrier.wait()
            return client.post(
                f"/unsubscribe/{token}",
                content="List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            ).status_code

    with serving(vault, tmp_path) as base, ThreadPoolExecutor(CLICKS) as pool:
        statuses = list(pool.map(click, [base] * CLICKS))

    assert statuses == [200] * CLICKS
    withdrawals = [e for e in vault.consent_history(subject) if e.source == LINK]
    assert [(e.choice, e.granted) for e in withdrawals] == [(f"purpose:{MARKETING}", False)]
