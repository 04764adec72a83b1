"""Lint: what a policy leaves out, where it contradicts itself, how vague it is; and never a
false "missing" for what the five seeds and their policy files do say."""

from __future__ import annotations

import re

import pytest
from text_support import EXAMPLES, ROOT, SEEDS, seed_document

from pledge.policy import load_policy
from pledge.text.lint import DISCLOSURES, lint_policy, lint_text, serious
from pledge.text.segment import read_document, read_file

BASICS = {"controller", "purposes", "recipients"}
DISCLOSED = {
    "zabbix": BASICS | {"children", "right_object", "can_spam_opt_out"},
    "zimbra": BASICS | {"children", "right_access", "right_rectify", "right_erase"},
    "webix": BASICS | {"right_object", "can_spam_opt_out"},
    "3cx": BASICS | {"right_rectify", "right_object", "can_spam_opt_out"},
    "bitrix": BASICS
    | {"transfers", "right_access", "right_rectify", "right_object", "third_party_tracking"}
    | {"can_spam_opt_out"},
}

COMPLETE = """\
Lantern Books Ltd, 4 Quay Street, Galway, Ireland, is responsible for your data; write to
privacy@lanternbooks.example with any request.

We collect your name and email address when you order. We use them to deliver your order,
which is the legal basis (performance of a contract), and with your consent to send our
newsletter. Giving your address is required to deliver; your phone number is optional.

We share your name and address with our courier, a service provider acting on our behalf.
We do not transfer your data outside the European Union. Other companies do not track you
across sites on our pages: third parties do not collect data about your visits. We do not
respond to Do Not Track signals because we do not track you.

We keep order records for 6 years and delete them after that. You can access, correct,
delete or export a copy of your data, restrict its processing, object to its use, and
withdraw your consent at any time by clicking unsubscribe in any email. You can complain to
the Data Protection Commission, the supervisory authority.

We do not knowingly collect data from children under 13.
"""


@pytest.mark.parametrize("name", SEEDS)
def test_no_false_missing_on_what_each_seed_discloses(name: str) -> None:
    missing = {f.code.removeprefix("missing.") for f in lint_text(seed_document(name))}
    assert not (DISCLOSED[name] & missing)


@pytest.mark.parametrize("name", SEEDS)
def test_no_false_missing_on_the_example_policy_files(name: str) -> None:
    policy = load_policy(EXAMPLES / f"{name}.yaml").policy
    codes = {f.code for f in lint_policy(policy)}
    offered = {r.value for r in policy.rights.offered}
    for right in ("access", "rectify", "erase"):
        assert (f"missing.right_{right}" in codes) == (right not in offered), right
    keeps = bool(policy.retention or policy.legal_holds)
    assert ("missing.retention" in codes) == (not keeps)
    gated = any(p.min_age for p in policy.collection_points.values())
    assert ("missing.children" in codes) == (not gated)
    marketing = any(c.message_class.value == "marketing" for c in policy.communications.values())
    no_address = policy.organisation.postal_address is None
    assert ("missing.postal_address" in codes) == (marketing and no_address)


def test_a_complete_text_has_nothing_missing_and_nothing_serious() -> None:
    findings = lint_text(read_document(COMPLETE))
    assert not [f.code for f in findings if f.code.startswith("missing.")]
    assert not serious(findings)


@pytest.mark.parametrize("item", [d.code for d in DISCLOSURES])
def test_each_item_is_reported_missing_when_its_sentence_is_removed(item: str) -> None:
    """The attacker's test of the complete text: drop what says the item, and it is missing."""
    cue = re.compile(next(d.cue for d in DISCLOSURES if d.code == item), re.I)
    document = read_document(COMPLETE)
    kept = [s.plain for s in document.sentences if not cue.search(s.plain)]
    findings = lint_text(read_document(" ".join(kept) + " Thank you for reading this."))
    assert f"missing.{item}" in {f.code for f in findings}


def test_a_contradiction_cites_both_sentences() -> None:
    text = (
        "We do not share your email address with third parties. "
        "We collect your email address when you sign up. "
        "We share your email address with advertisers to show you offers."
    )
    document = read_document(text)
    found = [f for f in lint_text(document) if f.code == "contradiction.share"]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == "serious"
    first, second = finding.sentences
    assert first.text == "We do not share your email address with third parties."
    assert second.text == "We share your email address with advertisers to show you offers."
    assert text[second.start : second.end] == second.text
    assert "advertiser" in finding.message


def test_a_stated_exception_for_processors_is_only_a_warning() -> None:
    text = (
        "We do not sell your personal information to anyone. "
        "We collect your name when you order. "
        "We share your name with our payment processor to process payments."
    )
    found = [f for f in lint_text(read_document(text)) if f.code.startswith("contradiction")]
    assert [f.severity for f in found] == ["warning"]


