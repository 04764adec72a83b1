"""Helpers of the request tests: the Zabbix example policy bound to a law, and the outbox."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from pledge.store.schema import mail_outbox
from pledge.store.vault import Vault

ROOT = Path(__file__).resolve().parents[2]


def policy_under(tmp_path: Path, law: str | None, days: int = 30) -> Path:
    """examples/policies/zabbix.yaml answering within ``days``, under ``law``."""
    text = (ROOT / "examples" / "policies" / "zabbix.yaml").read_text(encoding="utf-8")
    rights = f"response_days: {days}" + (f"\n  law: {law}" if law else "")
    path = tmp_path / f"zabbix-{law or 'none'}.yaml"
    path.write_text(text.replace("response_days: 10", rights), encoding="utf-8")
    return path


def outbox_campaigns(vault: Vault, subject: str) -> list[str]:
    """The campaign ids of the messages queued for ``subject`` (what they were sent for)."""
    with vault.snapshot() as connection:
        return sorted(
            connection.execute(
                select(mail_outbox.c.campaign_id).where(mail_outbox.c.subject_id == subject)
            ).scalars()
        )
