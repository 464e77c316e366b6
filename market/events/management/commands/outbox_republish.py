"""`manage.py outbox_republish --since ... [--until ...] [--type ...]`: send retained outbox events again
(e.g. to rebuild a consumer's state). Consumers de-duplicate by event id, so a re-send is harmless."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from market.events.models import OutboxEvent


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"not an ISO 8601 time: {value!r}") from error
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Mark retained outbox events in a time range as unsent, so the relay publishes them again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, type=_moment, help="ISO 8601 creation time, inclusive")
        parser.add_argument("--until", type=_moment, default=None, help="ISO 8601 creation time, exclusive")
        parser.add_argument("--type", dest="event_type", default=None, help="only this event type")

    def handle(
        self, *args: Any, since: datetime, until: datetime | None, event_type: str | None, **options: Any
    ) -> None:
        rows = OutboxEvent.objects.filter(created_at__gte=since, sent_at__isnull=False)
        if until:
            rows = rows.filter(created_at__lt=until)
        if event_type:
            rows = rows.filter(type=event_type)
        self.stdout.write(f"{rows.update(sent_at=None)} events queued for the relay again")
