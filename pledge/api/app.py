"""The application factory: one vault in, one FastAPI app out, nothing global.

Tests build an app per temporary database; the server builds one per worker from the
environment (:mod:`pledge.api.asgi`). Versioned routes live under ``/v1``; ``/healthz`` and
``/metrics`` sit outside it, for infrastructure that does not follow API versions.

Layers, outermost first: :class:`~pledge.api.page_headers.PageHeaders` (security headers),
:class:`~pledge.api.observe.RequestContext` (request id, access log,
metrics, last-resort 500), :class:`~pledge.api.limits.BodyLimit`, then FastAPI's exception
handling (:mod:`pledge.api.problems`), then the routes, each guarded by its key scope
(:mod:`pledge.api.deps`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI

from pledge.api import confirm_pages, problems
from pledge.api.config import ApiSettings, load_api_settings
from pledge.api.keys import KeyStore
from pledge.api.limits import BodyLimit, Failures, SignInLimits, TokenBuckets
from pledge.api.metrics import Metrics
from pledge.api.observe import RequestContext
from pledge.api.openapi_policy import describe
from pledge.api.page_headers import PageHeaders
from pledge.api.routes import (
    aggregates,
    audit,
    collect,
    consents,
    cookie_receipts,
    credentials,
    decisions,
    disclosures,
    keys,
    mail,
    ops,
    policy,
    reads,
    reports,
    requests,
    rights,
)
from pledge.mail import web as unsubscribe_pages
from pledge.mail.dev_mailbox import DevMailbox
from pledge.mail.jobs import Worker as CampaignWorker
from pledge.store.vault import Vault
from pledge.web import router as website
from pledge.web.pages import dev as dev_pages
from pledge.web.pages.routers import ROUTERS as PAGES

DESCRIPTION = """\
Pledge holds personal data and enforces a privacy policy on every use of it.
Authenticate with `Authorization: Bearer <key>` (create keys with `pledge keys create`).
Errors are RFC 9457 problem details (`application/problem+json`). See docs/api.md.
"""


class _PledgeApp(FastAPI):
    """Serves the OpenAPI document of the policy the vault enforces (a vault keeps its policy
    while open; see :mod:`.openapi_policy`)."""

    def openapi(self) -> dict[str, Any]:
        if not self.openapi_schema:
            vault: Vault = self.state.vault
            generic = problems.as_problem_json(super().openapi())
            self.openapi_schema = describe(generic, vault.policy, vault.clock().date())
        return self.openapi_schema


def create_app(
    vault: Vault, *, settings: ApiSettings | None = None, owns_vault: bool = False
) -> FastAPI:
    """The service over ``vault``. With ``owns_vault`` the app closes it on shutdown."""
    settings = settings or load_api_settings()

    campaigns = CampaignWorker(vault)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        campaigns.start()
        yield
        campaigns.stop()
        if owns_vault:
            vault.close()

    app = _PledgeApp(
        title="Pledge",
        version=version("pledge"),
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
    )
    metrics = Metrics()
    app.state.vault = vault
    app.state.keys = KeyStore(vault, cache_seconds=settings.api_key_cache_seconds)
    app.state.limiter = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.failures = Failures(settings.failures_per_minute, settings.failures_burst)
    app.state.sign_in_limits = SignInLimits(
        settings.sign_ins_per_address, settings.sign_ins_per_client
    )
    app.state.metrics = metrics
    app.state.campaigns = campaigns
    problems.install(app)

    for resource in (
        collect,
        reads,
        consents,
        cookie_receipts,
        disclosures,
        aggregates,
        decisions,
        rights,
        requests,
        credentials,
        audit,
        policy,
        keys,
        mail,
        reports,
    ):
        app.include_router(resource.router)
    app.include_router(ops.router)
    # Pages for people and mail clients, not part of the API: kept out of the OpenAPI schema.
    app.include_router(unsubscribe_pages.router, include_in_schema=False)
    app.include_router(website.router, include_in_schema=False)
    app.include_router(confirm_pages.router, include_in_schema=False)
    for pages in PAGES:
        app.include_router(pages, include_in_schema=False)
    if settings.dev:  # messages go to a mailbox in memory, shown at /dev/mailbox
        app.state.dev_mailbox = DevMailbox()
        app.include_router(dev_pages.router, include_in_schema=False)

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RequestContext, metrics=metrics)
    app.add_middleware(PageHeaders)
    return app
