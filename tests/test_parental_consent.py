"""Children: below the consent age where they live, a person is collected from only with a
parent's consent, where the policy allows it at all; the age is set per jurisdiction within
GDPR Art. 8's 13 to 16 (a jurisdiction the policy does not list gets its default), and a
person whose jurisdiction is not stated gets the most protective one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pledge.errors import CollectionError, PolicyError
from pledge.policy import load_policy_text
from pledge.store.vault import Vault
from tests.policy_changes.derive import derived

FORM = {"name": "Young Reader", "email": "young@example.com"}


def with_children(**rules: Any) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        d["children"] = rules

    return edit


def policy_file(tmp_path: Path, **rules: Any) -> Path:
    path = tmp_path / "bitrix-children.yaml"
    path.write_text(derived("bitrix", with_children(**rules), version="2026-12-01"))
    return path


def test_a_child_needs_a_parents_consent_at_the_age_of_their_jurisdiction(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    vault = vault_factory(policy_file(tmp_path, consent_age=13, jurisdictions={"DE": 16, "FR": 15}))
    point = "product_registration"
    with pytest.raises(CollectionError, match="under 13 in US are collected from only with a"):
        vault.collect(point, FORM, age=12, jurisdiction="US")
    assert vault.collect(point, FORM, age=12, jurisdiction="US", parental_consent=True).created
    assert vault.collect(point, {**FORM, "email": "teen@example.com"}, age=14, jurisdiction="US")
    with pytest.raises(CollectionError, match="under 16 in DE"):
        vault.collect(point, {**FORM, "email": "de@example.com"}, age=15, jurisdiction="DE")
    with pytest.raises(CollectionError, match="under 15 in FR"):
        vault.collect(point, {**FORM, "email": "fr@example.com"}, age=14, jurisdiction="FR")
    # Nowhere stated: the highest age any jurisdiction sets.
    with pytest.raises(CollectionError, match="people under 16 are collected"):
        vault.collect(point, {**FORM, "email": "where@example.com"}, age=15)
    entries = vault.audit_entries_for(vault.find("email", "young@example.com") or "")
    assert [e["detail"].get("parental_consent") for e in entries if e["action"] == "collect"] == [
        True
    ]


def test_a_policy_that_allows_no_parental_consent_refuses_children(
    vault_factory: Callable[..., Vault], tmp_path: Path
) -> None:
    vault = vault_factory(policy_file(tmp_path, parental_consent=False, consent_age=13))
    with pytest.raises(CollectionError, match="people under 13 are not collected from"):
        vault.collect("product_registration", FORM, age=12, parental_consent=True)


@pytest.mark.parametrize("rules", [{"consent_age": 12}, {"jurisdictions": {"DE": 17}}])
def test_a_consent_age_outside_13_to_16_is_refused(rules: dict[str, Any]) -> None:
    with pytest.raises(PolicyError, match="children"):
        load_policy_text(derived("bitrix", with_children(**rules)))
