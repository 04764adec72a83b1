"""The policy's minimum age holds wherever an age is stated, not only at the points that
repeat ``min_age``: the ``age`` given with a submission, an age field, a date of birth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from pledge.errors import CollectionError
from pledge.policy import load_policy_text
from pledge.store.collect import minimum_age
from pledge.store.schema import subjects
from pledge.store.vault import Vault

EXAMPLE_POLICIES = Path(__file__).parents[1] / "examples" / "policies"
START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)  # the fixtures' clock starts here
WEB_LOG = {
    "description": "Visits to the website, with what the visitor says about themselves",
    "purposes": ["essential.service.operations.support"],
    "fields": {
        "page": {"category": "user.behavior.browsing_history", "required": True},
        "age": {"category": "user.demographic.age_range"},
        "born": {"category": "user.demographic.date_of_birth"},
    },
}


def policy_text(policy_min_age: int | None = None) -> str:
    """zabbix (min_age 13 at every point it names) plus a web-log point without one."""
    data = yaml.safe_load((EXAMPLE_POLICIES / "zabbix.yaml").read_text(encoding="utf-8"))
    data["collection_points"]["web_log"] = WEB_LOG
    if policy_min_age is not None:
        data["min_age"] = policy_min_age
    return yaml.safe_dump(data, sort_keys=False)


@pytest.fixture
def web_log_vault(tmp_path: Path, vault_factory: Callable[..., Vault]) -> Vault:
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text(), encoding="utf-8")
    return vault_factory(path)


def born(years_ago: int) -> str:
    return START.date().replace(year=START.year - years_ago).isoformat()


@pytest.mark.parametrize(
    ("fields", "age", "where"),
    [
        pytest.param({"page": "/"}, 12, "age", id="age given"),
        pytest.param({"page": "/", "age": "12"}, None, "age", id="age field"),
        pytest.param({"page": "/", "born": born(12)}, None, "born", id="date of birth"),
        pytest.param({"page": "/", "born": born(40)}, 12, "age", id="adult birth, child age"),
    ],
)
def test_a_child_is_refused_at_a_point_without_its_own_minimum(
    web_log_vault: Vault, fields: dict[str, str], age: int | None, where: str
) -> None:
    with pytest.raises(CollectionError, match="under 13") as refused:
        web_log_vault.collect("web_log", fields, age=age)
    assert refused.value.fields["field"] == where
    with web_log_vault.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(subjects)).scalar() == 0


def test_an_adult_or_no_stated_age_is_collected(web_log_vault: Vault) -> None:
    web_log_vault.collect("web_log", {"page": "/"})
    web_log_vault.collect("web_log", {"page": "/", "age": "30", "born": born(30)}, age=30)


def test_a_birthday_tomorrow_is_not_yet_thirteen(web_log_vault: Vault) -> None:
    tomorrow = START.date().replace(year=START.year - 13) + dt.timedelta(days=1)
    with pytest.raises(CollectionError, match="under 13"):
        web_log_vault.collect("web_log", {"page": "/", "born": tomorrow.isoformat()})


BASE = load_policy_text(policy_text()).policy


@settings(max_examples=60)
@given(
    policy_min=st.one_of(st.none(), st.integers(0, 130)),
    point_min=st.one_of(st.none(), st.integers(0, 130)),
)
def test_the_minimum_is_the_higher_of_point_and_policy(
    policy_min: int | None, point_min: int | None
) -> None:
    points = {
        name: point.model_copy(update={"min_age": point_min if name == "order" else None})
        for name, point in BASE.collection_points.items()
    }
    policy = BASE.model_copy(update={"collection_points": points, "min_age": policy_min})
    floor = policy_min if policy_min is not None else point_min
    for name, own in (("order", point_min), ("web_log", None)):
        expected = [a for a in (own, floor) if a is not None]
        assert minimum_age(policy, name) == (max(expected) if expected else None)
