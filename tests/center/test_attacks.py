"""An attacker with a session of their own: every page and action of the privacy center,
tried with the other person's ids and values, shows and changes only the attacker's data.
No personal data in any URL, log line or Referer."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from center_support import Center, Sink, collect_person, csrf_of, disclose_something, plan_for
from center_support import policy_text as example_text

HTML = {"Accept": "text/html"}
PAGES = [
    "/center",
    "/center/download",
    "/center/download/data.json",
    "/center/download/data.html",
    "/center/correct",
    "/center/choices",
    "/center/disclosures",
    "/center/delete",
    "/center/requests",
    "/center/disclosures/0/proof",
]


def test_one_persons_session_never_reaches_anothers_data(
    vault_factory: Any, sink: Sink, tmp_path: Path, log_text: io.StringIO
) -> None:
    path = tmp_path / "zimbra.yaml"
    path.write_text(example_text("zimbra"), encoding="utf-8")
    center = Center.start(vault_factory(path), sink)
    vault = center.vault
    plan = plan_for(vault)
    mallory = collect_person(vault, plan, 1, "mallory@example.com")
    alice = collect_person(vault, plan, 2, "alice@example.com")
    disclose_something(vault, alice)
    disclose_something(vault, alice)
    disclose_something(vault, mallory)
    alice_before = vault.export(alice)
    browser = center.browser()
    center.sign_in(browser, "mallory@example.com")
    linked: list[str] = []  # every URL the pages link, post or redirect to

    def visit(url: str, **params: str) -> Any:
        response = browser.get(url, params=params, headers=HTML)
        linked.extend(re.findall(r'(?:href|action|src|data-proof)="([^"]*)"', response.text))
        assert "alice@example.com" not in response.text, url
        assert "Person 2" not in response.text, url
        assert alice not in response.text, url
        return response

    for page in PAGES:
        assert visit(page).status_code == 200, page
        visit(page, subject=alice, subject_id=alice, email="alice@example.com")
    for index in (1, 2, 3, -1, 99):
        assert visit(f"/center/disclosures/{index}/proof").status_code in (404, 422)

    token = csrf_of(visit("/center/correct").text)
    for field in ("name", "email"):
        browser.post(
            "/center/correct",
            params={"subject": alice},
            data={"csrf": token, "field": field, "value": "owned@example.com", "subject": alice},
            headers=HTML,
        )
    browser.post(
        "/center/choices",
        data={"csrf": token, "shown": f"purpose:{plan.purpose}", "subject": alice},
        headers=HTML,
    )
    browser.post("/center/choices/stop", data={"csrf": token, "subject": alice}, headers=HTML)
    browser.post(
        "/center/delete", data={"csrf": token, "confirm": "yes", "subject": alice}, headers=HTML
    )
    browser.post(
        "/center/requests",
        data={"csrf": token, "kind": "complaint", "text": "hi", "subject": alice},
        headers=HTML,
    )

    alice_after = vault.export(alice)
    assert alice_after["data"] == alice_before["data"]
    assert alice_after["choices"] == alice_before["choices"]
    assert vault.requests_of(alice) == []
    assert {r.kind for r in vault.requests_of(mallory)} >= {"erase", "complaint"}

    secrets = ["alice@example.com", "mallory@example.com", alice, mallory, "Person 1", "Person 2"]
    linked += [r.headers.get("location", "") for r in browser.get("/center").history]
    assert linked
    assert not [s for s in secrets for url in linked if s in url]
    # Pledge's lines and the server's; not the test's SMTP server or HTTP client.
    logged = "\n".join(
        line
        for line in log_text.getvalue().splitlines()
        if json.loads(line).get("logger", "").startswith(("pledge", "uvicorn"))
    )
    assert logged, "no log lines were captured"
    assert not [s for s in secrets if s in logged]
    for sent in center.links_to("mallory@example.com"):
        assert sent.rsplit("/", 1)[1] not in logged  # the sign-in token is not logged


def test_every_page_sends_no_referer_onward_and_is_never_cached(
    center: Center, person_factory: Any
) -> None:
    person = person_factory()
    center.vault.collect("registration", {"name": person.name, "email": person.email}, age=30)
    browser = center.browser()
    center.sign_in(browser, person.email)
    for page in ["/sign-in", *PAGES[:-1]]:
        response = browser.get(page, headers=HTML)
        assert response.headers["cache-control"] == "no-store", page
        if response.headers["content-type"].startswith("text/html"):
            assert response.headers["referrer-policy"] == "no-referrer", page
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
