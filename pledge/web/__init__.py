"""The website's edge: the consent banner and its receipts, the middleware that keeps a site's
cookies to what the visitor allowed, browser privacy signals, and the cookie scanner.

A site mounts :data:`pledge.web.router.router` on a Pledge app (or proxies to one), includes
the banner snippet (:func:`pledge.web.banner.snippet`) in its pages, and wraps itself in
:class:`pledge.web.middleware.CookieGate` (ASGI) or
:class:`pledge.web.middleware.WsgiCookieGate` (WSGI). See docs/web.md.
"""
