"""Properties the decision function must keep for any question about the example policies.

Deny by default, more grants never mean less, withdrawing a choice never means more, the same
question gets the same answer, and the batch path agrees with one-by-one. Each example is also
tried with four extra recipients, one per condition the examples may not use (consent, legal
reference, aggregate, subject election), so every branch of the decision is exercised.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pledge.errors import InputError
from pledge.policy import (
    Actor,
    Choices,
    CompiledPolicy,
    Policy,
    Request,
    compile_policy,
    decide,
    decide_many,
    load_policy,
)
from pledge.policy.compiled import CHANNEL_CATEGORIES
from pledge.policy.consistency import declared_under, problems
from pledge.policy.model import Basis, Condition, Recipient, RecipientKind
from pledge.policy.taxonomy import ancestors, covers, default_taxonomy

EXAMPLES = sorted((Path(__file__).parents[1] / "examples" / "policies").glob("*.yaml"))
RUNS = settings(max_examples=60, deadline=None)


def with_every_condition(policy: Policy) -> Policy:
    """``policy`` plus one recipient per non-trivial condition, all fed by its first
    collection point, whose fields the person may now choose to show."""
    name, point = next(iter(policy.collection_points.items()))
    fields = {f: s.model_copy(update={"visibility_choice": True}) for f, s in point.fields.items()}
    categories = sorted({s.category for s in fields.values()})
    purpose = next(
        p
        for p in point.purposes
        if all(policy.purposes[d].basis is not Basis.opt_in for d in declared_under(policy, p))
    )

    def recipient(condition: Condition, group: int | None = None) -> Recipient:
        return Recipient(
            kind=RecipientKind.partner,
            purposes=[purpose],
            categories=categories,
            condition=condition,
            min_group_size=group,
        )

    return policy.model_copy(
        update={
            "collection_points": {
                **policy.collection_points,
                name: point.model_copy(update={"fields": fields}),
            },
            "recipients": {
                **policy.recipients,
                "partner": recipient(Condition.consent),
                "authority": recipient(Condition.legal_reference),
                "census": recipient(Condition.aggregate, group=10),
                "directory": recipient(Condition.subject_election),
            },
        }
    )


@cache
def policies() -> list[Policy]:
    loaded = [load_policy(path).policy for path in EXAMPLES]
    return loaded + [with_every_condition(p) for p in loaded]


@cache
def compiled(index: int) -> CompiledPolicy:
    """One long-lived compiled policy per example, so plans and caches build up across runs."""
    return compile_policy(policies()[index])


def collected(policy: Policy) -> list[str]:
    """Collected categories and every category above them (``user.contact`` over its email)."""
    keys = {a for p in policy.collection_points.values() for f in p.fields.values()
            for a in ancestors(f.category)}  # fmt: skip
    return sorted(keys)


def granted_categories(policy: Policy, actor: Actor) -> list[str]:
    if actor.kind == "role":
        return policy.roles[actor.name].categories
    if actor.kind == "recipient":
        return policy.recipients[actor.name].categories
    channel = policy.purposes[policy.communications[actor.name].purpose].channel
    return list(CHANNEL_CATEGORIES[channel]) if channel else []


def granted_purposes(policy: Policy, actor: Actor) -> list[str]:
    if actor.kind == "role":
        return policy.roles[actor.name].purposes
    if actor.kind == "recipient":
        return policy.recipients[actor.name].purposes
    return [policy.communications[actor.name].purpose]


def never_granted(policy: Policy) -> list[str]:
    """Taxonomy categories no role, recipient or message may ever see."""
    actors = actors_of(policy)
    grants = {c for actor in actors for c in granted_categories(policy, actor)}
    return [
        key
        for key in default_taxonomy().keys("data_category")
        if not any(covers(g, key) for g in grants)
    ]


def actors_of(policy: Policy) -> list[Actor]:
    return (
        [Actor.role(n) for n in policy.roles]
        + [Actor.recipient(n) for n in policy.recipients]
        + [Actor.communication(n) for n in policy.communications]
    )


def actor_groups(policy: Policy, kinds: tuple[str, ...]) -> dict[str, list[Actor]]:
    """Actors by kind, and recipients by condition, so that each condition is tried about as
    often as a role, however few recipients have it."""
    groups: dict[str, list[Actor]] = {}
    for actor in actors_of(policy):
        if actor.kind in kinds:
            group = actor.kind
            if actor.kind == "recipient":
                group += f":{policy.recipients[actor.name].condition}"
            groups.setdefault(group, []).append(actor)
    return groups


def choice_keys(policy: Policy) -> list[str]:
    """Every choice a person could make under ``policy``."""
    keys = {f"purpose:{a}" for p in policy.purposes for a in ancestors(p)}
    keys |= {f"recipient:{n}" for n in policy.recipients}
    keys |= {"channel:email", "channel:sms", "channel:phone", "channel:post"}
    keys |= {f"show:{c}" for c in collected(policy)}
    keys |= {f"policy:{policy.version}"}
    return sorted(keys)


def relevant_keys(policy: Policy, request: Request) -> list[str]:
    """The choices that could change the answer to ``request``."""
    keys = {f"purpose:{a}" for a in ancestors(request.purpose)}
    keys |= {f"show:{c}" for c in request.categories}
    keys.add(f"policy:{policy.version}")
    if request.actor.kind == "recipient":
        keys.add(f"recipient:{request.actor.name}")
    channel = policy.purposes[request.purpose].channel
    if channel is not None:
        keys.add(f"channel:{channel}")
    return sorted(keys)


def some_of(pool: list[str], likely: list[str]) -> st.SearchStrategy[str]:
    """Any of ``pool``, with the ``likely`` ones drawn about half the time: random questions
    rarely land where the interesting answers are, near what an actor holds."""
    anything = st.sampled_from(pool)
    return st.sampled_from(likely) | anything if likely else anything


def choice_sets(policy: Policy, request: Request, max_size: int) -> st.SearchStrategy[set[str]]:
    return st.sets(some_of(choice_keys(policy), relevant_keys(policy, request)), max_size=max_size)


@st.composite
def choices_for(draw: st.DrawFn, policy: Policy, request: Request) -> Choices:
    granted = draw(choice_sets(policy, request, max_size=5))
    withdrawn = draw(choice_sets(policy, request, max_size=3)) - granted
    return Choices(frozenset(granted), frozenset(withdrawn), draw(st.booleans()))


@st.composite
def neighbours(draw: st.DrawFn, policy: Policy, request: Request) -> list[Choices]:
    """Subjects whose choices differ in a key or two, the way a real population's do."""
    base = draw(choices_for(policy, request))
    subjects = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        extra = draw(choice_sets(policy, request, max_size=2)) - base.withdrawn
        subjects.append(Choices(base.granted | extra, base.withdrawn, base.stop_all))
    return subjects


