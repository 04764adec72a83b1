"""The privacy center in a real browser (Debian's headless Chromium through Playwright), one
journey per example policy: sign in from the emailed link, see the data with its reasons,
correct a field, change a choice and see the email gate follow it, verify a disclosure's
proof in the page (WebCrypto), download, delete and see what is kept. axe-core checks every
screen; one journey is made with the keyboard alone. Screenshots of every page go to the
folder the run prints at its end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import AXE, serious_violations
from center_support import (
    Center,
    Plan,
    Sink,
    carry_out_erasure,
    collect_person,
    disclose_something,
    gate_decision,
    plan_for,
    policy_text,
)

from pledge.store.keys import LocalKeyFileProvider
from pledge.store.vault import Vault

POLICIES = ["zabbix", "zimbra", "webix", "3cx", "bitrix"]


@pytest.fixture
def served(tmp_path: Path, sink: Sink, request: pytest.FixtureRequest) -> Iterator[Center]:
    """The service over a SQLite vault of the test's policy, served on 127.0.0.1."""
    callspec = getattr(request.node, "callspec", None)
    name = callspec.params.get("policy", "zimbra") if callspec else "zimbra"
    vault = Vault.open(
        f"sqlite:///{tmp_path / 'pledge.sqlite3'}",
        LocalKeyFileProvider(tmp_path / "master.key", create=True),
        policy_text(name),
        policy_file=f"{name}.yaml",
    )
    center = Center.start(vault, sink)
    with center.serve():
        yield center
    vault.close()


class Screens:
    """Takes each screen's screenshot and checks it with axe-core."""

    def __init__(self, page: Any, folder: Path, prefix: str, skip_or_fail: Any) -> None:
        if not AXE.exists():
            skip_or_fail("axe-core is not installed: npm install --prefix tests/web")
        self.page, self.folder, self.prefix, self.n = page, folder, prefix, 0

    def check(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(
            path=str(self.folder / f"{self.prefix}-{self.n:02d}-{name}.png"), full_page=True
        )
        assert serious_violations(self.page) == [], f"{self.prefix}: {name}"


def sign_in(page: Any, center: Center, email: str, screens: Screens) -> None:
    page.goto(center.base + "/sign-in")
    screens.check("sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    screens.check("link-sent")
    page.goto(center.link_for(email))
    screens.check("sign-in-confirm")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(center.base + "/center")


@pytest.mark.parametrize("policy", POLICIES)
def test_a_persons_journey_through_the_privacy_center(
    policy: str,
    served: Center,
    browser: Any,
    screenshots: Path,
    skip_or_fail: Any,
    tmp_path: Path,
) -> None:
    center, vault = served, served.vault
    plan = plan_for(vault)
    email = f"journey.{policy}@example.com"
    subject = collect_person(vault, plan, 1, email)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    screens = Screens(page, screenshots, policy, skip_or_fail)

    sign_in(page, center, email, screens)
    assert page.get_by_role("heading", name="Your data", exact=True).is_visible()
    assert page.get_by_text(email).first.is_visible()
    assert page.get_by_text("Legal basis").first.is_visible()
    screens.check("your-data")

    page.get_by_role("link", name="Correct").click()
    name_field = next(d["field"] for d in vault.export(subject)["data"] if d["value"] == "Person 1")
    page.get_by_label("What to correct").select_option(name_field)
    page.get_by_label("The right value").fill("Ada Lovelace")
    page.get_by_role("button", name="Correct it").click()
    page.get_by_text("Corrected:").wait_for()
    assert any(d["value"] == "Ada Lovelace" for d in vault.export(subject)["data"])
    screens.check("corrected")

    assert gate_decision(vault, plan, subject, center.sink, tmp_path / "t") == "queued"
    page.get_by_role("link", name="Choices").click()
    screens.check("choices")
    box = page.locator(f'input[name="on"][value="purpose:{plan.purpose}"]')
    assert box.is_checked()
    box.uncheck()
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_text("Saved: 1 change").wait_for()
    assert gate_decision(vault, plan, subject, center.sink, tmp_path / "t") != "queued"
    screens.check("choices-saved")

    recipient = disclose_something(vault, subject)
    page.get_by_role("link", name="Disclosures").click()
    page.wait_for_load_state("load")  # the script is in (it is what the button runs)
    page.get_by_role("button", name="Verify entry").first.click()
    result = page.locator(".proof-result").first
    page.wait_for_function("() => document.querySelector('.proof-result').dataset.verified")
    assert result.get_attribute("data-verified") == "true", result.inner_text()
    assert recipient in result.inner_text()
    screens.check("disclosure-verified")

    page.get_by_role("link", name="Download").click()
    screens.check("download")
    with page.expect_download() as download:
        page.get_by_role("link", name="Your data as JSON").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert email in {d["value"] for d in data["data"]}

    page.get_by_role("link", name="Delete").click()
    assert page.get_by_role("heading", name="Kept because the law requires it").is_visible()
    screens.check("delete")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="my data").click()
    page.get_by_text("is received").wait_for()
    screens.check("erasure-requested")
    page.get_by_role("navigation").get_by_role("link", name="Requests").click()
    page.get_by_role("rowheader", name="Delete your data").wait_for()
    screens.check("requests")
    carry_out_erasure(vault, subject)  # staff answer it
    page.goto(center.base + "/center")
    assert page.url == center.base + "/sign-in"
    context.close()


def test_the_journey_by_keyboard_alone(
    served: Center, browser: Any, screenshots: Path, skip_or_fail: Any, tmp_path: Path
) -> None:
    center, vault = served, served.vault
    plan: Plan = plan_for(vault)
    email = "keys@example.com"
    subject = collect_person(vault, plan, 3, email)
    context = browser.new_context()
    page = context.new_page()
    screens = Screens(page, screenshots, "keyboard", skip_or_fail)

    page.goto(center.base + "/sign-in")
    press_until(page, "#email")
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check your email").wait_for()
    page.goto(center.link_for(email))
    press_until(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(center.base + "/center")
    screens.check("signed-in")

    press_until(page, 'a[href="/center/choices"]')
    page.keyboard.press("Enter")
    page.wait_for_url(center.base + "/center/choices")
    press_until(page, f'input[value="purpose:{plan.purpose}"]')
    page.keyboard.press("Space")
    press_until(page, "form[action='/center/choices'] button[type=submit]")
    page.keyboard.press("Enter")
    page.get_by_text("Saved: 1 change").wait_for()
    assert gate_decision(vault, plan, subject, center.sink, tmp_path / "t") != "queued"
    focus = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focus != "none" or page.evaluate("() => document.activeElement === document.body")
    screens.check("choices-by-keyboard")
    press_until(page, "form.sign-out button")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="You are signed out").wait_for()
    screens.check("signed-out")
    page.goto(center.base + "/center/choices")  # the session is gone: back to signing in
    assert page.url == center.base + "/sign-in"
    context.close()


def press_until(page: Any, selector: str, limit: int = 60) -> None:
    """Tab until ``selector`` has the focus (the only way a keyboard user gets there)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{selector} shows no focus"
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")
