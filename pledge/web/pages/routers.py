"""Every router of the pages, in the order they are mounted (the app includes them all)."""

from __future__ import annotations

from fastapi import APIRouter

from pledge.web.pages import (
    admin,
    admin_sign_in,
    assets,
    center,
    choices,
    disclosures,
    leaving,
    requests,
    sign_in,
)

ROUTERS: tuple[APIRouter, ...] = (
    assets.router,
    sign_in.router,
    center.router,
    choices.router,
    disclosures.router,
    leaving.router,
    requests.router,
    admin_sign_in.router,
    admin.router,
)
