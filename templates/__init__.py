"""Mail and message texts (Jinja2). `render_mail` picks the requester's language when we have it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

TEMPLATE_DIR = Path(__file__).parent
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=None)
def languages(name: str) -> frozenset[str]:
    """Languages in which mail template `name` exists (the templates ship with the desk: the folder is
    read once, not once per mail; globbing it was a third of composing an acknowledgement)."""
    return frozenset(p.name.split(".")[1] for p in (TEMPLATE_DIR / "mail").glob(f"{name}.*.txt.j2"))


def render_mail(template: str, language: str | None, **context) -> tuple[str, str, str]:
    """(subject, text, html) of mail template `template` in `language`, falling back to English.

    A text template's first line is `Subject: …`; the HTML part wraps the same paragraphs in
    `mail/layout.html.j2`, so a translation is written once.
    """
    env = environment()
    lang = language if language in languages(template) else DEFAULT_LANGUAGE
    try:
        template_file = env.get_template(f"mail/{template}.{lang}.txt.j2")
    except TemplateNotFound:
        raise LookupError(f"no mail template {template!r}") from None
    rendered = template_file.render(**context)
    first, _, body = rendered.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"template {template_file.name} must start with 'Subject: '")
    subject = first.removeprefix("Subject:").strip()
    text = body.strip() + "\n"
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    html = env.get_template("mail/layout.html.j2").render(lang=lang, subject=subject, paragraphs=paragraphs)
    return subject, text, html