@st.composite
def scenarios(
    draw: st.DrawFn, kinds: tuple[str, ...] = ("role", "recipient", "communication")
) -> tuple[int, Request]:
    """An example policy (by index) and a question about it."""
    index = draw(st.sampled_from(range(len(policies()))))
    policy = policies()[index]
    groups = actor_groups(policy, kinds)
    actor = draw(st.sampled_from(groups[draw(st.sampled_from(sorted(groups)))]))
    purposes, categories = sorted(policy.purposes), collected(policy)
    held = [p for p in purposes if any(covers(g, p) for g in granted_purposes(policy, actor))]
    seen = [c for c in categories if any(covers(g, c) for g in granted_categories(policy, actor))]
    request = Request(
        actor=actor,
        purpose=draw(some_of(purposes, held)),
        categories=tuple(draw(st.lists(some_of(categories, seen), min_size=1, max_size=4,
                                       unique=True))),
        collected_under=draw(st.sampled_from([None, policy.version, "0-not-on-record"])),
        points=draw(st.none() | st.frozensets(st.sampled_from(sorted(policy.collection_points)))),
        legal_ref=draw(st.sampled_from([None, " ", "court order 2016/12"])),
        group_size=draw(st.none() | st.integers(min_value=0, max_value=20)),
    )  # fmt: skip
    return index, request._replace(choices=draw(choices_for(policy, request)))


