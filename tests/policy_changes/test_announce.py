"""What people read about a change: the banner and the notice's lines, in the names a person
knows (the taxonomy's, the recipient's description) rather than the file's keys, and when the
change reaches their data, which depends on whether the policy asks for consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pledge.policy import compile_policy, load_policy_text
from pledge.policy.announce import Announcement, announcement
from pledge.policy.windows import Windows, window_ends
from tests.policy_changes.derive import derived, raw, text_of

PUBLISHED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def broker(d: dict[str, Any]) -> None:
    d["recipients"]["data_broker"] = {
        "kind": "partner",
        "description": "Sells mailing lists",
        "purposes": ["essential.service.operations.support"],
        "categories": ["user.contact.email"],
    }


def announced(edit: Any) -> Announcement:
    old = load_policy_text(text_of(raw("bitrix")))
    new = load_policy_text(derived("bitrix", edit, version="2026-12-01")).policy
    published = [(old.policy, PUBLISHED - dt.timedelta(days=900)), (new, PUBLISHED)]
    windows = Windows((old.version, new.version), window_ends(published))
    found = announcement(compile_policy(new, [old], windows))
    assert found is not None
    return found


def test_the_banner_and_the_lines_use_names_and_the_date_the_window_ends() -> None:
    change = announced(broker)
    [line] = [change.words(c) for c in change.material]
    assert line == (
        "Your data may now go to a new recipient, data broker (Sells mailing lists), for: "
        "Essential for Operations Support."
    )
    assert change.banner() == (
        "OOO Bitrix has changed its privacy policy (version 2026-12-01): 1 change affects how "
        "we use the data you gave us. They apply to data you gave us earlier from 31 December "
        "2026, unless you opt out before then; limits you set yourself stay as they are. Read "
        "what changed in the privacy notice."
    )


def test_a_policy_that_asks_for_consent_says_so() -> None:
    def strict(d: dict[str, Any]) -> None:
        broker(d)
        d["changes"]["material_change_needs_consent"] = True

    assert "only if you agree to them" in announced(strict).banner()


def test_the_first_version_announces_nothing() -> None:
    assert announcement(load_policy_text(text_of(raw("bitrix")))) is None
