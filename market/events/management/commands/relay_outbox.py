"""`manage.py relay_outbox`: publish committed outbox rows to Kafka until SIGTERM/SIGINT."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from prometheus_client import start_http_server

from market.common.shutdown import stop_on_signals
from market.events.relay import OutboxRelay


class Command(BaseCommand):
    help = "Relay the transactional outbox to Kafka as CloudEvents (run one or more replicas)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=settings.OUTBOX_RELAY_BATCH_SIZE)
        parser.add_argument(
            "--retention",
            type=int,
            default=settings.OUTBOX_RETENTION_SECONDS,
            help="seconds to keep delivered rows before purging them",
        )
        parser.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics here")

    def handle(
        self, *args: Any, batch_size: int, retention: int, metrics_port: int | None, **options: Any
    ) -> None:
        stop = stop_on_signals()
        if metrics_port:
            start_http_server(metrics_port)
        self.stdout.write(f"relaying outbox to {','.join(settings.KAFKA_BOOTSTRAP_SERVERS)}")
        OutboxRelay(batch_size=batch_size).run(stop=stop, retention_seconds=retention)
        self.stdout.write("relay stopped")
