"""Collection at the policy's collection points, subject tokens, and finding a subject by
email or username.

Only a collector key (the website's backend) collects: the collection point, not the caller,
decides what is taken. Writing into an existing subject needs that person's subject token,
which the collector mints when the person signs in. A submission that names no subject but
carries an email or username someone already has waits for that person's confirmation by
email; the response then does not say whose it matched.
"""

from __future__ import annotations

import datetime as dt

from starlette.concurrency import run_in_threadpool

from pledge.api.deps import CollectorKey, StaffKey, VaultDep
from pledge.api.keys import ApiKey
from pledge.api.problems import documented
from pledge.api.routes import v1_router
from pledge.api.schemas import (
    BulkCollectedOut,
    BulkCollectIn,
    CollectedOut,
    CollectIn,
    LookupIn,
    SubjectOut,
    SubjectTokenIn,
    SubjectTokenOut,
)
from pledge.errors import NotFoundError
from pledge.mail.confirmations import send_confirmations
from pledge.store.collect import Collected, Collection
from pledge.store.vault import Vault

router = v1_router(tags=["collection"])


def _out(done: Collected, named: bool) -> CollectedOut:
    matched = done.pending is not None and not done.created and not named
    return CollectedOut(
        subject=None if matched else done.subject,
        point=done.point,
        fields=list(done.fields),
        policy_version=done.policy_version,
        created=done.created,
        pending=done.pending,
    )


def _collect(vault: Vault, key: ApiKey, items: list[CollectIn], point: str) -> list[Collected]:
    for item in items:
        if item.subject is not None:
            vault.check_subject_token(item.subject_token, item.subject, key.key_id)
    done = vault.collect_many(
        [
            Collection(
                point, i.fields, i.subject, i.choices, i.age, i.jurisdiction, i.parental_consent
            )
            for i in items
        ]
    )
    send_confirmations(vault, [(d.subject, d.pending) for d in done if d.pending])
    return done


@router.post("/collect/{point}", responses=documented(404, 409))
async def collect(point: str, body: CollectIn, vault: VaultDep, key: CollectorKey) -> CollectedOut:
    """Store what collection point ``point`` declares, for a new subject or (with its subject
    token) a known one."""
    # One hop to a thread for the store's durable transaction (see routes/reads.py).
    done = await run_in_threadpool(_collect, vault, key, [body], point)
    return _out(done[0], body.subject is not None)


@router.post("/collect/{point}/bulk", responses=documented(404, 409))
def collect_bulk(
    point: str, body: BulkCollectIn, vault: VaultDep, key: CollectorKey
) -> BulkCollectedOut:
    """Several submissions at one point in one transaction: all stored, or none."""
    done = _collect(vault, key, body.items, point)
    return BulkCollectedOut(
        items=[_out(d, i.subject is not None) for d, i in zip(done, body.items, strict=True)]
    )


@router.post("/subject-tokens", responses=documented(404))
def subject_token(body: SubjectTokenIn, vault: VaultDep, key: CollectorKey) -> SubjectTokenOut:
    """A short-lived token proving that requests about ``subject`` come from that person: ask
    for one when the person signs in to the website, and send it with their writes. It works
    only with the key that asked for it."""
    minted = vault.subject_token(body.subject, key.key_id, dt.timedelta(seconds=body.ttl_seconds))
    return SubjectTokenOut(
        token=minted.token,
        subject=minted.subject,
        audience=minted.audience,
        expires_at=minted.expires,
    )


@router.post("/subjects/lookup", responses=documented(404))
def lookup(body: LookupIn, vault: VaultDep, _key: StaffKey) -> SubjectOut:
    """The subject with this email or username. The value travels in the body, so it stays
    out of URLs, proxies' logs and browser histories."""
    found = vault.find(body.kind, body.value)
    if found is None:
        raise NotFoundError(f"no subject has that {body.kind}")
    return SubjectOut(subject=found)
