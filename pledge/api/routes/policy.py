"""The policy in force: a summary clients build forms from, and the file as it was activated.

Any key may read it: the policy is what the organisation promises everyone, and a website
needs its collection points and choices to ask the right questions.
"""

from __future__ import annotations

from fastapi import Response

from pledge.api.deps import Caller, VaultDep
from pledge.api.routes import v1_router
from pledge.api.schemas import (
    FieldOut,
    GrantOut,
    PointOut,
    PolicySummaryOut,
    PurposeOut,
    RecipientOut,
)

router = v1_router(tags=["policy"])


@router.get("/policy")
def summary(vault: VaultDep, _key: Caller) -> PolicySummaryOut:
    """Version, collection points, purposes, roles and recipients of the active policy."""
    policy = vault.policy.policy
    return PolicySummaryOut(
        version=policy.version,
        organisation=policy.organisation.name,
        effective=policy.effective,
        collection_points={
            name: PointOut(
                fields={
                    f: FieldOut(category=spec.category, required=spec.required)
                    for f, spec in point.fields.items()
                },
                purposes=point.purposes,
                choices=point.choices,
                min_age=point.min_age,
            )
            for name, point in policy.collection_points.items()
        },
        purposes={
            name: PurposeOut(basis=p.basis, channel=p.channel)
            for name, p in policy.purposes.items()
        },
        roles={
            name: GrantOut(purposes=r.purposes, categories=r.categories)
            for name, r in policy.roles.items()
        },
        recipients={
            name: RecipientOut(
                purposes=r.purposes, categories=r.categories, kind=r.kind, condition=r.condition
            )
            for name, r in policy.recipients.items()
        },
    )


@router.get(
    "/policy/file",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}, "description": "The policy YAML."}},
)
def policy_file(vault: VaultDep, _key: Caller) -> Response:
    """The active policy's YAML, exactly as recorded when it was activated."""
    return Response(vault.policy_text(), media_type="application/yaml")
