"""The REST service: API keys, staff roles, and the vault's promises over HTTP."""

from pledge.api.app import create_app

__all__ = ["create_app"]
