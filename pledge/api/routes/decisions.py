"""Ask the policy without touching data: may this actor use these categories for this
purpose, given these choices (or a subject's recorded ones)? The same decision function the
reads and disclosures obey, so a client can hide a button the policy would refuse.

Role, agent and recipient keys ask as themselves; an admin key asks as any actor it names.
Collector keys do not ask: they act for no one.
"""

from __future__ import annotations

from pledge.api.deps import AskerKey, VaultDep
from pledge.api.keys import ApiKey
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import (
    ActorIn,
    BulkDecisionIn,
    BulkDecisionOut,
    ChoicesIn,
    DecisionIn,
    DecisionOut,
)
from pledge.errors import InputError, ScopeForbidden
from pledge.policy import NO_CHOICES, Actor, Choices, Request, decide, decide_many
from pledge.store import consents
from pledge.store.vault import Vault

router = v1_router(tags=["decisions"])


def _actor(key: ApiKey, asked: ActorIn | None) -> Actor:
    own = key.acting_as
    if asked is None:
        if own is None:
            # Who asks is the key's business, as for role keys naming another actor (403).
            raise ScopeForbidden(
                "an admin key acts for no one of its own: name the actor it asks for",
                scope=key.scope,
                field="actor",
            )
        return own
    actor = Actor(asked.kind, asked.name)
    if own is not None and actor != own:
        raise ScopeForbidden(f"this key asks only as its own {own}", scope=key.scope)
    return actor


def _choices(vault: Vault, given: ChoicesIn) -> Choices:
    try:
        return Choices.of(
            [consents.normalise(vault.policy, c) for c in given.granted],
            [consents.normalise(vault.policy, c) for c in given.withdrawn],
            stop_all=given.stop_all,
        )
    except ValueError as exc:
        raise InputError(f"granted and withdrawn disagree: {exc}", field="choices") from None


def _request(key: ApiKey, body: DecisionIn | BulkDecisionIn) -> Request:
    return Request(
        _actor(key, body.actor),
        body.purpose,
        tuple(body.categories),
        collected_under=body.collected_under,
        legal_ref=body.legal_ref,
        group_size=body.group_size,
    )


@router.post("/decisions", responses=documented(404))
def decision(body: DecisionIn, vault: VaultDep, key: AskerKey) -> DecisionOut:
    """One decision, with every reason and obligation."""
    if body.subject is not None:
        choices = vault.choices(body.subject)
    else:
        choices = NO_CHOICES if body.choices is None else _choices(vault, body.choices)
    return DecisionOut.of(decide(vault.policy, _request(key, body)._replace(choices=choices)))


@router.post("/decisions/bulk", responses=documented(404))
def decisions(body: BulkDecisionIn, vault: VaultDep, key: AskerKey) -> BulkDecisionOut:
    """The same question for many people at once: the plan is worked out once, and each
    person costs one test of their choices."""
    if body.subjects is not None:
        choices = [vault.choices(subject) for subject in body.subjects]
    else:
        choices = [_choices(vault, c) for c in body.choices or ()]
    answers = decide_many(vault.policy, _request(key, body), choices)
    return BulkDecisionOut(decisions=[DecisionOut.of(d) for d in answers])
