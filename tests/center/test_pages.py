"""The privacy center's pages in-process, on each example policy: what a signed-in person
sees and does, and that each page acts on their data and no one else's."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from center_support import (
    Center,
    Sink,
    carry_out_erasure,
    collect_person,
    csrf_of,
    disclose_something,
    gate_decision,
    plan_for,
    policy_text,
)

from pledge.store.audit import merkle
from pledge.store.audit.checkpoint import Checkpoint
from pledge.store.vault import Vault

HTML = {"Accept": "text/html"}
POLICIES = ["zabbix", "zimbra", "webix", "3cx", "bitrix"]


@pytest.fixture
def open_center(vault_factory: Any, sink: Sink, tmp_path: Path) -> Any:
    def make(policy: str) -> Center:
        path = tmp_path / f"{policy}.yaml"
        path.write_text(policy_text(policy), encoding="utf-8")
        return Center.start(vault_factory(path), sink)

    return make


def _values(vault: Vault, subject: str) -> dict[str, str]:
    return {f"{d['point']}.{d['field']}": d["value"] for d in vault.export(subject)["data"]}


@pytest.mark.parametrize("policy", POLICIES)
def test_a_person_sees_corrects_chooses_checks_downloads_and_deletes(
    policy: str, open_center: Any, tmp_path: Path
) -> None:
    center: Center = open_center(policy)
    vault = center.vault
    plan = plan_for(vault)
    email = f"ada.{policy}@example.com"
    subject = collect_person(vault, plan, 1, email)
    browser = center.browser()
    center.sign_in(browser, email)

    data = browser.get("/center", headers=HTML)
    assert data.status_code == 200
    assert email in data.text
    assert "Legal basis" in data.text
    assert "Who may see it" in data.text

    page = browser.get("/center/correct", headers=HTML)
    name_field = next(
        k.partition(".")[2] for k, v in _values(vault, subject).items() if v == "Person 1"
    )
    fixed = browser.post(
        "/center/correct",
        data={"csrf": csrf_of(page.text), "field": name_field, "value": "Ada Lovelace"},
        headers=HTML,
    )
    assert fixed.status_code == 200, fixed.text
    assert "Ada Lovelace" in _values(vault, subject).values()
    assert any(e["action"] == "rectify" for e in vault.audit_entries_for(subject))

    assert gate_decision(vault, plan, subject, center.sink, tmp_path / "t") == "queued"
    choices = browser.get("/center/choices", headers=HTML)
    key = f"purpose:{plan.purpose}"
    assert key in choices.text
    saved = browser.post(
        "/center/choices",
        data={"csrf": csrf_of(choices.text), "shown": key},
        headers=HTML,
    )
    assert "Saved: 1 change" in saved.text
    assert gate_decision(vault, plan, subject, center.sink, tmp_path / "t") != "queued"

    recipient = disclose_something(vault, subject)
    listed = browser.get("/center/disclosures", headers=HTML)
    assert recipient.replace("_", " ") in listed.text
    proof = browser.get("/center/disclosures/0/proof").json()
    _check_proof(proof)

    download = browser.get("/center/download/data.json")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["cache-control"] == "no-store"
    assert email in json.loads(download.text)["data"][0]["value"] or any(
        d["value"] == email for d in json.loads(download.text)["data"]
    )
    readable = browser.get("/center/download/data.html")
    assert email in readable.text

    before = browser.get("/center/delete", headers=HTML)
    assert "Kept because the law requires it" in before.text
    done = browser.post(
        "/center/delete", data={"csrf": csrf_of(before.text), "confirm": "yes"}, headers=HTML
    )
    assert done.status_code == 200, done.text
    assert "is received" in done.text
    listed = browser.get("/center/requests", headers=HTML).text
    assert "Delete your data" in listed
    assert "Download your data" in listed  # the download was an export answered at once
    assert "Correct your data" in listed
    carry_out_erasure(vault, subject)
    assert browser.get("/center", headers=HTML, follow_redirects=False).status_code == 303


def _check_proof(proof: dict[str, Any]) -> None:
    """What the page's script checks, checked again here with the store's own code."""
    entry = base64.b64decode(proof["entry_bytes"])
    assert json.loads(entry.partition(b"\n")[2])["action"] == "disclose"
    leaf = merkle.leaf_hash(entry)
    path = [bytes.fromhex(h) for h in proof["proof"]]
    root = bytes.fromhex(proof["root"])
    assert merkle.verify_inclusion(leaf, proof["leaf_index"], proof["tree_size"], path, root)
    body = proof["checkpoint"].partition("\n\n")[0]
    assert base64.b64decode(body.splitlines()[2]) == root
    assert Checkpoint  # the signature is checked by the browser test with WebCrypto


def test_bitrix_explains_what_deactivation_keeps_before_it_happens(open_center: Any) -> None:
    center: Center = open_center("bitrix")
    plan = plan_for(center.vault)
    subject = collect_person(center.vault, plan, 2, "kept@example.com")
    browser = center.browser()
    center.sign_in(browser, "kept@example.com")
    before = browser.get("/center/delete", headers=HTML)
    assert "Deactivate your data" in before.text
    assert "1095 days" in before.text
    assert "Legal compliance" in before.text
    done = browser.post(
        "/center/delete", data={"csrf": csrf_of(before.text), "confirm": "yes"}, headers=HTML
    )
    assert "Your request to deactivate your data is received" in done.text
    carry_out_erasure(center.vault, subject)
    assert center.vault.find("email", "kept@example.com") is None


def test_a_complaint_and_an_inquiry_are_requests_with_a_deadline(open_center: Any) -> None:
    center: Center = open_center("bitrix")
    subject = collect_person(center.vault, plan_for(center.vault), 3, "asks@example.com")
    browser = center.browser()
    center.sign_in(browser, "asks@example.com")
    page = browser.get("/center/requests", headers=HTML)
    for kind in ("complaint", "inquiry"):
        sent = browser.post(
            "/center/requests",
            data={"csrf": csrf_of(page.text), "kind": kind, "text": f"My {kind} <b>here</b>"},
            headers=HTML,
        )
        assert sent.status_code == 200
        assert "Received" in sent.text
        assert f"My {kind} &lt;b&gt;here&lt;/b&gt;" in sent.text  # shown as text
    kinds = {r.kind: r for r in center.vault.requests_of(subject)}
    assert set(kinds) == {"complaint", "inquiry"}
    assert all(r.state == "verified" for r in kinds.values())
    assert all(r.respond_by > r.received_at.date() for r in kinds.values())
    empty = browser.post(
        "/center/requests",
        data={"csrf": csrf_of(page.text), "kind": "complaint", "text": "  "},
        headers=HTML,
    )
    assert empty.status_code == 422
