"""The staff console in-process: signing in with a link and a TOTP code, working the queue,
finding a person and reading their data as a role, and what an attacker tries instead."""

from __future__ import annotations

import pytest
from admin_support import HTML, Console, csrf_of

from pledge.store.sessions import STAFF

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PERSON = {"name": "Ada Lovelace", "email": "ada@example.org"}


def person(console: Console) -> str:
    return console.vault.collect("registration", dict(PERSON), age=30).subject


def test_staff_sign_in_work_the_queue_and_answer(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales", "support")
    subject = person(console)
    opened = console.vault.open_request(subject, "complaint", "Too many emails.")
    client = console.browser()
    console.sign_in(client, ann, "sales")

    queue = client.get("/admin", headers=HTML)
    assert queue.status_code == 200
    assert queue.headers["cache-control"] == "no-store"
    assert "Acting as <strong>sales</strong>" in queue.text
    assert opened.request_id[:12] in queue.text
    shown = client.get(f"/admin/requests/{opened.request_id}", headers=HTML)
    assert "Too many emails." in shown.text
    csrf = csrf_of(shown.text)
    extended = client.post(
        f"/admin/requests/{opened.request_id}/extend",
        data={"csrf": csrf, "text": "We are checking three mail systems."},
        headers=HTML,
    )
    assert extended.status_code == 200  # followed to the request's page
    assert "(extended)" in extended.text
    assert "2024-08-01" in extended.text
    answered = client.post(
        f"/admin/requests/{opened.request_id}/answer",
        data={"csrf": csrf, "text": "Fixed: you get the order updates only."},
        headers=HTML,
    )
    assert "done" in answered.text
    steps = [s.step for s in console.vault.requests_of(subject)[0].steps]
    assert steps == ["received", "verified", "extended", "done"]
    actors = {s.actor for s in console.vault.requests_of(subject)[0].steps[2:]}
    assert actors == {f"staff:{ann.staff_id}"}


def test_a_link_without_the_code_opens_no_console_page(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    client = console.browser()
    console.ask_link(client, ann.email)
    assert console.use_link(client, console.links_to(ann.email)[-1]).status_code == 303
    for path in ("/admin", "/admin/lookup", "/admin/audit", "/admin/policy"):
        page = client.get(path, headers=HTML, follow_redirects=False)
        assert page.status_code == 303, path
        assert page.headers["location"] == "/admin/sign-in"
    api = client.get("/admin")
    assert api.status_code == 401


def test_wrong_and_replayed_codes_are_refused(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    client = console.browser()
    console.ask_link(client, ann.email)
    console.use_link(client, console.links_to(ann.email)[-1])
    code = ann.code(console.vault)
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    refused = console.give_code(client, wrong, "sales")
    assert refused.status_code == 400
    assert "wrong or was used" in refused.text
    assert console.give_code(client, code, "sales").status_code == 303

    # Replayed in another browser with a fresh link: the same code opens nothing.
    other = console.browser()
    console.ask_link(other, ann.email)
    console.use_link(other, console.links_to(ann.email)[-1])
    assert console.give_code(other, code, "sales").status_code == 400
    assert other.get("/admin", headers=HTML, follow_redirects=False).status_code == 303
    console.vault.clock.advance(seconds=30)  # type: ignore[attr-defined]
    assert console.give_code(other, ann.code(console.vault), "sales").status_code == 303
    outcomes = [
        e["detail"]["outcome"]
        for e in _entries(console, "staff_second_factor")
        if e["actor"] == f"staff:{ann.staff_id}"
    ]
    assert outcomes == ["wrong", "passed", "reused", "passed"]


def test_a_role_the_staff_member_does_not_hold_is_refused(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "support")
    client = console.browser()
    console.ask_link(client, ann.email)
    console.use_link(client, console.links_to(ann.email)[-1])
    refused = console.give_code(client, ann.code(console.vault), "marketing")
    assert refused.status_code == 400
    assert "may not act as that role" in refused.text


def test_five_wrong_codes_lock_the_second_factor(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    client = console.browser()
    console.ask_link(client, ann.email)
    console.use_link(client, console.links_to(ann.email)[-1])
    for _ in range(5):
        console.give_code(client, "000000", "sales")
    locked = console.give_code(client, ann.code(console.vault), "sales")
    assert locked.status_code == 400
    assert "too many wrong codes" in locked.text.lower()


def test_a_persons_sign_in_link_and_session_open_no_staff_page(console: Console) -> None:
    subject = person(console)
    token = console.vault.sign_in_link("subject", subject)
    client = console.browser()
    page = client.get(f"/admin/sign-in/{token}", headers=HTML)
    used = client.post(
        f"/admin/sign-in/{token}",
        data={"csrf": csrf_of(page.text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert used.status_code == 400
    assert client.get("/admin/second-factor", follow_redirects=False).status_code == 401
    assert STAFF == "staff"


def test_forms_without_their_csrf_token_do_nothing(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    subject = person(console)
    opened = console.vault.open_request(subject, "inquiry", "Why?")
    client = console.browser()
    console.sign_in(client, ann, "sales")
    for data in ({"text": "x"}, {"text": "x", "csrf": "forged"}):
        refused = client.post(
            f"/admin/requests/{opened.request_id}/answer", data=data, headers=HTML
        )
        assert refused.status_code == 403
    cross = client.post(
        f"/admin/requests/{opened.request_id}/answer",
        data={"text": "x", "csrf": csrf_of(client.get("/admin", headers=HTML).text)},
        headers={**HTML, "Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    lookup = client.post("/admin/lookup", data={"kind": "email", "value": PERSON["email"]})
    assert lookup.status_code == 403
    assert console.vault.request(opened.request_id, actor="test").state == "verified"


def test_lookup_is_exact_and_a_part_of_a_value_finds_no_one(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    subject = person(console)
    client = console.browser()
    console.sign_in(client, ann, "sales")
    csrf = csrf_of(client.get("/admin/lookup", headers=HTML).text)
    for partial in ("ada", "ada@", "example.org", "%", "*@example.org", "ada@example.or"):
        page = client.post(
            "/admin/lookup", data={"csrf": csrf, "kind": "email", "value": partial}, headers=HTML
        )
        assert subject not in page.text, partial
        assert "No one holds exactly that email" in page.text
    found = client.post(
        "/admin/lookup",
        data={"csrf": csrf, "kind": "email", "value": "ADA@example.org"},
        headers=HTML,
    )
    assert subject in found.text
    assert PERSON["email"] not in str(found.url)


def test_a_role_sees_data_only_through_a_purpose_it_holds(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "support")
    subject = person(console)
    client = console.browser()
    console.sign_in(client, ann, "support")
    csrf = csrf_of(client.get("/admin/lookup", headers=HTML).text)
    held = client.post(
        "/admin/subject",
        data={"csrf": csrf, "subject": subject, "purpose": "essential.service.operations.support"},
        headers=HTML,
    )
    assert held.status_code == 200
    assert PERSON["email"] in held.text
    for purpose in ("marketing.communications.email", "essential.service.payment_processing"):
        refused = client.post(
            "/admin/subject",
            data={"csrf": csrf, "subject": subject, "purpose": purpose},
            headers=HTML,
        )
        assert refused.status_code == 403, purpose
        assert PERSON["email"] not in refused.text
        assert PERSON["name"] not in refused.text
    reads = [e for e in console.vault.audit_entries_for(subject) if e["action"] == "read"]
    who = f"staff:{ann.staff_id} as role 'support'"
    assert [(e["actor"], bool(e["detail"]["released"])) for e in reads] == [
        (who, True),
        (who, False),  # the refusals are on record too
        (who, False),
    ]


def test_audit_and_policy_pages(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    person(console)
    client = console.browser()
    console.sign_in(client, ann, "sales")
    audit = client.get("/admin/audit", headers=HTML)
    assert "Verified:" in audit.text
    proof = client.post(
        "/admin/audit/proof", data={"csrf": csrf_of(audit.text), "seq": "0"}, headers=HTML
    )
    assert "Inclusion proof" in proof.text
    assert "leaf_index&#34;: 0," in proof.text
    policy = client.get("/admin/policy", headers=HTML)
    assert "under GDPR" in policy.text
    assert "sales (you)" in policy.text


def test_staff_sign_in_answers_alike_for_unknown_addresses(console: Console) -> None:
    console.enrol("ann@zabbix.com", "sales")
    client = console.browser()
    known = console.ask_link(client, "ann@zabbix.com")
    unknown = console.ask_link(client, "nobody@zabbix.com")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert console.links_to("nobody@zabbix.com") == []


def _entries(console: Console, action: str) -> list[dict[str, object]]:
    vault = console.vault
    vault.audit.sync()
    size = vault.verify_audit().entries
    found = []
    for seq in range(size):
        entry = vault.audit.entry(vault.engine, seq)
        if entry["action"] == action:
            found.append(entry)
    return found


def test_what_a_person_wrote_is_shown_as_text_never_as_markup(console: Console) -> None:
    ann = console.enrol("ann@zabbix.com", "sales")
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\u202e\x00'
    opened = console.vault.open_request(person(console), "complaint", hostile)
    client = console.browser()
    console.sign_in(client, ann, "sales")
    page = client.get(f"/admin/requests/{opened.request_id}", headers=HTML)
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
