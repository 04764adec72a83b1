"""Redaction of free text: structured values proved by their check digits are found wherever
they are, look-alikes (build numbers, UUIDs, transaction ids, dates) are left alone."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn
from typer.testing import CliRunner

from pledge.cli.main import app
from pledge.text.redact import find, redact

AROUND = (
    st.sampled_from(["", "card ", "see: ", "(", "paid with "]),
    st.sampled_from(["", ".", " today", ")", ", thanks"]),
)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find(text)]


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["4", "51", "55", "2221", "34", "37", "6011", "65"]))
    length = 15 if prefix in ("34", "37") else 16
    body = prefix + "".join(
        draw(
            st.lists(
                st.sampled_from(string.digits),
                min_size=length - len(prefix) - 1,
                max_size=length - len(prefix) - 1,
            )
        )
    )
    number = body + luhn.calc_check_digit(body)
    if draw(st.booleans()):
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


@settings(max_examples=40, deadline=None)
@given(cards(), *AROUND)
def test_a_luhn_valid_card_number_is_found_whole(number: str, before: str, after: str) -> None:
    text = f"{before}{number}{after}"
    assert ("card", number) in kinds(text)
    assert number not in redact(text).text


@settings(max_examples=40, deadline=None)
@given(st.text(string.digits, min_size=16, max_size=16).filter(lambda d: not luhn.is_valid(d)))
def test_a_digit_run_failing_luhn_is_no_card(digits: str) -> None:
    assert all(kind != "card" for kind, _ in kinds(f"transaction {digits} settled"))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country, length = draw(st.sampled_from([("DE", 18), ("NL", 14), ("FR", 23), ("GB", 18)]))
    if country in ("NL", "GB"):
        bank = "".join(
            draw(st.lists(st.sampled_from(string.ascii_uppercase), min_size=4, max_size=4))
        )
        digits = "".join(
            draw(st.lists(st.sampled_from(string.digits), min_size=length - 4, max_size=length - 4))
        )
        bban = bank + digits
    else:
        bban = "".join(
            draw(st.lists(st.sampled_from(string.digits), min_size=length, max_size=length))
        )
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    assert iban.is_valid(number)
    return iban.format(number) if draw(st.booleans()) else number


@settings(max_examples=40, deadline=None)
@given(ibans(), *AROUND)
def test_a_valid_iban_is_found_whole(number: str, before: str, after: str) -> None:
    assert ("iban", number) in kinds(f"{before}{number}{after}")


LOCAL = st.from_regex(r"[a-z][a-z0-9._+\-]{0,20}[a-z0-9]", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z][a-z0-9\-]{0,15}[a-z0-9](\.[a-z]{2,6}){1,2}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(LOCAL, DOMAIN, *AROUND)
def test_an_email_address_is_found_whole(local: str, domain: str, before: str, after: str) -> None:
    address = f"{local}@{domain}"
    text = f"{before}<{address}>{after}"
    assert ("email", address) in kinds(text)
    assert address not in redact(text).text


def test_look_alikes_are_left_alone() -> None:
    text = (
        "Build 10.4.2.1234 (v2.0.1.5) crashed at 2026-05-12 12:30:45, request "
        "3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b, txn TX-20260512-88341, order #100234, "
        "java.lang.NullPointerException at Foo.java:42, Internal Server Error"
    )
    assert find(text) == []
    assert redact(text).text == text


def test_each_kind_is_replaced_by_its_label() -> None:
    text = (
        "Hi, I'm Mary Johnson. Call +1 415 555 2671 or mail mary.j@example.com; my card "
        "4111 1111 1111 1111 and IBAN DE89 3704 0044 0532 0130 00. Server 203.0.113.9, "
        "2001:db8::8a2e:370:7334, SSN 123-45-6789, db https://admin:hunter2@db.example.com/x"
        "?token=abc123. Ship to 742 Evergreen Terrace, Springfield, IL 62704."
    )
    done = redact(text)
    for secret in (
        "Mary",
        "Johnson",
        "415 555",
        "mary.j",
        "4111",
        "DE89",
        "203.0.113.9",
        "2001:db8",
        "123-45",
        "hunter2",
        "abc123",
        "Evergreen",
    ):
        assert secret not in done.text, secret
    assert done.found == {
        "name": 1,
        "phone": 1,
        "email": 1,
        "card": 1,
        "iban": 1,
        "ip": 2,
        "national_id": 1,
        "credentials": 1,
        "secret": 1,
        "address": 1,
    }
    assert done.text.startswith("Hi, I'm [NAME]. Call [PHONE] or mail [EMAIL];")


def test_pledge_redact_filters_stdin_to_stdout() -> None:
    result = CliRunner().invoke(app, ["redact"], input="write to ann@example.org\nbye\n")
    assert result.exit_code == 0
    assert result.stdout == "write to [EMAIL]\nbye\n"