def test_different_data_is_no_contradiction() -> None:
    text = (
        "We do not share your email address with third parties. "
        "We share your IP address with our hosting provider to run the site."
    )
    codes = {f.code for f in lint_text(read_document(text))}
    assert "contradiction.share" not in codes


def test_vague_wording_is_counted_with_its_places() -> None:
    text = (
        "We may use certain information from time to time. "
        "We collect your name. "
        "We might share some data such as your email address."
    )
    document = read_document(text)
    (vague,) = [f for f in lint_text(document) if f.code == "vague_wording"]
    assert vague.severity == "info"
    assert vague.details["counts"] == {
        "may": 1, "certain": 1, "from time to time": 1, "might": 1, "some": 1, "such as": 1,
    }  # fmt: skip
    places = [(p["start"], p["terms"]) for p in vague.details["places"]]
    assert places == [(0, 3), (document.sentences[2].start, 3)]


@pytest.mark.parametrize(
    "sentence",
    [
        "You can ask to see the personal data we hold about you.",
        "You may request the information that we keep about you.",
        "Write to us to know what personal data we hold.",
        "You have the right to obtain the data held about you.",
    ],
)
def test_the_right_of_access_in_plain_words_is_found(sentence: str) -> None:
    codes = {f.code for f in lint_text(read_document(sentence))}
    assert "missing.right_access" not in codes


def test_seeing_something_else_is_not_the_right_of_access() -> None:
    text = "You can see our prices on the website. We receive data from partners."
    codes = {f.code for f in lint_text(read_document(text))}
    assert "missing.right_access" in codes


def test_the_example_text_says_the_right_of_access() -> None:
    document = read_file(ROOT / "examples" / "texts" / "privacy.md")
    assert "missing.right_access" not in {f.code for f in lint_text(document)}


def contradicted(text: str) -> list[tuple[str, str, str]]:
    return [
        (f.severity, f.sentences[0].plain, f.sentences[1].plain)
        for f in lint_text(read_document(text))
        if f.code.startswith("contradiction")
    ]


def test_a_refusal_without_a_recipient_is_contradicted_by_sharing() -> None:
    found = contradicted(
        "We never share your email address. We share your email address with advertisers."
    )
    assert [s for s, _, _ in found] == ["serious"]


def test_it_in_a_refusal_is_the_data_of_the_sentence_before() -> None:
    text = (
        "We ask for your phone number when you order. We never share it with anyone.\n\n"
        "We give your phone number to advertisers so they can call you."
    )
    found = contradicted(text)
    assert len(found) == 1
    severity, refusal, claim = found[0]
    assert (refusal, claim) == (
        "We never share it with anyone.",
        "We give your phone number to advertisers so they can call you.",
    )
    assert severity == "warning"  # "it" is read, not said: a warning, not a serious finding


def test_it_does_not_reach_into_another_paragraph() -> None:
    text = (
        "We ask for your phone number when you order.\n\n"
        "We never share it with anyone.\n\n"
        "We give your phone number to advertisers."
    )
    assert contradicted(text) == []


def test_information_in_general_refused_is_contradicted_as_a_warning() -> None:
    found = contradicted(
        "We do not share information with third parties. "
        "We share your email address with advertisers."
    )
    assert [s for s, _, _ in found] == ["warning"]


@pytest.mark.parametrize(
    "refusal",
    [
        "We will not otherwise disclose your email address.",
        "We do not share your email address except as described in this policy.",
        "We do not share your email address with third parties for their own marketing.",
        "We do not share your email address with advertisers without your consent.",
        "If you do not give us your email address, we cannot send receipts.",
        "Our partners are bound by contract and they will not share your email address.",
    ],
)
def test_refusals_with_their_exceptions_stated_are_not_contradicted(refusal: str) -> None:
    text = f"{refusal} With your consent, we share your email address with advertisers."
    assert contradicted(text) == []


def test_not_selling_against_sharing_with_a_partner_is_a_warning() -> None:
    found = contradicted(
        "We do not sell your email address. We share your email address with our partners."
    )
    assert [s for s, _, _ in found] == ["warning"]
    found = contradicted(
        "We do not sell your email address. We sell your email address to our partners."
    )
    assert [s for s, _, _ in found] == ["serious"]


def test_a_party_said_to_receive_refused_data_is_a_contradiction() -> None:
    found = contradicted(
        "We never share your email address. Advertising networks receive your email address."
    )
    assert [s for s, _, _ in found] == ["serious"]


def test_a_refusal_for_one_named_processor_is_no_contradiction_for_another() -> None:
    text = (
        "Our delivery company never sees your card number. "
        "Our card processor receives your card number."
    )
    assert contradicted(text) == []
