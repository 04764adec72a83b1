"""The consent banner: its static JavaScript and CSS, and the HTML snippet a site puts at the
top of ``<body>``, rendered from the policy (the categories it offers, what each is for, the
Do Not Track statement). The snippet's script runs where it stands, so Google Consent Mode's
defaults are set before any tag further down the page.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import jinja2

from pledge.policy import Policy
from pledge.policy.cookies import CONSENT_COOKIE_DAYS, dnt_statement, offered_categories

ASSETS = ("banner.js", "banner.css")

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("pledge.web", "banner"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def asset(name: str) -> bytes:
    """The bytes of ``banner.js`` or ``banner.css``."""
    if name not in ASSETS:
        raise KeyError(name)
    return files("pledge.web.banner").joinpath(name).read_bytes()


def snippet(policy: Policy, base: str = "/pledge", *, policy_url: str | None = None) -> str:
    """The banner's HTML for ``policy``, loading its assets and posting receipts under
    ``base`` (where :mod:`pledge.web.router` answers)."""
    categories = offered_categories(policy)
    return _templates.get_template("snippet.html").render(
        base=base.rstrip("/"),
        organisation=policy.organisation.name,
        policy_url=policy_url,
        categories={str(c): spec for c, spec in categories.items()},
        sharing=[str(c) for c, spec in categories.items() if spec.sale_or_sharing],
        dnt=str(policy.cookie_consent.do_not_track),
        dnt_statement=dnt_statement(policy),
        days=CONSENT_COOKIE_DAYS,
    )
