"""Aggregates single no one out: distinct people, a segment instead of chosen ids, the minimum
group size on the distinct count, and noise paid from a privacy budget that runs out."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pledge.errors import BudgetSpent, DeniedError, InputError
from pledge.store.aggregates import _noisy
from pledge.store.schema import privacy_spend
from pledge.store.vault import Vault

EXAMPLE_POLICIES = Path(__file__).resolve().parent.parent / "examples" / "policies"
RECIPIENT, PURPOSE = "statistics_recipients", "analytics.reporting"
CATEGORIES = ["user.device.browser"]


def visit(vault: Vault, n: int, subject: str | None = None) -> str:
    return vault.collect(
        "web_log",
        {"ip_address": f"203.0.113.{n % 250}", "browser": "Firefox", "region": "CA"},
        subject=subject,
    ).subject


def noisy_policy(tmp_path: Path, budget: float) -> Path:
    text = (EXAMPLE_POLICIES / "3cx.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    condition: aggregate\n    min_group_size: 10\n",
        f"    condition: aggregate\n    min_group_size: 10\n"
        f"    noise_epsilon: 1.0\n    privacy_budget: {budget}\n",
    )
    path = tmp_path / "3cx-noisy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_person_counted_many_times_is_one(vault_factory: Callable[..., Vault]) -> None:
    vault = vault_factory("3cx")
    people = [visit(vault, n) for n in range(9)]
    for n in range(12):  # the same person's data, again and again
        visit(vault, n, subject=people[0])
    with pytest.raises(DeniedError, match=r"at least 10 people only; this segment gives 9$"):
        vault.aggregate(RECIPIENT, PURPOSE, CATEGORIES, "point:web_log")
    people.append(visit(vault, 99))
    counted = vault.aggregate(RECIPIENT, PURPOSE, CATEGORIES, "point:web_log")
    assert counted.counts == {"user.device.browser": 10}


def test_the_recipient_cannot_pick_whom_to_count(vault_factory: Callable[..., Vault]) -> None:
    """The differencing attack of old: count ids A..J, then A..J plus the target."""
    vault = vault_factory("3cx")
    group = [visit(vault, n) for n in range(11)]
    with pytest.raises(DeniedError, match="never chosen people"):
        vault.disclose(group, RECIPIENT, PURPOSE, CATEGORIES)
    with pytest.raises(InputError, match="unknown segment"):
        vault.aggregate(RECIPIENT, PURPOSE, CATEGORIES, ",".join(group))


def test_overlapping_windows_differing_by_one_person_cost_budget_until_it_runs_out(
    vault_factory: Callable[..., Vault], tmp_path: Path, clock: Any
) -> None:
    vault = vault_factory(noisy_policy(tmp_path, budget=2.0))
    for n in range(12):
        visit(vault, n)
    clock.set(dt.datetime(2024, 6, 3, tzinfo=dt.UTC))
    visit(vault, 50)  # the one person the second window adds
    may = vault.aggregate(RECIPIENT, PURPOSE, CATEGORIES, since="2024-05", until="2024-05")
    both = vault.aggregate(RECIPIENT, PURPOSE, CATEGORIES, since="2024-05", until="2024-06")
    assert (may.epsilon, may.budget_left) == (1.0, 1.0)
    assert (both.epsilon, both.budget_left) == (1.0, 0.0)
    with pytest.raises(BudgetSpent, match="spent 2 of its privacy budget of 2"):
        vault.aggregate(RECIPIENT, PURPOSE, CATEGORIES, "point:web_log")
    with vault.engine.connect() as connection:
        spent = connection.execute(select(func.sum(privacy_spend.c.epsilon))).scalar()
    assert spent == 2.0  # the refusal spent nothing


def test_noise_hides_a_difference_of_one() -> None:
    """Calibrated for epsilon 1 and one count (scale 1), the noise is discrete Laplace: zero
    with probability tanh(1/2), about 0.46, so one answer alone rarely tells the count, and the
    difference of two answers rarely the difference of the groups. The share of exact answers
    in 2,000 draws must sit within five standard errors of that (a false alarm about once in
    three million runs), and the answers spread over many values."""
    n = 2000
    draws = [_noisy({"c": 50}, 1.0)["c"] for _ in range(n)]
    exact = math.tanh(0.5)
    margin = 5 * math.sqrt(exact * (1 - exact) / n)
    assert abs(sum(d == 50 for d in draws) / n - exact) < margin
    assert min(draws) >= 0
    assert len(set(draws)) > 5
