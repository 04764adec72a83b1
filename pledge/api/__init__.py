"""The REST service: API keys, staff roles, and the vault's promises over HTTP.

``create_app`` is imported on first use: the CLI reaches into ``pledge.api.keys`` for key
management, and should not pay for loading FastAPI and every route to do so.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pledge.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from pledge.api.app import create_app

        return create_app
    raise AttributeError(f"module 'pledge.api' has no attribute {name!r}")
