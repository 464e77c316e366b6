"""Messages from the per-language text templates in `templates/notify/<language>/<kind>.txt`: the first line
is the subject, the rest the body. Plain text, so no HTML escaping."""

from functools import cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("zh-hans", "en")

#: how each document kind is named inside a sentence
KIND_LABELS: dict[str, dict[str, str]] = {
    "zh-hans": {"patent": "专利", "achievement": "科技成果", "demand": "技术需求", "expert": "专家"},
    "en": {"patent": "patent", "achievement": "achievement", "demand": "demand", "expert": "expert"},
}


@cache
def _engine() -> Engine:
    return Engine(dirs=[str(TEMPLATE_DIR)], autoescape=False)


def language_of(code: str | None) -> str:
    return code if code in LANGUAGES else LANGUAGES[0]


def render_text(name: str, language: str, context: dict[str, Any]) -> str:
    template = _engine().get_template(f"notify/{language_of(language)}/{name}.txt")
    return template.render(Context(context))


def render_message(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a notification in `language`."""
    language = language_of(language)
    listing_kind = context.get("listing_kind", "")
    full = {"kind_label": KIND_LABELS[language].get(listing_kind, listing_kind), **context}
    subject, _blank, body = render_text(kind, language, full).partition("\n")
    return subject.strip()[:300], body.strip()
