"""The staff console in Debian's Chromium: a staff member signs in from the emailed link and
a TOTP code, works the queue, extends a deadline, answers a request, finds a person and reads
their data as a role; axe-core finds no serious or critical violation on any screen, and no
address they typed ends up in a URL. Screenshots of each screen go to the folder printed
(``PLEDGE_SCREENSHOTS`` sets it; CI keeps it as an artifact)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "admin"))
from admin_support import Console, Sink, policy_under
from browser_support import AXE, serve_asgi

from pledge.mail.sender import SmtpTransport
from pledge.mail.settings import MailSettings
from pledge.mail.staff_sign_in import StaffSignInMail
from pledge.store.vault import Vault

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PLEDGE_SCREENSHOTS", tmp_path)) / "admin"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots of the staff console: {folder}")
    return folder


@pytest.fixture
def served(vault_factory: Callable[..., Vault], tmp_path: Path) -> Iterator[tuple[Console, str]]:
    sink = Sink()
    sink.start()
    console = Console.start(vault_factory(policy_under(tmp_path, "gdpr")), sink)
    try:
        with serve_asgi(console.app) as url:
            console.base = url
            console.app.state.staff_sign_in_mail = StaffSignInMail(
                console.vault,
                MailSettings(
                    from_address="Console <console@zabbix.com>",
                    staff_sign_in_url=f"{url}/admin/sign-in",
                ),
                SmtpTransport("127.0.0.1", sink.port, timeout=5),
            )
            yield console, url
    finally:
        sink.stop()


def check_screen(page: Any, shots: Path, name: str) -> None:
    """axe-core over the whole page: no serious or critical violation. And a screenshot."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    assert result["passes"], f"{name}: axe checked nothing"
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], name


def wait_for_link(console: Console, email: str, before: int) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        links = console.links_to(email)
        if len(links) > before:
            return links[-1]
        time.sleep(0.05)
    raise AssertionError("no sign-in link arrived")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_staff_journey_through_the_console(
    browser: Any,
    served: tuple[Console, str],
    shots: Path,
    skip_or_fail: Any,
) -> None:
    if not AXE.exists():
        skip_or_fail("axe-core is not installed: npm install --prefix tests/web --no-audit")
    console, url = served
    vault = console.vault
    ann = console.enrol("ann@zabbix.com", "sales", "support")
    ada = vault.collect("registration", dict(ADA), age=36).subject
    late = vault.open_request(ada, "access")
    vault.clock.advance(days=35)  # type: ignore[attr-defined]
    fresh = vault.open_request(ada, "inquiry", "Which of my orders do you still keep?")

    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    visited: list[str] = []
    page = context.new_page()
    page.on("framenavigated", lambda frame: visited.append(frame.url))

    page.goto(f"{url}/admin/sign-in")
    check_screen(page, shots, "01-sign-in")
    page.keyboard.press("Tab")  # the skip link first, then the form: all by keyboard
    page.fill("#email", ann.email)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Check your email")
    check_screen(page, shots, "02-link-sent")

    page.goto(wait_for_link(console, ann.email, 0))
    check_screen(page, shots, "03-use-link")
    page.click("text=Continue")
    page.wait_for_selector("#code")
    check_screen(page, shots, "04-second-factor")
    page.fill("#code", "000000")
    page.select_option("#role", "sales")
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("text=wrong or was used")
    page.fill("#code", ann.code(vault))
    page.select_option("#role", "sales")
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Requests')")
    check_screen(page, shots, "05-queue")
    assert "Overdue (1)" in page.inner_text("main")
    overdue = page.inner_text("main").index("Overdue")
    assert page.inner_text("main").index(late.request_id[:12]) > overdue

    page.click(f"a:has-text('{fresh.request_id[:12]}')")
    page.wait_for_selector("text=Which of my orders do you still keep?")
    check_screen(page, shots, "06-request")
    page.fill("#text-extend", "Old orders are in the archive; we need a few weeks.")
    page.click("button:has-text('Extend the deadline')")
    page.wait_for_selector("text=(extended)")
    page.fill("#text-answer", "We keep the orders of the last seven years, for tax law.")
    page.click("button:has-text('Send the answer')")
    page.wait_for_selector("dd:has-text('done')")
    check_screen(page, shots, "07-answered")

    page.click("nav >> text=Find a person")
    page.wait_for_selector("#value")
    check_screen(page, shots, "08-lookup")
    page.fill("#value", "ada@example")
    page.click("button:has-text('Find')")
    page.wait_for_selector("text=No one holds exactly that email")
    page.fill("#value", ADA["email"])
    page.click("button:has-text('Find')")
    page.wait_for_selector(f"text={ada}")
    page.select_option("#purpose", "essential.service.operations.support")
    page.click("button:has-text('Show their data')")
    page.wait_for_selector(f"td:has-text('{ADA['email']}')")
    check_screen(page, shots, "09-person")

    page.click("nav >> text=Audit log")
    page.wait_for_selector("text=Verified:")
    page.fill("#seq", "0")
    page.click("button:has-text('Show its inclusion proof')")
    page.wait_for_selector("text=Inclusion proof")
    check_screen(page, shots, "10-audit")
    page.click("nav >> text=Policy")
    page.wait_for_selector("text=under GDPR")
    check_screen(page, shots, "11-policy")

    page.click("button:has-text('Sign out')")
    page.wait_for_selector("text=You are signed out")
    page.goto(f"{url}/admin")
    page.wait_for_selector("h1:has-text('Sign in to the staff console')")
    context.close()

    steps = [s.step for s in vault.requests_of(ada)[0].steps]
    assert steps == ["received", "verified", "extended", "done"]
    for where in visited:
        assert ADA["email"] not in where
        assert "ada%40" not in where.lower()
        assert ann.email not in where
