"""One module per resource, each with a router made by :func:`v1_router`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pledge.api.problems import documented

V1 = "/v1"


def v1_router(**options: Any) -> APIRouter:
    """A router of the versioned API: under ``/v1``, documenting the errors any endpoint
    that takes a key can answer. The prefix is the router's own (not added on inclusion) so
    that each route's template, the metrics label, reads in full: ``/v1/subjects/{subject}``."""
    return APIRouter(prefix=V1, responses=documented(401, 403, 413, 422, 429), **options)
