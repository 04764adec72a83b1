"""Signing in to the privacy center by a one-time link sent over real SMTP, and the session
that follows: what a person can do, and what an attacker cannot (replay, expiry, CSRF,
enumeration, another person's session)."""

from __future__ import annotations

from typing import Any

from center_support import Center, csrf_of
from sqlalchemy import select

from pledge.store.schema import web_sessions
from pledge.store.sessions import session_key

HTML = {"Accept": "text/html"}


def _person(center: Center, person: Any) -> str:
    collected = center.vault.collect(
        "registration", {"name": person.name, "email": person.email}, age=30
    )
    return collected.subject


def test_a_person_signs_in_from_the_emailed_link(center: Center, person_factory: Any) -> None:
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.sign_in(browser, person.email)
    home = browser.get("/center", headers=HTML)
    assert home.status_code == 200
    assert "Your data" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in home.headers["content-security-policy"]
    assert home.headers["referrer-policy"] == "no-referrer"
    message = center.sink.received[-1].message
    assert "sign-in link" in str(message["Subject"]).lower()


def test_the_link_works_once_and_only_for_fifteen_minutes(
    center: Center, person_factory: Any, clock: Any
) -> None:
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.ask_link(browser, person.email)
    center.ask_link(browser, person.email)
    first, second = center.links_to(person.email)
    assert center.follow(browser, first).status_code == 303
    replayed = center.follow(center.browser(), first)
    assert replayed.status_code == 400
    assert "already used" in replayed.text
    clock.advance(minutes=15, seconds=1)
    expired = center.follow(center.browser(), second)
    assert expired.status_code == 400
    assert "expired" in expired.text
    forged = center.follow(center.browser(), first[:-3] + "AAA")
    assert forged.status_code == 400


def test_the_answer_is_the_same_whether_the_address_is_held_or_not(
    center: Center, person_factory: Any
) -> None:
    person, stranger = person_factory(), person_factory()
    _person(center, person)
    held = center.ask_link(center.browser(), person.email)
    unheld = center.ask_link(center.browser(), stranger.email)
    assert held.status_code == unheld.status_code == 200
    assert held.text == unheld.text
    assert not center.links_to(stranger.email)
    assert len(center.links_to(person.email)) == 1


def test_asking_is_limited_per_address_alike_for_held_and_unheld_addresses(
    vault_factory: Any, sink: Any, person_factory: Any
) -> None:
    center = Center.start(vault_factory("zabbix"), sink, sign_ins_per_address=2)
    person, stranger = person_factory(), person_factory()
    _person(center, person)
    for email in (person.email, stranger.email):
        codes = [center.ask_link(center.browser(), email).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    assert len(center.links_to(person.email)) == 2


def test_a_form_without_its_csrf_token_does_nothing(center: Center, person_factory: Any) -> None:
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.sign_in(browser, person.email)
    refused = browser.post("/sign-out", data={}, headers=HTML)
    assert refused.status_code == 403
    forged = browser.post("/sign-out", data={"csrf": "x" * 32}, headers=HTML)
    assert forged.status_code == 403
    cross_site = browser.post(
        "/sign-out",
        data={"csrf": csrf_of(browser.get("/center", headers=HTML).text)},
        headers={**HTML, "Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert browser.get("/center", headers=HTML).status_code == 200  # still signed in


def test_signing_out_ends_the_session_in_the_store(center: Center, person_factory: Any) -> None:
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.sign_in(browser, person.email)
    session_id = browser.cookies.get("pledge_session")
    assert session_id
    token = csrf_of(browser.get("/center", headers=HTML).text)
    assert browser.post("/sign-out", data={"csrf": token}, headers=HTML).status_code == 200
    again = center.browser()
    again.cookies.set("pledge_session", session_id)
    assert again.get("/center", headers=HTML, follow_redirects=False).status_code == 303
    with center.vault.snapshot() as connection:
        row = connection.execute(
            select(web_sessions).where(web_sessions.c.session_hash == session_key(session_id))
        ).one()
    assert row.revoked_at is not None
    assert session_id not in str(row._mapping)  # only its hash is stored


def test_a_session_expires(center: Center, person_factory: Any, clock: Any) -> None:
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.sign_in(browser, person.email)
    clock.advance(hours=2, seconds=1)
    gone = browser.get("/center", headers=HTML, follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"] == "/sign-in"


def test_over_https_the_cookie_is_secure_host_only_and_not_for_scripts(
    vault_factory: Any, sink: Any, person_factory: Any
) -> None:
    center = Center.start(vault_factory("zabbix"), sink, base="https://testserver")
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.ask_link(browser, person.email)
    page = browser.get(center.links_to(person.email)[0].removeprefix(center.base), headers=HTML)
    done = browser.post(
        page.url.path, data={"csrf": csrf_of(page.text)}, headers=HTML, follow_redirects=False
    )
    cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith("__Host-pledge_session=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "path"} <= attributes
    assert "samesite=lax" in cookie.lower()
    assert "domain" not in attributes


def test_an_erased_persons_link_opens_nothing(center: Center, person_factory: Any) -> None:
    person = person_factory()
    subject = _person(center, person)
    browser = center.browser()
    center.ask_link(browser, person.email)
    center.vault.erase(subject)
    assert center.follow(browser, center.links_to(person.email)[0]).status_code >= 400


def test_the_development_mailbox_exists_only_in_development_mode(center: Center) -> None:
    assert center.browser().get("/dev/mailbox", headers=HTML).status_code == 404


def test_asking_is_limited_per_client_too(
    vault_factory: Any, sink: Any, person_factory: Any
) -> None:
    center = Center.start(vault_factory("zabbix"), sink, sign_ins_per_client=3)
    browser = center.browser()
    codes = [center.ask_link(browser, person_factory().email).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_person_already_signed_in_goes_from_the_sign_in_page_to_their_data(
    center: Center, person_factory: Any
) -> None:
    person = person_factory()
    _person(center, person)
    browser = center.browser()
    center.sign_in(browser, person.email)
    again = browser.get("/sign-in", headers=HTML, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/center"
