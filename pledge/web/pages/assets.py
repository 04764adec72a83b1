"""The pages' stylesheet and script, served from this origin (the pages' CSP allows no other)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

from pledge.errors import NotFoundError

_TYPES = {"pages.css": "text/css; charset=utf-8", "center.js": "text/javascript; charset=utf-8"}
router = APIRouter()


@router.get("/assets/{name}")
async def asset(name: str) -> Response:
    if name not in _TYPES:
        raise NotFoundError(f"no asset '{name}'")
    body = files("pledge.web").joinpath("static", name).read_bytes()
    return Response(body, media_type=_TYPES[name], headers={"Cache-Control": "public, max-age=300"})
