"""The banner and the middleware in a real browser (Debian's headless Chromium, through
Playwright) on the test site served on 127.0.0.1, and the scanner against it.

One browser for the session; each test gets a fresh profile (a new visitor). Without
Playwright or Chromium these tests skip and say why; under CI=true they fail instead.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import AXE, serious_violations, serve_asgi
from lantern_site import asgi_site
from site_policy import site_policy_text

from pledge.errors import PledgeError
from pledge.policy import Policy
from pledge.policy.cookies import CONSENT_COOKIE
from pledge.store.vault import Vault
from pledge.web.scan import scan

GPC_SCRIPT = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
SIGNALS = ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")


@pytest.fixture(scope="session")
def site(session_vault: Vault) -> Iterator[str]:
    """The test site, on 127.0.0.1 for real."""
    with serve_asgi(asgi_site(session_vault)) as url:
        yield url


@pytest.fixture
def visitor(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def gpc_visitor(browser: Any) -> Iterator[Any]:
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(GPC_SCRIPT)
    yield context
    context.close()


def consent_modes(page: Any) -> list[tuple[str, dict[str, str]]]:
    """The gtag('consent', ...) calls in window.dataLayer, in order."""
    calls = page.evaluate("() => dataLayer.filter(a => a[0] === 'consent').map(a => [a[1], a[2]])")
    return [(kind, values) for kind, values in calls]


def answer(page: Any, button: str) -> None:
    page.click(f"[data-pledge={button}]")
    page.wait_for_function(f"document.cookie.indexOf('{CONSENT_COOKIE}=') >= 0")
    page.wait_for_selector("#pledge-banner", state="hidden")


def cookie_names(context: Any) -> set[str]:
    return {c["name"] for c in context.cookies()}


def test_marked_scripts_stay_inert_until_the_visitor_accepts(
    visitor: Any, site: str, session_vault: Vault
) -> None:
    page = visitor.new_page()
    page.goto(site)
    assert page.is_visible("#pledge-banner")
    assert page.evaluate("() => [window.analyticsRan, window.adsRan]") == [None, None]
    assert consent_modes(page) == [("default", pytest.approx(consent_modes(page)[0][1]))]
    default = consent_modes(page)[0][1]
    assert all(default[s] == "denied" for s in SIGNALS)
    answer(page, "accept")
    assert page.evaluate("() => [window.analyticsRan, window.adsRan]") == [True, True]
    kind, update = consent_modes(page)[-1]
    assert kind == "update"
    assert all(update[s] == "granted" for s in SIGNALS)
    receipt = next(c for c in visitor.cookies() if c["name"] == CONSENT_COOKIE)["value"][:32]
    recorded = session_vault.cookie_receipt(receipt)
    assert [r.allowed for r in recorded] == [("advertising", "analytics", "preferences")]


def test_refusing_is_one_keystroke_as_prominent_as_accepting_and_a_reload_keeps_it(
    visitor: Any, site: str
) -> None:
    page = visitor.new_page()
    page.goto(site)
    refuse, accept = page.locator("[data-pledge=refuse]"), page.locator("[data-pledge=accept]")
    looks = (
        "e => { const s = getComputedStyle(e);"
        " return [s.color, s.backgroundColor, s.fontSize, s.fontWeight] }"
    )
    assert refuse.evaluate(looks) == accept.evaluate(looks)
    r, a = refuse.bounding_box(), accept.bounding_box()
    assert (round(r["width"]), round(r["height"])) == (round(a["width"]), round(a["height"]))
    page.keyboard.press("Tab")  # the banner comes first in the page: its first control
    assert page.evaluate("() => document.activeElement.dataset.pledge") == "refuse"
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.cookie.indexOf('{CONSENT_COOKIE}=') >= 0")
    page.wait_for_selector("#pledge-banner", state="hidden")
    page.reload()
    assert not page.is_visible("#pledge-banner")
    assert page.evaluate("() => [window.analyticsRan, window.adsRan]") == [None, None]
    assert page.locator('script[type="text/plain"][data-category]').count() == 2
    assert [kind for kind, _ in consent_modes(page)] == ["default"]
    # The middleware, for a visitor who refused: only the essential cookie gets through.
    page.goto(site + "/set-cookies")
    assert cookie_names(visitor) == {CONSENT_COOKIE, "session"}


def test_global_privacy_control_turns_sale_and_sharing_off(gpc_visitor: Any, site: str) -> None:
    page = gpc_visitor.new_page()
    page.goto(site)
    assert page.is_visible("[data-pledge=signal]")
    page.click("[data-pledge=choose]")
    assert page.is_disabled("#pledge-c-advertising")
    answer(page, "accept")
    assert page.evaluate("() => [window.analyticsRan, window.adsRan]") == [True, None]
    _, update = consent_modes(page)[-1]
    assert update["analytics_storage"] == "granted"
    assert [update[s] for s in ("ad_storage", "ad_user_data", "ad_personalization")] == [
        "denied"
    ] * 3
    page.goto(site + "/set-cookies")
    assert cookie_names(gpc_visitor) == {
        CONSENT_COOKIE,
        "session",
        "lang",
        "_pa_id",
        "_pa_visit",
    }


def test_choices_can_be_made_one_category_at_a_time_and_changed_later(
    visitor: Any, site: str
) -> None:
    page = visitor.new_page()
    page.goto(site)
    page.click("[data-pledge=choose]")
    assert page.get_attribute("[data-pledge=choose]", "aria-expanded") == "true"
    page.check("#pledge-c-analytics")
    answer(page, "save")
    assert page.evaluate("() => [window.analyticsRan, window.adsRan]") == [True, None]
    page.click("[data-pledge-open]")
    assert page.is_checked("#pledge-c-analytics")
    with page.expect_navigation():  # withdrawing reloads, so the running script stops
        page.click("[data-pledge=refuse]")
    assert page.evaluate("() => window.analyticsRan") is None


def test_the_banner_has_no_serious_accessibility_violation(
    visitor: Any, site: str, skip_or_fail: Any
) -> None:
    if not AXE.exists():
        skip_or_fail("axe-core is not installed: npm install --prefix tests/web axe-core")
    page = visitor.new_page()
    page.goto(site)
    page.click("[data-pledge=choose]")
    assert serious_violations(page, "#pledge-banner") == []


def test_the_scanner_finds_a_cookie_planted_before_consent(
    browser: Any, site: str, site_policy: Policy
) -> None:
    findings = scan(site + "/leaky", site_policy, browser=browser, settle_ms=50)
    flagged = {(f.stage, f.kind, f.name, f.problem) for f in findings if f.problem}
    assert ("before_consent", "cookie", "tracker", "undeclared") in flagged
    assert ("before_consent", "localStorage", "fp", "undeclared") in flagged
    clean = scan(site + "/", site_policy, browser=browser, settle_ms=50)
    assert [f for f in clean if f.problem] == []
    seen = {(f.stage, f.name, f.category) for f in clean}
    assert ("after_accept", "_pa_visit", "analytics") in seen
    assert not any(f.stage == "after_refuse" and f.name == "_pa_visit" for f in clean)


def test_a_page_that_does_not_load_is_an_error_not_a_clean_scan(
    browser: Any, site_policy: Policy
) -> None:
    with pytest.raises(PledgeError, match="could not load"):
        scan("http://127.0.0.1:9/", site_policy, browser=browser, settle_ms=0)
    with pytest.raises(PledgeError, match="http:// or https://"):
        scan("file:///etc/passwd", site_policy, browser=browser)


def test_pledge_cookies_scan_exits_1_when_something_is_flagged(
    browser: Any, site: str, tmp_path: Path
) -> None:
    # A process of its own: Playwright's sync API runs one driver per thread.
    policy = tmp_path / "site.yaml"
    policy.write_text(site_policy_text(), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pledge.cli.main",
            "cookies",
            "scan",
            site + "/leaky",
            "--policy",
            str(policy),
            "--json",
            "--wait",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    found = json.loads(result.stdout)["findings"]
    assert {"stage": "before_consent", "kind": "cookie", "name": "tracker"}.items() <= next(
        f for f in found if f["name"] == "tracker"
    ).items()
