"""What the policy says a website may store in a visitor's browser, in the form the banner,
the middleware and the scanner share: which cookie belongs to which category, which
categories the banner offers, and which ones a browser's privacy signal turns off.

Pure: the signals arrive as booleans, already read from headers or from the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

from pledge.policy.model import (
    BannerCategory,
    Basis,
    Cookie,
    CookieCategory,
    CookieLifetime,
    DoNotTrack,
    Policy,
)
from pledge.policy.taxonomy import covers

CONSENT_COOKIE = "pledge_consent"
"""Pledge's own cookie: the receipt id and the visitor's answer. Essential by nature (it is
how a refusal is remembered), so every registry declares it."""
CONSENT_COOKIE_DAYS = 365
SALE_OR_SHARING_TREES = ("marketing.advertising.third_party", "third_party_sharing")

_DEFAULT_CATEGORIES = {
    CookieCategory.preferences: BannerCategory(
        description="Remember your settings, such as language or region, between visits."
    ),
    CookieCategory.analytics: BannerCategory(
        description="Count visits and see which pages are used, so that we can improve the site."
    ),
    CookieCategory.advertising: BannerCategory(
        description="Show and measure advertising, which shares data with advertising partners.",
        sale_or_sharing=True,
    ),
}

_DNT_STATEMENTS = {
    DoNotTrack.ignored: "We do not change what this site does when your browser sends a "
    "Do Not Track signal; use the choices below instead.",
    DoNotTrack.opt_out_of_sale_or_sharing: "When your browser sends a Do Not Track signal, "
    "we treat it as an opt-out of the sale and sharing of your data, as we do Global Privacy "
    "Control.",
    DoNotTrack.refuse_optional: "When your browser sends a Do Not Track signal, we set no "
    "cookie but the essential ones, as if you had refused them all.",
}


def offered_categories(policy: Policy) -> dict[CookieCategory, BannerCategory]:
    """The categories the banner offers, in the enum's order: those the policy lists, or else
    every optional category one of its cookies uses."""
    listed = policy.cookie_consent.categories
    if listed:
        return {c: listed[c] for c in CookieCategory if c in listed}
    used = {c.category for c in policy.cookies}
    return {c: d for c, d in _DEFAULT_CATEGORIES.items() if c in used}


def sale_or_sharing_purposes(policy: Policy) -> list[str]:
    """The purposes a Global Privacy Control signal (or Do Not Track, as the policy answers
    it) opts a person out of: every purpose under the taxonomy's sale-and-sharing trees, and
    those ``cookie_consent.sale_or_sharing_purposes`` adds. Never one the law requires."""
    listed = set(policy.cookie_consent.sale_or_sharing_purposes)
    return [
        purpose
        for purpose, spec in policy.purposes.items()
        if spec.basis is not Basis.legal_obligation
        and (purpose in listed or any(covers(tree, purpose) for tree in SALE_OR_SHARING_TREES))
    ]


def dnt_statement(policy: Policy) -> str:
    """How the site answers Do Not Track, in one sentence a visitor reads (CalOPPA)."""
    return _DNT_STATEMENTS[policy.cookie_consent.do_not_track]


def browser_signals(policy: Policy) -> tuple[str, ...]:
    """How the site answers Global Privacy Control and Do Not Track, for the privacy notice."""
    sharing = [str(c) for c, spec in offered_categories(policy).items() if spec.sale_or_sharing]
    purposes = sale_or_sharing_purposes(policy)
    said = []
    if sharing or purposes:
        what = [f"{c} cookies stay off" for c in sharing]
        what += [f"we stop using your data for {p}" for p in purposes]
        said.append(
            "When your browser sends a Global Privacy Control signal, we treat it as an "
            f"opt-out of the sale and sharing of your data: {'; '.join(what)}."
        )
    said.append(dnt_statement(policy))
    return tuple(said)


@dataclass(frozen=True, slots=True)
class CookieRegistry:
    """The cookies a site may set, and what the visitor's answer and signals allow."""

    exact: dict[str, CookieCategory]
    prefixes: tuple[tuple[str, CookieCategory], ...]  # names declared as ``prefix*``
    offered: frozenset[str]
    sale_or_sharing: frozenset[str]
    do_not_track: DoNotTrack

    @classmethod
    def of(cls, policy: Policy) -> CookieRegistry:
        exact = {CONSENT_COOKIE: CookieCategory.essential}
        prefixes = []
        for cookie in policy.cookies:
            if cookie.name.endswith("*"):
                prefixes.append((cookie.name[:-1], cookie.category))
            else:
                exact[cookie.name] = cookie.category
        offered = offered_categories(policy)
        return cls(
            exact,
            tuple(sorted(prefixes, key=lambda p: -len(p[0]))),
            frozenset(offered),
            frozenset(c for c, spec in offered.items() if spec.sale_or_sharing),
            policy.cookie_consent.do_not_track,
        )

    def category(self, name: str) -> CookieCategory | None:
        """The category of the cookie ``name``, or None when the policy does not declare it."""
        found = self.exact.get(name)
        if found is None:
            for prefix, category in self.prefixes:
                if name.startswith(prefix):
                    return category
        return found

    def turned_off(self, *, gpc: bool, dnt: bool) -> frozenset[str]:
        """Categories the browser's signals turn off, whatever the visitor clicked."""
        off: frozenset[str] = frozenset()
        if gpc or (dnt and self.do_not_track is DoNotTrack.opt_out_of_sale_or_sharing):
            off = self.sale_or_sharing
        if dnt and self.do_not_track is DoNotTrack.refuse_optional:
            off = self.offered
        return off

    def allowed(self, chosen: frozenset[str], *, gpc: bool, dnt: bool) -> frozenset[str]:
        """The optional categories that may be set: chosen by the visitor, offered by the
        banner, and not turned off by a signal."""
        return (chosen & self.offered) - self.turned_off(gpc=gpc, dnt=dnt)

    def may_set(self, name: str, allowed: frozenset[str]) -> bool:
        category = self.category(name)
        return category is not None and (
            category is CookieCategory.essential or category in allowed
        )


def consent_cookie() -> Cookie:
    """Pledge's consent cookie as a declared cookie, for listings and the scanner."""
    return Cookie(
        name=CONSENT_COOKIE,
        lifetime=CookieLifetime.persistent,
        category=CookieCategory.essential,
        days=CONSENT_COOKIE_DAYS,
        provider="first_party",
        description="Remembers your cookie choices and the id of their receipt",
    )
