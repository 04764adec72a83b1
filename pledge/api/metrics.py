"""Prometheus metrics, in a registry of the app's own so that two apps in one process (tests,
or an app per tenant) never count into each other.

Labels are the route template (``/v1/subjects/{subject}/data``, never the path with its id)
and the status: nothing a label holds can name a person, and the number of series stays
bounded by the number of routes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

UNMATCHED = "<unmatched>"


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "pledge_http_requests",
            "HTTP requests answered, by route template and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self._seconds = Histogram(
            "pledge_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            registry=self.registry,
        )

    def observe(self, route: str, status: int, seconds: float) -> None:
        self._requests.labels(route, str(status)).inc()
        self._seconds.labels(route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
