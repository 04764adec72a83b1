"""Checking that a collected value has the shape its field promises, before it is stored.

A malformed email or phone number stored today is a message that goes astray tomorrow, so
values are checked with the libraries made for it and kept in their normal form. Errors name
the field and the expected shape, never the value (it is personal data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pledge.errors import CollectionError

MAX_TEXT = 2000

SHAPE_BY_CATEGORY = {
    "user.contact.email": "email",
    "user.contact.phone_number": "phone",
    "user.contact.fax_number": "phone",
    "user.demographic.date_of_birth": "date",
}


SECRET = "secret"  # noqa: S105 (the name of a shape, not a password)
SECRET_CATEGORIES = ("user.authorization.credentials", "user.authorization.password")
MAX_SECRET = 1024


def shape_of(category: str, declared: str | None) -> str:
    """A credential is a secret whatever shape is declared: it is never stored readable."""
    if any(category == c or category.startswith(c + ".") for c in SECRET_CATEGORIES):
        return SECRET
    return declared or SHAPE_BY_CATEGORY.get(category, "text")


def check_secret(point: str, field: str, value: object) -> str:
    """A secret exactly as given (spaces count), or a CollectionError naming ``point.field``."""
    where = f"{point}.{field}"
    if not isinstance(value, str) or not value:
        raise CollectionError(f"field '{where}' must be non-empty text", field=field)
    if len(value) > MAX_SECRET:
        raise CollectionError(
            f"field '{where}' is longer than {MAX_SECRET} characters", field=field
        )
    return value


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address ({_first_sentence(exc)})") from None


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "is not a phone number in international form (start with + and the country code)"
        ) from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("is not a possible phone number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("is not a date in the form YYYY-MM-DD") from None


def _integer(value: str) -> str:
    try:
        return str(int(value))
    except ValueError:
        raise ValueError("is not a whole number") from None


def _text(value: str) -> str:
    return value


def _first_sentence(exc: Exception) -> str:
    """email-validator's messages describe the problem; keep them free of the address."""
    text = str(exc).split(".")[0]
    return text if "@" not in text else "malformed address"


_CHECKS: dict[str, Callable[[str], str]] = {
    "email": _email,
    "phone": _phone,
    "date": _date,
    "integer": _integer,
    "text": _text,
}


def check_value(point: str, field: str, shape: str, value: object) -> str:
    """The value in normal form, or a CollectionError naming ``point.field``."""
    where = f"{point}.{field}"
    if not isinstance(value, str | int):
        raise CollectionError(
            f"field '{where}' must be text, not {type(value).__name__}", field=field
        )
    text = str(value).strip()
    if not text:
        raise CollectionError(f"field '{where}' is empty", field=field)
    if len(text) > MAX_TEXT:
        raise CollectionError(f"field '{where}' is longer than {MAX_TEXT} characters", field=field)
    check = _CHECKS.get(shape)
    if check is None:
        raise CollectionError(f"field '{where}' has unknown shape '{shape}'", field=field)
    try:
        return check(text)
    except ValueError as exc:
        raise CollectionError(f"field '{where}' {exc}", field=field) from None
