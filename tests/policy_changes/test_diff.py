"""The semantic diff: each kind of material change is found and classed material, stricter
edits and rewording are listed but not material, and reformatting is no change at all."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.policy import load_policy_text
from pledge.policy.diff import diff_policies
from tests.policy_changes.derive import SEEDS, derived, policy_of, raw


def with_retention(d: dict[str, Any]) -> None:
    d["retention"] = [{"categories": ["user.behavior"], "days": 30, "reason": "usage figures"}]


def changes(name: str, edit: Any, base: Any = None) -> list[tuple[str, bool, str | None]]:
    """(kind, material, path) of each change ``edit`` makes to ``name`` (after ``base``)."""
    start = raw(name)
    if base is not None:
        base(start)
    old = policy_of(start)

    def both(d: dict[str, Any]) -> None:
        if base is not None:
            base(d)
        edit(d)

    new = load_policy_text(derived(name, both)).policy
    return [(c.kind, c.material, c.new_path or c.old_path) for c in diff_policies(old, new).changes]


def first_purpose(data: dict[str, Any], basis: str) -> str:
    return next(k for k, p in data["purposes"].items() if p["basis"] == basis)


def add_point_purpose(d: dict[str, Any]) -> None:
    d["collection_points"]["provider_services"]["purposes"].append("marketing.communications.email")


def add_recipient(d: dict[str, Any]) -> None:
    d["recipients"]["data_broker"] = {
        "kind": "partner",
        "purposes": ["essential.service"],
        "categories": ["user.contact.email"],
    }


def weaken_basis(d: dict[str, Any]) -> None:
    d["purposes"]["marketing.communications.email"]["basis"] = "opt_out"


def weaken_condition(d: dict[str, Any]) -> None:
    d["recipients"]["partners"]["condition"] = "none"


def longer_retention(d: dict[str, Any]) -> None:
    d["retention"][0]["days"] = 365


def longer_legal_hold(d: dict[str, Any]) -> None:
    d["legal_holds"][0]["days"] = d["legal_holds"][0]["days"] * 2


def new_field_at_point(d: dict[str, Any]) -> None:
    d["collection_points"]["provider_services"]["fields"]["birthday"] = {
        "category": "user.demographic.date_of_birth"
    }


def remove_choice(d: dict[str, Any]) -> None:
    d["collection_points"]["personal_account"]["choices"] = []


def remove_right(d: dict[str, Any]) -> None:
    d["rights"]["offered"].remove("rectify")


def shorter_notice(d: dict[str, Any]) -> None:
    d["changes"]["notice_days"] = 0


@pytest.mark.parametrize(
    ("edit", "kind", "path"),
    [
        (add_point_purpose, "point_purpose_added", "collection_points.provider_services.purposes"),
        (add_recipient, "recipient_added", "recipients.data_broker"),
        (weaken_basis, "basis_weakened", "purposes.marketing.communications.email.basis"),
        (weaken_condition, "condition_weakened", "recipients.partners.condition"),
        (longer_legal_hold, "legal_holds_longer", "legal_holds[0]"),
        (
            new_field_at_point,
            "point_field_added",
            "collection_points.provider_services.fields.birthday",
        ),
        (remove_choice, "choice_removed", "collection_points.personal_account.choices"),
        (remove_right, "right_removed", "rights.offered"),
        (shorter_notice, "notice_period_shorter", "changes.notice_days"),
    ],
)
def test_each_kind_of_material_change_is_material(edit: Any, kind: str, path: str) -> None:
    found = changes("bitrix", edit)
    assert (kind, True, path) in found
    assert all(material for _, material, _ in found), found  # nothing else was touched


def test_longer_retention_is_material_and_a_new_limit_is_not() -> None:
    assert changes("bitrix", longer_retention, base=with_retention) == [
        ("retention_longer", True, "retention[0]")
    ]
    assert changes("bitrix", with_retention) == [("retention_shorter", False, "retention[0]")]


def test_stricter_edits_and_rewording_are_listed_but_not_material() -> None:
    def stricter(d: dict[str, Any]) -> None:
        d["purposes"]["marketing.communications.email"]["description"] = "Reworded for clarity."
        d["changes"]["notice_days"] = 60
        d["collection_points"]["purchase"]["purposes"].remove("third_party_sharing.partner_offers")
        d["legal_holds"][0]["days"] = 30

    found = changes("bitrix", stricter)
    assert {k for k, _, _ in found} >= {
        "wording_changed",
        "notice_period_longer",
        "point_purpose_removed",
        "legal_holds_shorter",
    }
    assert not any(material for _, material, _ in found)


def test_basis_made_stricter_is_not_material() -> None:
    def stricter(d: dict[str, Any]) -> None:
        d["purposes"][first_purpose(d, "opt_out")]["basis"] = "opt_in"

    assert [(k, m) for k, m, _ in changes("zabbix", stricter)] == [("basis_strengthened", False)]


def test_a_policy_compared_with_itself_has_no_changes() -> None:
    for name in SEEDS:
        policy = policy_of(raw(name))
        assert diff_policies(policy, policy).changes == ()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(SEEDS))
def test_reordering_lists_and_maps_is_no_change(seed: int, name: str) -> None:
    data = raw(name)
    shuffled = copy.deepcopy(data)
    rng = random.Random(seed)

    def shuffle(node: Any) -> Any:
        if isinstance(node, dict):
            items = list(node.items())
            rng.shuffle(items)
            return {k: shuffle(v) for k, v in items}
        if isinstance(node, list) and all(isinstance(x, str) for x in node):
            node = list(node)
            rng.shuffle(node)
        return node

    for section in ("purposes", "collection_points", "roles", "recipients"):
        shuffled[section] = shuffle(shuffled.get(section, {}))
    assert diff_policies(policy_of(data), policy_of(shuffled)).changes == ()


def test_the_two_versions_are_named_and_json_is_plain(tmp_path: Any) -> None:
    old = policy_of(raw("bitrix"))
    new = load_policy_text(derived("bitrix", add_recipient, version="2026-12-01")).policy
    result = diff_policies(old, new).as_dict()
    assert result["old_version"] == "2004-03-30"
    assert result["new_version"] == "2026-12-01"
    assert result["material"] is True
    assert json.loads(json.dumps(result)) == result
    assert yaml.safe_dump(result)  # plain data all the way down


def test_every_kind_of_change_is_documented_and_nothing_else() -> None:
    from pathlib import Path

    from pledge.policy.diff import KINDS

    doc = (Path(__file__).parents[2] / "docs" / "policy-changes.md").read_text()
    documented = {line.split("`")[1] for line in doc.splitlines() if line.startswith("| `")}
    assert documented == set(KINDS)


def with_noise(data: dict[str, Any]) -> None:
    data["recipients"]["statistics_recipients"] |= {"noise_epsilon": 0.5, "privacy_budget": 5}


def with_double_opt_in(data: dict[str, Any]) -> None:
    data["purposes"]["marketing.communications.email"]["double_opt_in"] = True


def test_dropping_noise_or_double_opt_in_is_material_and_adding_them_is_not() -> None:
    noise = "recipients.statistics_recipients.noise_epsilon"
    assert changes("3cx", with_noise) == [("privacy_noise_strengthened", False, noise)]

    def bigger_budget(data: dict[str, Any]) -> None:
        data["recipients"]["statistics_recipients"]["privacy_budget"] = 50

    assert changes("3cx", bigger_budget, base=with_noise) == [
        ("privacy_noise_weakened", True, noise)
    ]
    confirm = "purposes.marketing.communications.email.double_opt_in"
    assert changes("3cx", with_double_opt_in) == [("double_opt_in_added", False, confirm)]

    def dropped(data: dict[str, Any]) -> None:
        data["purposes"]["marketing.communications.email"]["double_opt_in"] = False

    assert changes("3cx", dropped, base=with_double_opt_in) == [
        ("double_opt_in_dropped", True, confirm)
    ]


def _set(*keys: str, value: Any) -> Any:
    """An edit setting ``d[k1][k2]...`` to ``value``."""

    def edit(d: dict[str, Any]) -> None:
        for key in keys[:-1]:
            d = d[key]
        d[keys[-1]] = value

    return edit


PHONE = ("collection_points", "purchase", "fields", "phone", "purposes")
PAYMENT = "essential.service.payment_processing"


@pytest.mark.parametrize(
    ("base", "edit", "kind", "material", "path"),
    [
        (_set(*PHONE, value=[PAYMENT]), _set(*PHONE, value=[PAYMENT, "essential.service"]),
         "field_purpose_added", True, "collection_points.purchase.fields.phone.purposes"),
        (None, _set(*PHONE, value=[PAYMENT]), "field_purpose_removed", False,
         "collection_points.purchase.fields.phone.purposes"),
        (None, _set("communications", "service_alert", "frequency", value=None),
         "frequency_raised", True, "communications.service_alert.frequency"),
        (None, _set("communications", "service_alert", "frequency", value={"max": 1, "days": 30}),
         "frequency_lowered", False, "communications.service_alert.frequency"),
        (None, _set("recipients", "successor", "kind", value="partner"), "event_wait_dropped",
         True, "recipients.successor.after_event"),
        (_set("roles", "web_analyst", "min_group_size", value=20),
         _set("roles", "web_analyst", "min_group_size", value=None), "role_aggregates_dropped",
         True, "roles.web_analyst.min_group_size"),
        (_set("roles", "web_analyst", "min_group_size", value=20),
         _set("roles", "web_analyst", "min_group_size", value=10), "group_size_lowered",
         True, "roles.web_analyst.min_group_size"),
        (_set("children", value={"consent_age": 16}), _set("children", value=None),
         "children_rules_removed", True, "children"),
        (_set("children", value={"consent_age": 16}),
         _set("children", value={"consent_age": 16, "jurisdictions": {"FR": 15}}),
         "consent_age_lowered", True, "children.jurisdictions.FR"),
        (_set("children", value={"parental_consent": False}), _set("children", value={}),
         "parental_consent_allowed", True, "children.parental_consent"),
        (None, _set("children", value={}), "children_rules_added", False, "children"),
    ],
)  # fmt: skip
def test_the_models_newer_words_are_diffed(
    base: Any, edit: Any, kind: str, material: bool, path: str
) -> None:
    found = changes("bitrix", edit, base=base)
    assert (kind, material, path) in found
