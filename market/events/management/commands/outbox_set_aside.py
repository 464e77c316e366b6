"""`manage.py outbox_set_aside list | retry [--all | ID...] | discard ID...`: the outbox rows the relay could
not send (too large for the broker, not encodable), and what an operator can do about them."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from market.events.models import OutboxEvent
from market.events.relay import outbox_set_aside_discard, outbox_set_aside_retry, set_aside_rows


class Command(BaseCommand):
    help = "List set-aside outbox rows, give them back to the relay (retry) or give up on them (discard)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "retry", "discard"])
        parser.add_argument("ids", nargs="*", help="event ids (ce_id) of set-aside rows")
        parser.add_argument("--all", dest="every", action="store_true", help="retry: every set-aside row")

    def handle(self, *args: Any, action: str, ids: list[str], every: bool, **options: Any) -> None:
        if action == "list":
            rows = set_aside_rows()
            for row in rows.order_by("sequence"):
                held = OutboxEvent.objects.filter(
                    key=row.key, sent_at__isnull=True, sequence__gt=row.sequence
                ).count()
                self.stdout.write(
                    f"{row.id}  {row.type}  {row.key}  set aside {row.set_aside_at:%Y-%m-%d %H:%M:%S}  "
                    f"{held} later events of its key held  reason: {row.set_aside_reason}"
                )
            self.stdout.write(f"{rows.count()} set-aside events")
            return
        if not ids and not (action == "retry" and every):
            raise CommandError("name the events (ids), or use --all with retry")
        if action == "retry":
            count = outbox_set_aside_retry(ids=None if every else ids)
            self.stdout.write(f"{count} events given back to the relay")
        else:
            self.stdout.write(f"{outbox_set_aside_discard(ids=ids)} events discarded")
