"""Roles limited to aggregates: staff in such a role never see one person's data, only
figures about groups of at least the role's minimum size, with the obligation to keep them so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pledge.errors import DeniedError, InputError
from pledge.policy import Actor, Request, decide, load_policy_text
from pledge.store.vault import Vault
from tests.policy_changes.derive import derived

ANALYTICS = "analytics.reporting"
BROWSING = ("user.behavior.browsing_history",)


def counts_only(d: dict[str, Any]) -> None:
    d["roles"]["web_analyst"]["min_group_size"] = 20


def test_a_role_limited_to_aggregates_sees_groups_only() -> None:
    policy = load_policy_text(derived("bitrix", counts_only))
    analyst = Actor.role("web_analyst")
    one = decide(policy, Request(analyst, ANALYTICS, BROWSING))
    assert not one.allowed
    assert one.denial is not None
    assert one.denial.code == "group_too_small"
    assert one.denial.ref == "roles.web_analyst.min_group_size"
    assert "role 'web_analyst' receives aggregates of at least 20 people only" in one.denial.message
    small = decide(policy, Request(analyst, ANALYTICS, BROWSING, group_size=19))
    assert not small.allowed
    group = decide(policy, Request(analyst, ANALYTICS, BROWSING, group_size=20))
    assert group.allowed
    assert [o.code for o in group.obligations] == ["aggregate_only"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_such_a_role_cannot_read_a_person(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    path = tmp_path / "bitrix-counts.yaml"
    path.write_text(derived("bitrix", counts_only, version="2026-12-01"))
    vault = vault_factory(path)
    visit = vault.collect("web_log", {"requested_url": "/pricing", "browser": "Firefox 120"})
    with pytest.raises(DeniedError, match="aggregates of at least 20"):
        vault.read(visit.subject, ANALYTICS, "web_analyst")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_such_a_role_gets_counts_of_groups_large_enough(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    path = tmp_path / "bitrix-counts.yaml"
    path.write_text(derived("bitrix", counts_only, version="2026-12-01"))
    vault = vault_factory(path)
    for n in range(19):
        vault.collect("web_log", {"requested_url": f"/page/{n}", "browser": "Firefox 120"})
    with pytest.raises(
        DeniedError, match="counts of at least 20 people only; this segment gives 19"
    ):
        vault.role_aggregate("web_analyst", ANALYTICS, list(BROWSING), "point:web_log")
    vault.collect("web_log", {"requested_url": "/last", "browser": "Firefox 120"})
    counted = vault.role_aggregate("web_analyst", ANALYTICS, list(BROWSING), "point:web_log")
    assert counted.counts == {BROWSING[0]: 20}
    with pytest.raises(InputError, match="not a role limited to aggregates"):
        vault.role_aggregate("sales", ANALYTICS, list(BROWSING), "point:web_log")
