"""Children: who may consent for themselves, and when a parent's consent is needed instead.

The age below which a person cannot consent depends on where they live (13 under COPPA; 16
under GDPR Art. 8 unless a member state lowers it, never below 13), so the policy gives a
default and the jurisdictions that differ, and the collection says where the person is. Pure:
the store asks :func:`refusal` for every age a submission states.
"""

from __future__ import annotations

from pledge.policy.model import Policy


def consent_age(policy: Policy, jurisdiction: str | None) -> int | None:
    """The age a person in ``jurisdiction`` consents at themselves (None: the policy says
    nothing about children): the jurisdiction's own, else the policy's default. When nobody
    says where the person is, the highest age any jurisdiction sets: the reading that
    protects."""
    rules = policy.children
    if rules is None:
        return None
    if jurisdiction is not None:
        return rules.jurisdictions.get(jurisdiction, rules.consent_age)
    return max([rules.consent_age, *rules.jurisdictions.values()])


def refusal(
    policy: Policy, age: int, jurisdiction: str | None, parental_consent: bool
) -> str | None:
    """Why a person of ``age`` may not be collected from, or None when they may."""
    below = consent_age(policy, jurisdiction)
    if below is None or age >= below:
        return None
    where = f" in {jurisdiction}" if jurisdiction else ""
    assert policy.children is not None
    if not policy.children.parental_consent:
        return f"people under {below}{where} are not collected from"
    if not parental_consent:
        return f"people under {below}{where} are collected from only with a parent's consent"
    return None
