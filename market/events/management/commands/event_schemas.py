"""`manage.py event_schemas --check | --write`: compare or store the event payload schema snapshots."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from market.events.catalogue import EVENT_TYPES
from market.events.schemas import payload_schema, snapshots_write, stored_snapshots


class Command(BaseCommand):
    help = "Check that the committed event schema snapshots match the code, or write new snapshot versions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="store a new version for each changed type")

    def handle(self, *args: Any, write: bool, **options: Any) -> None:
        if write:
            changed = snapshots_write()
            self.stdout.write("\n".join(f"new snapshot: {name}" for name in changed) or "no changes")
            return
        stale = [
            name
            for name in sorted(EVENT_TYPES)
            if not stored_snapshots(name) or stored_snapshots(name)[-1] != payload_schema(name)
        ]
        if stale:
            raise CommandError(
                "schemas changed without a snapshot (run event_schemas --write): " + ", ".join(stale)
            )
        self.stdout.write(f"{len(EVENT_TYPES)} event types match their latest snapshots")
