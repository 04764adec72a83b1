"""For the machines that run the service: a health check for load balancers and a metrics
page for Prometheus. Both answer without a key, and neither says anything about anyone."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from pledge.api.deps import VaultDep
from pledge.api.metrics import Metrics
from pledge.api.problems import documented
from pledge.api.schemas import HealthOut
from pledge.errors import Unhealthy
from pledge.store.database import reading

router = APIRouter(tags=["operations"])


@router.get("/healthz", responses=documented(503))
def health(vault: VaultDep) -> HealthOut:
    """200 when the database answers; 503 when it does not, so the node is taken out."""
    try:
        with reading(vault.engine) as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise Unhealthy(f"the database does not answer ({type(exc).__name__})") from None
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
