"""Every example policy loads, has the parts a working policy needs, and every grant in it can
be planned (some contradictions only show when a decision is first planned)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pledge.policy import Actor, CompiledPolicy, load_policy
from pledge.policy.consistency import declared_under

EXAMPLES_DIR = Path(__file__).parents[1] / "examples" / "policies"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))
SEED_POLICIES = {"zabbix", "zimbra", "webix", "3cx", "bitrix"}


def test_every_seed_has_an_example_policy() -> None:
    assert {path.stem for path in EXAMPLES} >= SEED_POLICIES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads(path: Path) -> None:
    compiled = load_policy(path)
    assert isinstance(compiled, CompiledPolicy)
    assert compiled.version == compiled.policy.version


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_has_a_role_a_collection_point_and_a_communication(path: Path) -> None:
    policy = load_policy(path).policy
    assert len(policy.roles) >= 1
    assert len(policy.collection_points) >= 1
    assert len(policy.communications) >= 1


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_grant_in_the_example_can_be_planned(path: Path) -> None:
    """A recipient that needs consent for an opt-in purpose passes loading but fails when the
    first decision is planned; every grant here must plan cleanly."""
    # As the policy decides once every recipient waiting for a business transfer has one.
    loaded = load_policy(path)
    compiled = loaded.at(dt.datetime.now(dt.UTC), frozenset(loaded.policy.recipients))
    policy = compiled.policy
    pairs: list[tuple[Actor, str]] = []
    for name, role in policy.roles.items():
        pairs += [(Actor.role(name), p) for g in role.purposes for p in declared_under(policy, g)]
    for name, recipient in policy.recipients.items():
        pairs += [
            (Actor.recipient(name), p)
            for g in recipient.purposes
            for p in declared_under(policy, g)
        ]
    for name, message in policy.communications.items():
        pairs += [(Actor.communication(name), p) for p in declared_under(policy, message.purpose)]
    assert pairs
    for actor, purpose in pairs:
        plan = compiled.plan(actor, purpose)
        assert plan.denied is None, (actor, purpose, plan.denied)
