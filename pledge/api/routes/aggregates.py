"""Aggregates: an aggregate-only recipient asks for counts about a segment of people.

The key's own recipient is the one asking, as for disclosures; the segment is one the
operator defines, never a list of people, so no two answers can be made to differ by one
chosen person (see :mod:`pledge.store.aggregates`).
"""

from __future__ import annotations

from pledge.api.deps import RecipientKey, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import AggregateIn, AggregateOut

router = v1_router(tags=["disclosures"])


@router.post("/aggregates", responses=documented(404))
def aggregate(body: AggregateIn, vault: VaultDep, key: RecipientKey) -> AggregateOut:
    """Distinct people per category in the segment, if the group is large enough (and, for a
    recipient with noise, the privacy budget pays for it)."""
    assert key.actor is not None
    done = vault.aggregate(
        key.actor, body.purpose, body.categories, body.segment, since=body.since, until=body.until
    )
    return AggregateOut(
        recipient=done.recipient,
        purpose=done.purpose,
        segment=done.segment,
        counts=done.counts,
        epsilon=done.epsilon,
        budget_left=done.budget_left,
    )
