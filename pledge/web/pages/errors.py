"""Errors on pages, as pages: the one error handler (:mod:`pledge.api.problems`) hands any
Pledge error on a request for HTML here, so a person sees words and a way on, never JSON or
a stack trace. A page asked for without a session leads to the sign-in page of its area.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from pledge.errors import PledgeError, SessionRequired
from pledge.web.pages import render

# Each area's sign-in page and home, by path prefix (the longest prefix wins).
AREAS = {"/": ("/sign-in", "/center"), "/admin": ("/admin/sign-in", "/admin")}
_HEADINGS = {
    400: "That link or form did not work",
    401: "Please sign in",
    403: "That was refused",
    404: "Not found",
    409: "That cannot be done now",
    413: "That was too much at once",
    422: "Please check what you entered",
    429: "Please wait a moment",
}


def wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/v1") and "text/html" in request.headers.get(
        "accept", ""
    )


def area(path: str) -> tuple[str, str]:
    """The (sign-in page, home page) of the area ``path`` is in."""
    return AREAS[max((p for p in AREAS if path.startswith(p)), key=len)]


def error_page(request: Request, error: PledgeError) -> Response:
    sign_in, home = area(request.url.path)
    if isinstance(error, SessionRequired) and request.method == "GET":
        return RedirectResponse(sign_in, status_code=303, headers={"Cache-Control": "no-store"})
    message = error.message[0].upper() + error.message[1:].rstrip(".") + "."
    if error.status == 401:
        back, label = sign_in, "Sign in"
    else:
        back, label = (request.url.path if request.method == "GET" else home), "Back"
    response = render(
        request,
        "error.html",
        status=error.status,
        heading=_HEADINGS.get(error.status, "Something went wrong"),
        message=message,
        back=back,
        back_label=label,
    )
    for name, value in error.headers.items():
        response.headers[name] = value
    return response