def test_the_variants_are_sound_policies() -> None:
    for policy in policies():
        assert problems(policy) == []


# --- deny by default ---------------------------------------------------------------------------


def test_a_policy_with_no_actors_answers_nobody() -> None:
    for policy in policies():
        actors = actors_of(policy)
        assert actors
        empty = compile_policy(
            policy.model_copy(update={"roles": {}, "recipients": {}, "communications": {}})
        )
        for actor in actors:
            request = Request(actor, next(iter(policy.purposes)), tuple(collected(policy)))
            with pytest.raises(InputError, match="has no"):
                decide(empty, request)


@RUNS
@given(scenarios())
def test_an_actor_without_the_purpose_gets_nothing(scenario: tuple[int, Request]) -> None:
    index, request = scenario
    policy = policies()[index]
    if any(covers(g, request.purpose) for g in granted_purposes(policy, request.actor)):
        return
    decision = decide(compiled(index), request)
    assert not decision.allowed
    assert decision.released == frozenset()


@RUNS
@given(scenarios(), st.data())
def test_only_granted_categories_are_released(
    scenario: tuple[int, Request], data: st.DataObject
) -> None:
    index, request = scenario
    policy = policies()[index]
    outsiders = data.draw(st.lists(st.sampled_from(never_granted(policy)), max_size=3))
    request = request._replace(categories=(*request.categories, *outsiders))
    decision = decide(compiled(index), request)
    grants = granted_categories(policy, request.actor)
    assert all(any(covers(g, c) for g in grants) for c in decision.released)
    assert decision.released.isdisjoint(outsiders)
    assert decision.released <= set(request.categories)
    if decision.allowed:
        assert decision.released == set(request.categories)


# --- monotonicity ------------------------------------------------------------------------------


@RUNS
@given(scenarios(kinds=("role", "recipient")), st.data())
def test_one_more_grant_never_takes_anything_away(
    scenario: tuple[int, Request], data: st.DataObject
) -> None:
    index, request = scenario
    policy = policies()[index]
    actor = request.actor
    section = "roles" if actor.kind == "role" else "recipients"
    part = getattr(policy, section)[actor.name]
    field = data.draw(st.sampled_from(["purposes", "categories"]))
    pool = sorted(policy.purposes) if field == "purposes" else collected(policy)
    extra = data.draw(st.sampled_from(pool))
    wider_part = part.model_copy(update={field: [*getattr(part, field), extra]})
    wider = policy.model_copy(
        update={section: {**getattr(policy, section), actor.name: wider_part}}
    )
    before = decide(compiled(index), request)
    after = decide(compile_policy(wider), request)
    assert before.released <= after.released
    assert after.allowed or not before.allowed


@RUNS
@given(scenarios(), st.data())
def test_withdrawing_a_choice_never_gives_more(
    scenario: tuple[int, Request], data: st.DataObject
) -> None:
    index, request = scenario
    policy = policies()[index]
    key = data.draw(some_of(choice_keys(policy), relevant_keys(policy, request)))
    choices = request.choices
    fewer = Choices(
        choices.granted - {key},
        choices.withdrawn | {key},
        stop_all=choices.stop_all or data.draw(st.booleans()),
    )
    before = decide(compiled(index), request)
    after = decide(compiled(index), request._replace(choices=fewer))
    assert after.released <= before.released
    assert before.allowed or not after.allowed


# --- the same question, the same answer ---------------------------------------------------------


@RUNS
@given(scenarios())
def test_the_answer_does_not_depend_on_what_was_asked_before(
    scenario: tuple[int, Request],
) -> None:
    index, request = scenario
    fresh = compile_policy(policies()[index])
    assert decide(compiled(index), request) == decide(fresh, request)
    assert decide(fresh, request) == decide(fresh, request)


@RUNS
@given(scenarios(), st.data())
def test_decide_many_agrees_with_decide(scenario: tuple[int, Request], data: st.DataObject) -> None:
    index, request = scenario
    policy = policies()[index]
    subjects = data.draw(
        st.lists(choices_for(policy, request), max_size=8) | neighbours(policy, request)
    )
    expected = [decide(compiled(index), request._replace(choices=c)) for c in subjects]
    assert decide_many(compile_policy(policy), request, subjects) == expected
    assert decide_many(compiled(index), request, subjects) == expected


