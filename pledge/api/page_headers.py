"""Security headers on every response, and the strict ones on every HTML page.

A middleware rather than headers set by each page, so a page added later cannot forget them.
HTML pages get a Content-Security-Policy that loads nothing from anywhere (styles inline only,
no scripts), posts forms only back to this origin and refuses to be framed (against
clickjacking a one-click unsubscribe or a confirmation), and send no Referer onward (their
URLs carry tokens). Every response gets ``nosniff``, so no browser reads JSON as HTML.
A page that sets its own Content-Security-Policy keeps it (the privacy center runs its one
script from this origin: see :mod:`pledge.web.pages`).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
EVERY = {"X-Content-Type-Options": "nosniff"}
PAGES = {
    "Content-Security-Policy": PAGE_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class PageHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra = dict(EVERY)
                if headers.get("content-type", "").startswith("text/html"):
                    extra |= PAGES
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
