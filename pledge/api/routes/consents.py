"""The consent ledger of one subject: grant, withdraw, the current state and the history.

Role and admin keys record choices (a website relays the person's clicks); each event names
the key that recorded it as its source.
"""

from __future__ import annotations

from pledge.api.deps import StaffKey, SubjectId, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import ChoiceIn, ChoiceOut, ChoicesOut, ConsentEventOut

router = v1_router(tags=["consents"])


@router.get("/subjects/{subject}/consents", responses=documented(404))
def current(subject: SubjectId, vault: VaultDep, _key: StaffKey) -> ChoicesOut:
    """The latest event per choice."""
    choices = vault.choices(subject)
    return ChoicesOut(
        granted=sorted(choices.granted),
        withdrawn=sorted(choices.withdrawn),
        stop_all=choices.stop_all,
    )


@router.get("/subjects/{subject}/consents/history", responses=documented(404))
def history(subject: SubjectId, vault: VaultDep, _key: StaffKey) -> list[ConsentEventOut]:
    """Every event, oldest first."""
    return [
        ConsentEventOut(
            seq=e.seq,
            choice=e.choice,
            granted=e.granted,
            source=e.source,
            policy_version=e.policy_version,
            at=e.at,
        )
        for e in vault.consent_history(subject)
    ]


@router.post("/subjects/{subject}/consents/grant", responses=documented(404))
def grant(subject: SubjectId, body: ChoiceIn, vault: VaultDep, key: StaffKey) -> ChoiceOut:
    """Record that the person gives this choice; it applies from the moment this returns."""
    choice = vault.grant(subject, body.choice, source=f"api:{key.key_id}")
    return ChoiceOut(subject=subject, choice=choice, granted=True)


@router.post("/subjects/{subject}/consents/withdraw", responses=documented(404))
def withdraw(subject: SubjectId, body: ChoiceIn, vault: VaultDep, key: StaffKey) -> ChoiceOut:
    """Record that the person withdraws this choice; as easy as giving it."""
    choice = vault.withdraw(subject, body.choice, source=f"api:{key.key_id}")
    return ChoiceOut(subject=subject, choice=choice, granted=False)
