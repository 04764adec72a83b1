"""Ages a log line states, so that the policy's minimum age holds at web-log intake too.

A site that asks for an age or a date of birth in a URL (``/signup?age=12``,
``?dob=2014-05-01``), or logs one in a JSON field, has put a statement about the visitor into
its access log. The policy's minimum age applies wherever an age is stated: a visit stating a
younger age is not kept at all, not even minimised. An age is the years given, or the years
between a date of birth and the day of the visit.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

#: Keys of a JSON log record that state an age or a date of birth.
JSON_KEYS = ("age", "dob", "birthdate", "birth_date", "date_of_birth")
_IN_QUERY = re.compile(r"[?&](?:age|dob|birth_?date|date_of_birth)=([^&#]{1,32})", re.IGNORECASE)
_YEARS = re.compile(r"\d{1,3}")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def in_target(target: str | None) -> str | None:
    """The age or date of birth a request's query string states, as written."""
    if not target or "?" not in target:
        return None
    found = _IN_QUERY.search(target)
    return unquote(found.group(1)) if found else None


def years(stated: str, day: str) -> int | None:
    """The age ``stated`` means on ``day`` (YYYY-MM-DD); None when it states no age."""
    text = stated.strip()
    if _YEARS.fullmatch(text):
        return int(text)
    found = _DATE.fullmatch(text)
    if found is None:
        return None
    try:
        born = dt.date(*map(int, found.groups()))
        on = dt.date.fromisoformat(day)
    except ValueError:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
