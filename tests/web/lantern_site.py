"""The test website: an ASGI site (FastAPI) and a WSGI site that set cookies, both behind
Pledge's middleware, and helpers that serve an app on 127.0.0.1 for real."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from site_policy import SERVER_COOKIES

from pledge.policy import Policy
from pledge.store.vault import Vault
from pledge.web import router as website
from pledge.web.banner import snippet
from pledge.web.middleware import CookieGate, WsgiCookieGate

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lantern test site</title></head>
<body>
{banner}
<main><h1>Lantern test site</h1><p>Welcome.</p>
<p><a href="#" data-pledge-open>Cookie settings</a></p></main>
<script type="text/plain" data-category="analytics">
window.analyticsRan = true; document.cookie = "_pa_visit=1; Path=/; Max-Age=600";
</script>
<script type="text/plain" data-category="advertising">window.adsRan = true;</script>
{extra}
</body></html>"""

LEAK = (
    '<script>document.cookie = "tracker=planted; Path=/"; localStorage.setItem("fp", "1");</script>'
)


def asgi_site(vault: Vault) -> Any:
    """The company's site as an ASGI app, behind the cookie middleware, with Pledge's
    banner routes mounted on it (same origin, so the consent cookie is first-party)."""
    app = FastAPI()
    app.state.vault = vault
    app.include_router(website.router)
    banner = snippet(vault.policy.policy)

    @app.get("/", response_class=HTMLResponse)
    def home() -> HTMLResponse:
        return HTMLResponse(PAGE.format(banner=banner, extra=""))

    @app.get("/leaky", response_class=HTMLResponse)
    def leaky() -> HTMLResponse:
        return HTMLResponse(PAGE.format(banner=banner, extra=LEAK))

    @app.get("/set-cookies")
    def set_cookies() -> Response:
        response = Response("cookies offered")
        for value in SERVER_COOKIES:
            response.headers.append("set-cookie", value)
        return response

    return CookieGate(app, vault.policy)


def bare_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    headers = [("Content-Type", "text/plain")] + [("Set-Cookie", v) for v in SERVER_COOKIES]
    start_response("200 OK", headers)
    return [b"cookies offered"]


def wsgi_site(policy: Policy) -> Any:
    return WsgiCookieGate(bare_wsgi, policy)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """``app`` under wsgiref's server in a thread on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
