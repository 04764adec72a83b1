"""Collection at the policy's collection points, and finding a subject by email or username.

Any role key or an admin key may collect: the collection point, not the caller, decides what
is taken, so a website gets a role key of its own (e.g. ``website``) rather than a new scope.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from pledge.api.deps import StaffKey, VaultDep
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import (
    BulkCollectedOut,
    BulkCollectIn,
    CollectedOut,
    CollectIn,
    LookupIn,
    SubjectOut,
)
from pledge.errors import NotFoundError
from pledge.store.collect import Collected, Collection

router = v1_router(tags=["collection"])


def _out(done: Collected) -> CollectedOut:
    return CollectedOut(
        subject=done.subject,
        point=done.point,
        fields=list(done.fields),
        policy_version=done.policy_version,
        created=done.created,
    )


def _collection(point: str, item: CollectIn) -> Collection:
    return Collection(point, item.fields, item.subject, item.choices, item.age)


@router.post("/collect/{point}", responses=documented(404, 409))
async def collect(point: str, body: CollectIn, vault: VaultDep, _key: StaffKey) -> CollectedOut:
    """Store what collection point ``point`` declares, for a new or known subject."""
    # One hop to a thread for the store's durable transaction (see routes/reads.py).
    done = await run_in_threadpool(vault.collect_many, [_collection(point, body)])
    return _out(done[0])


@router.post("/collect/{point}/bulk", responses=documented(404, 409))
def collect_bulk(
    point: str, body: BulkCollectIn, vault: VaultDep, _key: StaffKey
) -> BulkCollectedOut:
    """Several submissions at one point in one transaction: all stored, or none."""
    done = vault.collect_many([_collection(point, item) for item in body.items])
    return BulkCollectedOut(items=[_out(d) for d in done])


@router.post("/subjects/lookup", responses=documented(404))
def lookup(body: LookupIn, vault: VaultDep, _key: StaffKey) -> SubjectOut:
    """The subject with this email or username. The value travels in the body, so it stays
    out of URLs, proxies' logs and browser histories."""
    found = vault.find(body.kind, body.value)
    if found is None:
        raise NotFoundError(f"no subject has that {body.kind}")
    return SubjectOut(subject=found)
