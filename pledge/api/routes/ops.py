"""For the machines that run the service: a health check for load balancers and a metrics
page for Prometheus. Both answer without a key, and neither says anything about anyone."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from pledge.api.deps import VaultDep
from pledge.api.metrics import Metrics
from pledge.api.problems import documented
from pledge.api.schemas import HealthOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses=documented(503))
def health(vault: VaultDep) -> HealthOut:
    """200 when the database answers; 503 when it does not, so the node is taken out."""
    vault.ping()
    return HealthOut(status="ok", policy_version=vault.policy.version)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {Metrics.content_type: {}}, "description": "Prometheus text."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by route template and status."""
    page: Metrics = request.app.state.metrics
    return Response(page.render(), media_type=page.content_type)
