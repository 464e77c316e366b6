"""`manage.py search_reindex [--kind patent ...]`: rebuild search indexes from PostgreSQL beside the live
ones, catch up with the events that arrived meanwhile, and swap the aliases atomically (no downtime)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from services.search.indexes import KINDS
from services.search.reindex import reindex


class Command(BaseCommand):
    help = "Rebuild the search indexes from the database and swap them in atomically."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", action="append", choices=KINDS, help="only these kinds (repeatable)")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--keep-old", action="store_true", help="keep the replaced indexes")
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args: Any,
        kind: list[str] | None,
        batch_size: int,
        keep_old: bool,
        no_progress: bool,
        **options: Any,
    ) -> None:
        def progress(**kwargs: Any) -> tqdm:
            return tqdm(disable=no_progress, file=self.stderr._out, **kwargs)

        for name in kind or KINDS:
            report = reindex(name, progress=progress, batch_size=batch_size, keep_old=keep_old)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{name}: {report.from_database} documents from the database, {report.caught_up} events "
                    f"caught up, {report.refused} refused; alias now on {report.index}"
                    + (f", dropped {', '.join(report.dropped)}" if report.dropped else "")
                )
            )
