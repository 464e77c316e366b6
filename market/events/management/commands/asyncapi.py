"""`manage.py asyncapi [--format yaml] [--output FILE]`: write the event stream's AsyncAPI document (for docs
sites, code generators and a subscriber's CI; the running core also serves it at /api/asyncapi.json|yaml)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from market.events.asyncapi import FORMATS, asyncapi_rendered


class Command(BaseCommand):
    help = "Write the AsyncAPI 3.0 document of the event stream to standard output or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(FORMATS), default="json")
        parser.add_argument("--output", type=Path, help="a file to write instead of standard output")

    def handle(self, *args: Any, format: str, output: Path | None, **options: Any) -> None:
        text = asyncapi_rendered(format)
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {output}")
