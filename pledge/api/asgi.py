"""The app as an import string, ``pledge.api.asgi:app``, for servers that start workers.

Each worker process builds its own app from ``PLEDGE_*`` environment settings (``pledge serve``
exports the ones it validated). The app is built on first access, not on import, so importing
this module opens no database.
"""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI

from pledge.api.app import create_app
from pledge.api.config import load_api_settings
from pledge.api.logs import configure_logging
from pledge.settings import open_vault


@cache
def build() -> FastAPI:
    settings = load_api_settings()
    configure_logging(json=not settings.dev)
    return create_app(open_vault(settings), settings=settings, owns_vault=True)


def __getattr__(name: str) -> FastAPI:
    if name == "app":
        return build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
