"""`manage.py seed_market`: load the real sample data and the demo organizations, users and demands."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from market.catalog.models import Patent
from market.demo.seeding import ACHIEVEMENT_FILE, PATENT_FILE, market_seed


class Command(BaseCommand):
    help = (
        "Import ../shared/data (real patents and achievements) plus demo organizations, users, demands and "
        "two years of completed deals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=settings.MARKET_SAMPLE_DATA_DIR)
        parser.add_argument("--if-empty", action="store_true", help="do nothing when patents already exist")
        parser.add_argument(
            "--limit", type=int, default=None, help="import only the first N records per file"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self, *args: Any, data_dir: Path, if_empty: bool, limit: int | None, no_progress: bool, **options: Any
    ) -> None:
        if if_empty and Patent.objects.exists():
            self.stdout.write("Sample data already loaded.")
            return
        for name in (PATENT_FILE, ACHIEVEMENT_FILE):
            if not (data_dir / name).is_file():
                raise CommandError(
                    f"{data_dir / name} not found: pass --data-dir or set MARKET_SAMPLE_DATA_DIR"
                )

        def progress(**kwargs: Any) -> tqdm:
            return tqdm(disable=no_progress, file=self.stderr._out, **kwargs)

        counts = market_seed(data_dir=data_dir, progress=progress, limit=limit)
        self.stdout.write(
            self.style.SUCCESS(
                "Imported: " + ", ".join(f"{count} new {kind}" for kind, count in counts.items())
            )
        )
