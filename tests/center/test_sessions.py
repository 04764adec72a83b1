"""The store's sign-in links and sessions, for people and staff: one mechanism, two kinds of
principal that never open each other's doors, links that work once however they are raced."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from center_support import Center

from pledge.errors import PledgeError, SignInInvalid
from pledge.store.sessions import STAFF, SUBJECT

HTML = {"Accept": "text/html"}


def test_a_link_opens_a_session_of_its_own_kind_only(center: Center) -> None:
    vault = center.vault
    staff_link = vault.sign_in_link(STAFF, "staff-1")
    with pytest.raises(SignInInvalid):
        vault.sign_in(staff_link, SUBJECT)
    opened = vault.sign_in(staff_link, STAFF, role="support")
    session = vault.web_session(opened.session_id)
    assert session is not None
    assert (session.kind, session.principal, session.role) == (STAFF, "staff-1", "support")
    assert session.second_factor_at is None
    vault.session_second_factor(session.key, role="billing")
    upgraded = vault.web_session(opened.session_id)
    assert upgraded is not None
    assert upgraded.second_factor_at is not None
    assert upgraded.role == "billing"
    browser = center.browser()
    browser.cookies.set("pledge_session", opened.session_id)
    assert browser.get("/center", headers=HTML, follow_redirects=False).status_code == 303


def test_a_link_clicked_many_times_at_once_opens_one_session(center: Center, faker: Any) -> None:
    subject = center.vault.collect(
        "registration", {"name": faker.name(), "email": faker.email()}, age=30
    ).subject
    token = center.vault.sign_in_link(SUBJECT, subject)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _try(center, token), range(8)))
    assert sum(1 for o in outcomes if not isinstance(o, PledgeError)) == 1
    assert all(isinstance(o, SignInInvalid) for o in outcomes if isinstance(o, PledgeError))


def _try(center: Center, token: str) -> object:
    try:
        return center.vault.sign_in(token, SUBJECT)
    except PledgeError as error:
        return error


def test_ending_a_principals_sessions_ends_all_of_them_and_their_links(center: Center) -> None:
    vault = center.vault
    first = vault.sign_in(vault.sign_in_link(STAFF, "staff-2"), STAFF)
    second = vault.sign_in(vault.sign_in_link(STAFF, "staff-2"), STAFF)
    other = vault.sign_in(vault.sign_in_link(STAFF, "staff-3"), STAFF)
    unused = vault.sign_in_link(STAFF, "staff-2")
    assert vault.end_sessions(STAFF, "staff-2") == 2
    assert vault.web_session(first.session_id) is None
    assert vault.web_session(second.session_id) is None
    assert vault.web_session(other.session_id) is not None
    with pytest.raises(SignInInvalid, match="already used"):
        vault.sign_in(unused, STAFF)


def test_retention_forgets_expired_links_and_ended_sessions(center: Center, clock: Any) -> None:
    vault = center.vault
    live = vault.sign_in(vault.sign_in_link(STAFF, "staff-4"), STAFF)
    ended = vault.sign_in(vault.sign_in_link(STAFF, "staff-5"), STAFF)
    vault.end_session(ended.session.key)
    vault.sign_in_link(STAFF, "staff-6")
    assert vault.run_retention().sign_ins == 1  # the ended session; the links are still live
    clock.advance(minutes=16)
    assert vault.run_retention().sign_ins == 3  # the three links, used or not
    assert vault.web_session(live.session_id) is not None
    clock.advance(hours=2)
    assert vault.run_retention().sign_ins == 1
