"""Who a text is from and when, read from the forms policies use."""

from __future__ import annotations

import datetime as dt

import pytest

from pledge.text.identity import effective_date, organisation_name, postal_address
from pledge.text.segment import read_document


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("Last Edited on 2015-04-13", dt.date(2015, 4, 13)),
        ("This policy was last updated: June 27, 2006", dt.date(2006, 6, 27)),
        ("It has last been updated on 26 January 2011.", dt.date(2011, 1, 26)),
        ("This statement was last updated on Mach 30, 2004.", dt.date(2004, 3, 30)),
    ],
)
def test_the_date_a_policy_was_updated(line: str, day: dt.date) -> None:
    text = f"We were founded on 2001-01-01 and we collect your name.\n\n{line}\n"
    assert effective_date(read_document(text).sentences) == day


def test_an_impossible_date_is_skipped() -> None:
    text = "Updated on 2015-02-30. We collect your name. Effective May 3, 2016."
    assert effective_date(read_document(text).sentences) == dt.date(2016, 5, 3)


def test_the_name_with_its_legal_form_and_the_address_broken_over_lines() -> None:
    text = (
        "We collect your email address to answer you.\n\nContact\n\nAcme Widgets\n\n"
        "12 Harbour Row\n\nCork\n\nT12 AB34\n\nIreland\n\nhelp@acmewidgets.example\n\n"
        "© 2020 Acmewidgets Ltd. All rights reserved.\n"
    )
    document = read_document(text)
    named = organisation_name(document.sentences)
    assert named is not None
    assert named[0] == "Acmewidgets Ltd"
    assert postal_address(document) == "Acme Widgets, 12 Harbour Row, Cork, T12 AB34, Ireland"
