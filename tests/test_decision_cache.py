"""The decision caches are keyed by what callers send, so a caller must not be able to grow
them: the order of categories does not matter, and every cache has a ceiling."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.errors import InputError
from pledge.policy import Actor, Request, decide, load_policy
from pledge.policy.bounded import BoundedCache
from pledge.policy.compiled import ORDERINGS_LIMIT

ZABBIX = load_policy(Path(__file__).parents[1] / "examples" / "policies" / "zabbix.yaml")
SUPPORT = Actor.role("support")
PURPOSE = "essential.service.operations.support"
CATEGORIES = (
    "user.name",
    "user.contact.email",
    "user.contact.phone_number",
    "user.contact.address",
    "user.account.username",
    "user.job_title",
    "user.demographic.date_of_birth",
    "user.contact.fax_number",
    "user.financial",
)


def cache_sizes() -> int:
    plan = ZABBIX.plan(SUPPORT, PURPOSE)
    return len(plan._as_asked) + len(plan._categories) + len(plan._decisions) + len(ZABBIX._plans)


def test_memory_stays_flat_after_100k_distinct_orderings() -> None:
    orderings = itertools.islice(itertools.permutations(CATEGORIES), 100_000)
    first = None
    sizes = {}
    for i, categories in enumerate(orderings, start=1):
        decision = decide(ZABBIX, Request(SUPPORT, PURPOSE, categories))
        first = first or decision
        assert decision == first
        if i in (ORDERINGS_LIMIT + 10, 50_000, 100_000):
            sizes[i] = cache_sizes()
    assert sizes[ORDERINGS_LIMIT + 10] == sizes[50_000] == sizes[100_000]
    assert sizes[100_000] <= ORDERINGS_LIMIT + 3
    plan = ZABBIX.plan(SUPPORT, PURPOSE)
    assert len(plan._categories) == 1  # judged once for the one set of categories
    assert len(plan._decisions) == 1


def test_made_up_actors_and_purposes_do_not_grow_the_plans() -> None:
    before = len(ZABBIX._plans)
    for i in range(2_000):
        for actor, purpose in ((Actor.role(f"intruder{i}"), PURPOSE), (SUPPORT, f"made.up.{i}")):
            with pytest.raises(InputError):
                decide(ZABBIX, Request(actor, purpose, ("user.name",)))
    assert len(ZABBIX._plans) == before


@settings(max_examples=50)
@given(st.permutations(CATEGORIES[:6]))
def test_the_order_of_categories_never_changes_the_decision(order: list[str]) -> None:
    assert decide(ZABBIX, Request(SUPPORT, PURPOSE, tuple(order))) == decide(
        ZABBIX, Request(SUPPORT, PURPOSE, tuple(sorted(order)))
    )


def test_a_full_cache_forgets_its_oldest_entry() -> None:
    cache: BoundedCache[int, int] = BoundedCache(3)
    for i in range(5):
        cache.put(i, i * i)
    assert dict(cache) == {2: 4, 3: 9, 4: 16}
