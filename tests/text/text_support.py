"""The seed texts, found beside the repository (``../shared``) or beside its worktrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from pledge.text.segment import Document, read_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "policies"
SEED_FILES = {
    "zabbix": "000_9be6e0a650e01aa0.txt",
    "zimbra": "001_8e4144cc1a15a5f1.txt",
    "webix": "002_bf919dc2e72f8883.txt",
    "3cx": "003_8ded4f3f91a474df.txt",
    "bitrix": "004_44a47b3a8cba44d2.txt",
}
SEEDS = ["zabbix", "zimbra", "webix", "3cx", "bitrix"]


def seed_path(name: str) -> Path:
    for parent in ROOT.parents:
        path = parent / "shared" / "seeds" / SEED_FILES[name]
        if path.is_file():
            return path
    pytest.skip("the seed texts (../shared/seeds) are not beside the repository")


def seed_document(name: str) -> Document:
    return read_file(seed_path(name))
