"""Notice windows: a new use of data collected under an earlier version waits for the notice
period and then reaches only the people who did not opt out; a limit a person set holds across
every later version until they consent expressly. Decided in the pure core (with the moment as
an input) and seen through the store's read path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pledge.policy import (
    Actor,
    Choices,
    CompiledPolicy,
    Request,
    compile_policy,
    decide,
    load_policy_text,
)
from pledge.policy.windows import Windows, window_ends
from pledge.store.release import Released
from pledge.store.vault import Vault
from tests.conftest import FakeClock
from tests.policy_changes.derive import derived, raw, text_of

MARKETING = "marketing.communications.email"
SUPPORT = "essential.service.operations.support"
EMAIL = ("user.contact.email",)
START = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def opt_out_basis(d: dict[str, Any]) -> None:
    d["purposes"][MARKETING]["basis"] = "opt_out"


def new_recipient(d: dict[str, Any]) -> None:
    d["recipients"]["data_broker"] = {
        "kind": "partner",
        "purposes": [SUPPORT],
        "categories": ["user.contact.email"],
    }


def wider_successor(d: dict[str, Any]) -> None:
    d["recipients"]["successor"]["purposes"].append(SUPPORT)


def versions(*edits: Callable[[dict[str, Any]], None]) -> list[CompiledPolicy]:
    """Bitrix, then one version per edit, each edit on top of the ones before."""
    data = raw("bitrix")
    found = [load_policy_text(text_of(data))]
    for n, edit in enumerate(edits, start=1):
        edit(data)
        data["version"] = f"v{n + 1}"
        found.append(load_policy_text(text_of(data)))
    return found


def in_force(compiled: list[CompiledPolicy], now: dt.datetime) -> CompiledPolicy:
    """The last version, published a day after the one before it, as it decides at ``now``."""
    published = [(c.policy, START + dt.timedelta(days=i)) for i, c in enumerate(compiled)]
    windows = Windows(tuple(c.version for c in compiled), window_ends(published))
    return compile_policy(compiled[-1].policy, compiled[:-1], windows).at(now)


def test_a_limit_set_at_collection_holds_across_three_successive_versions() -> None:
    chain = versions(opt_out_basis, new_recipient, wider_successor)
    first = chain[0].version
    request = Request(
        Actor.role("marketing"), MARKETING, EMAIL, collected_under=first,
        points=frozenset({"purchase"}),
    )  # fmt: skip
    silent = Choices()  # left the opt-in box unticked at collection
    refused = Choices.of(withdrawn=[f"purpose:{MARKETING}"])
    opted_in = Choices.of(granted=[f"purpose:{MARKETING}"])
    long_after = START + dt.timedelta(days=400)  # every notice period is over
    for upto in (2, 3, 4):
        policy = in_force(chain[:upto], long_after)
        decision = decide(policy, request._replace(choices=silent))
        assert not decision.allowed
        assert decision.denial is not None
        assert decision.denial.code == "limit_set_by_person"
        assert f"choice 'policy:{policy.version}'" in decision.denial.message
        assert not decide(policy, request._replace(choices=refused)).allowed
        assert decide(policy, request._replace(choices=opted_in)).allowed
        # Express consent to the version in force lifts the person's own limit.
        agreed = Choices.of(granted=[f"policy:{policy.version}"])
        assert decide(policy, request._replace(choices=agreed)).allowed
        # Data given under the version in force follows it: opt-out basis, nothing withdrawn.
        assert decide(policy, request._replace(collected_under=None)).allowed


def test_a_new_use_waits_for_the_window_and_skips_who_opted_out_in_the_core() -> None:
    chain = versions(new_recipient)
    request = Request(
        Actor.recipient("data_broker"), SUPPORT, EMAIL, collected_under=chain[0].version,
        points=frozenset({"product_registration"}),
    )  # fmt: skip
    opted_out = Choices.of(withdrawn=["policy:v2"])
    during = in_force(chain, START + dt.timedelta(days=30))  # published on day 1: 30 days
    waiting = decide(during, request)
    assert waiting.denial is not None
    assert waiting.denial.code == "collected_under_earlier_version"
    assert "notice period of version 'v2' ends (2024-06-01 00:00 UTC)" in waiting.denial.message
    after = in_force(chain, START + dt.timedelta(days=31))
    assert decide(after, request).allowed
    gone = decide(after, request._replace(choices=opted_out))
    assert gone.denial is not None
    assert gone.denial.code == "opted_out_of_change"
    # A version that asks for consent never carries older data forward by its window.
    strict = versions(
        lambda d: (new_recipient(d), d["changes"].update(material_change_needs_consent=True))
    )
    assert not decide(in_force(strict, START + dt.timedelta(days=400)), request).allowed


def test_a_version_that_shortens_the_notice_still_waits_the_longer_period() -> None:
    chain = versions(new_recipient, lambda d: d["changes"].update(notice_days=5))
    published = [(c.policy, START + dt.timedelta(days=i)) for i, c in enumerate(chain)]
    ends = window_ends(published)
    assert ends["v3"] == START + dt.timedelta(days=2 + 30)


def released_to(vault: Vault, subjects: list[str], actor: Actor, purpose: str) -> dict[str, str]:
    """Per subject: 'released', or the code of the reason its email was withheld."""
    out: dict[str, str] = {}
    for subject, outcome in zip(
        subjects, vault.release(subjects, actor, purpose, EMAIL).outcomes, strict=True
    ):
        assert isinstance(outcome, Released)
        out[subject] = "released" if outcome.items else next(iter(outcome.withheld.values())).code
    return out


@pytest.mark.parametrize(
    ("edit", "recipient"),
    [(new_recipient, "data_broker"), (wider_successor, "successor")],
    ids=["new-recipient", "successor-widened"],
)
def test_a_use_that_needs_the_window_waits_until_it_ends_and_skips_who_opted_out(
    vault_factory: Callable[..., Vault],
    clock: FakeClock,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    recipient: str,
) -> None:
    first = vault_factory("bitrix")
    if recipient == "successor":  # it receives nothing before the business passes to it
        first.record_business_transfer("successor", reference="Asset purchase, 2026-11")
    early = [
        first.collect("product_registration", {"name": f"P {i}", "email": f"p{i}@example.com"})
        for i in range(2)
    ]
    stayed, refused = early[0].subject, early[1].subject
    clock.advance(days=1)
    path = tmp_path / "next.yaml"
    path.write_text(derived("bitrix", edit, version="2026-12-01"))
    vault = vault_factory(path)
    later = vault.collect("product_registration", {"name": "New", "email": "new@example.com"})
    people = [stayed, refused, later.subject]
    actor = Actor.recipient(recipient)

    assert released_to(vault, people, actor, SUPPORT) == {
        stayed: "collected_under_earlier_version",
        refused: "collected_under_earlier_version",
        later.subject: "released",
    }
    assert vault.opt_out_of_change(refused, "2026-12-01").recorded
    assert not vault.opt_out_of_change(refused, "2026-12-01").recorded  # once
    clock.advance(days=29, hours=23)
    assert released_to(vault, people, actor, SUPPORT)[stayed] == "collected_under_earlier_version"
    clock.advance(hours=2)
    assert released_to(vault, people, actor, SUPPORT) == {
        stayed: "released",
        refused: "opted_out_of_change",
        later.subject: "released",
    }