def test_decide_many_respects_each_persons_show_choices() -> None:
    """What a subject-election recipient sees depends on each person's own ``show:`` keys,
    not only on the consent gate the batch path shares between people."""
    for index, policy in enumerate(policies()):
        for name, recipient in policy.recipients.items():
            if recipient.condition is not Condition.subject_election:
                continue
            purpose = next(p for p in sorted(policy.purposes) if covers(recipient.purposes[0], p))
            request = Request(Actor.recipient(name), purpose, tuple(recipient.categories))
            consent = frozenset({f"purpose:{purpose}", f"recipient:{name}"})
            hidden = Choices(consent)
            shown = Choices(consent | {f"show:{c}" for c in recipient.categories})
            subjects = [shown, hidden, shown]
            expected = [decide(compiled(index), request._replace(choices=c)) for c in subjects]
            assert expected[0] != expected[1]
            assert decide_many(compile_policy(policy), request, subjects) == expected


# --- data keeps the limits of the version it was collected under ------------------------------

LATER = "2099-01-01"


@cache
def with_history(index: int, narrowed: tuple[str, ...]) -> CompiledPolicy:
    """A later version of example ``index`` whose history is the example with the roles in
    ``narrowed`` acting for nothing: data collected then was not theirs to use."""
    policy = policies()[index]
    roles = {
        name: role.model_copy(update={"purposes": []}) if name in narrowed else role
        for name, role in policy.roles.items()
    }
    earlier = compile_policy(policy.model_copy(update={"roles": roles}))
    return compile_policy(policy.model_copy(update={"version": LATER}), history=[earlier])


@RUNS
@given(scenarios(kinds=("role",)), st.data())
def test_older_data_gets_no_more_than_either_version_allows_and_says_why(
    scenario: tuple[int, Request], data: st.DataObject
) -> None:
    index, request = scenario
    policy = policies()[index]
    narrowed = (request.actor.name,) if data.draw(st.booleans()) else ()
    later = with_history(index, narrowed)
    now = request._replace(collected_under=None)
    current = decide(later, now)
    older = decide(later, now._replace(collected_under=policy.version))

    assert older.released <= current.released
    if request.actor.name in narrowed:
        assert older.released == frozenset()
    else:
        assert (older.released, older.allowed) == (current.released, current.allowed)


def test_an_allowed_use_refused_for_older_data_says_the_version_and_the_way_out() -> None:
    """Every use a role may make today, of data collected under a version where the role
    acted for nothing: refused for that reason, and allowed once the person agrees."""
    checked = 0
    for index, policy in enumerate(policies()):
        for name in policy.roles:
            later = with_history(index, (name,))
            everything = Choices(frozenset(f"purpose:{p}" for p in policy.purposes))
            for purpose in granted_purposes(policy, Actor.role(name)):
                if purpose not in policy.purposes:
                    continue
                request = Request(Actor.role(name), purpose, tuple(collected(policy)), everything)
                released = decide(later, request).released
                if not released:
                    continue
                request = request._replace(categories=tuple(sorted(released)))
                assert decide(later, request).allowed
                older = decide(later, request._replace(collected_under=policy.version))
                assert older.released == frozenset()
                denial = older.denial
                assert denial is not None
                assert (denial.code, denial.ref) == (
                    "collected_under_earlier_version",
                    "changes.material_change_needs_consent",
                )
                assert denial.message.startswith(
                    f"the data was collected under policy version '{policy.version}', which did "
                    f"not allow this (role '{name}' may not act for '{purpose}'); it follows "
                    f"version '{LATER}' once the person consents to it (choice 'policy:{LATER}')"
                )
                agreed = Choices(everything.granted | {f"policy:{LATER}"})
                assert decide(
                    later, request._replace(collected_under=policy.version, choices=agreed)
                ).allowed
                checked += 1
    assert checked > 20
