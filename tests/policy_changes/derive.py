"""Derive new policy versions from the example files by editing their YAML as data, so every
test states exactly the one change it makes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from pledge.policy import Policy, load_policy_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
SEEDS = ("zabbix", "zimbra", "webix", "3cx", "bitrix")


def raw(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return data


def text_of(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def policy_of(data: dict[str, Any]) -> Policy:
    return load_policy_text(text_of(data)).policy


def derived(name: str, edit: Callable[[dict[str, Any]], None], version: str = "next") -> str:
    """The text of ``name``'s example policy with ``edit`` applied and a new version."""
    data = copy.deepcopy(raw(name))
    edit(data)
    data["version"] = version
    return text_of(data)
