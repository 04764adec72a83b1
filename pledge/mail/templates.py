"""Message templates: a folder with ``subject.txt``, ``body.txt`` and, optionally, ``body.html``.

Jinja2 renders them once per recipient, at gate time. HTML is autoescaped, so a name like
``<script>`` arrives as text; plain text and the subject are not (escaping would show
``&amp;`` to the reader). Undefined variables are errors, so a typo fails on the first
recipient of a dry run rather than mailing "Hello ," to everyone.

Variables: ``name`` (the person's name, or None when there is none the policy releases),
``organisation`` (the policy's organisation name) and ``communication`` (the type sent).
The gate adds the legal footer itself; templates need not, and cannot forget to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pledge.errors import InputError

SUBJECT, TEXT, HTML = "subject.txt", "body.txt", "body.html"
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


class TemplateSet:
    """The templates of one message, compiled once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        if not (folder / SUBJECT).is_file() or not (folder / TEXT).is_file():
            raise InputError(
                f"template folder '{folder}' needs {SUBJECT} and {TEXT} ({HTML} is optional)",
                template=str(folder),
            )
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self.subject_source = (folder / SUBJECT).read_text(encoding="utf-8")
        self._subject = _load(env, SUBJECT)
        self._text = _load(env, TEXT)
        self._html = _load(env, HTML) if (folder / HTML).is_file() else None

    def render(self, **context: object) -> Rendered:
        try:
            subject = _WHITESPACE.sub(" ", self._subject.render(context)).strip()
            text = self._text.render(context)
            html = self._html.render(context) if self._html is not None else None
        except jinja2.TemplateError as exc:
            raise InputError(
                f"template '{self.name}' failed to render: {exc.message}", template=self.name
            ) from None
        return Rendered(subject, text, html)


def _load(env: jinja2.Environment, file: str) -> jinja2.Template:
    try:
        return env.get_template(file)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            f"{exc.filename or file}:{exc.lineno}: {exc.message}", template=file
        ) from None
