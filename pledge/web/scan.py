"""The cookie scanner: what a page really stores in a browser, judged against the policy.

The page is loaded three times in headless Chromium, each time in a fresh browser profile:
before any answer, after "Accept all", and after "Refuse all" (then a reload, so that what the
page does for a returning visitor who refused counts too). Every cookie (first or third party)
and every ``localStorage``/``sessionStorage`` item is listed with the stage that found it.
Storage items are judged like cookies, by name. A finding is flagged when the policy does not
declare it, or when a cookie of an optional category is there before consent or after a
refusal.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``), driven by Playwright for Python;
nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pledge.errors import InputError, PledgeError
from pledge.policy import Policy
from pledge.policy.cookies import CookieRegistry
from pledge.policy.model import CookieCategory

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

CHROMIUM = "/usr/bin/chromium"
STAGES = ("before_consent", "after_accept", "after_refuse")
SETTLE_MS = 500


@dataclass(frozen=True)
class Finding:
    stage: str
    kind: str  # cookie | localStorage | sessionStorage
    name: str
    domain: str
    category: str | None
    problem: str | None  # undeclared | before_consent | after_refusal | no_banner

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "kind": self.kind,
            "name": self.name,
            "domain": self.domain,
            "category": self.category,
            "problem": self.problem,
        }


def chromium_path() -> str:
    """Debian's Chromium, or ``PLEDGE_CHROMIUM`` if set; a clear error when neither exists."""
    path = os.environ.get("PLEDGE_CHROMIUM") or shutil.which("chromium") or CHROMIUM
    if not os.path.exists(path):
        raise PledgeError(
            f"no Chromium at {path}: install Debian's package (apt-get install chromium) "
            "or set PLEDGE_CHROMIUM to a Chromium binary"
        )
    return path


@contextmanager
def launch() -> Iterator[Browser]:
    """A headless Chromium for scanning (and for tests that drive the banner)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PledgeError(
            "the cookie scanner needs Playwright: pip install playwright (no browser download "
            "needed; it drives Debian's chromium)"
        ) from None
    path = chromium_path()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def scan(
    url: str, policy: Policy, *, browser: Browser | None = None, settle_ms: int = SETTLE_MS
) -> list[Finding]:
    """Every cookie and storage item ``url`` sets at each stage, with what is wrong with it.
    ``settle_ms`` is how long to let the page's scripts run after each load."""
    if not url.startswith(("http://", "https://")):
        raise InputError(f"scan an http:// or https:// URL, not '{url}'", field="url")
    if browser is None:
        with launch() as own:
            return scan(url, policy, browser=own, settle_ms=settle_ms)
    registry = CookieRegistry.of(policy)
    findings: list[Finding] = []
    for stage in STAGES:
        context = browser.new_context()
        try:
            findings += _stage(context, url, stage, registry, settle_ms)
        finally:
            context.close()
    return findings


def _stage(
    context: BrowserContext, url: str, stage: str, registry: CookieRegistry, settle_ms: int
) -> list[Finding]:
    from playwright.sync_api import Error as PlaywrightError

    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(settle_ms)
        if stage != "before_consent":
            button = page.locator(
                "[data-pledge=accept]" if stage == "after_accept" else "[data-pledge=refuse]"
            )
            if button.count() == 0:
                return [Finding(stage, "page", url, "", None, "no_banner")]
            button.click()
            page.wait_for_function("document.cookie.indexOf('pledge_consent=') >= 0")
            page.reload(wait_until="load")
            page.wait_for_timeout(settle_ms)
        stored = page.evaluate(
            "() => ({localStorage: Object.keys(localStorage),"
            " sessionStorage: Object.keys(sessionStorage), host: location.hostname})"
        )
    except PlaywrightError as exc:
        raise PledgeError(
            f"could not load {url} in Chromium: {exc.message.splitlines()[0]}"
        ) from None
    items = [(c["name"], c["domain"], "cookie") for c in context.cookies()]
    for kind in ("localStorage", "sessionStorage"):
        items += [(name, stored["host"], kind) for name in stored[kind]]
    return [_judge(stage, kind, name, domain, registry) for name, domain, kind in items]


def _judge(stage: str, kind: str, name: str, domain: str, registry: CookieRegistry) -> Finding:
    category = registry.category(name)
    problem = None
    if category is None:
        problem = "undeclared"
    elif category is not CookieCategory.essential and stage != "after_accept":
        problem = "before_consent" if stage == "before_consent" else "after_refusal"
    return Finding(stage, kind, name, domain, None if category is None else str(category), problem)
