"""`manage.py run_consumer NAME`: run one worker until SIGTERM or Ctrl-C; outages are waited out."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from prometheus_client import start_http_server

from market.common.shutdown import stop_on_signals
from services.common.consumer import ConsumerRunner
from services.common.registry import CONSUMERS, consumer_spec


class Command(BaseCommand):
    help = "Run an event consumer (one Kubernetes Deployment each)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(CONSUMERS))
        parser.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics here")

    def handle(self, *args: Any, name: str, metrics_port: int | None, **options: Any) -> None:
        stop = stop_on_signals()
        if metrics_port:
            start_http_server(metrics_port)
        runner = ConsumerRunner(spec=consumer_spec(name))
        self.stdout.write(
            f"consumer {name} reading {', '.join(runner.spec.topics)} as group {runner.group_id}"
        )
        exit_code = runner.run(stop)
        self.stdout.write(f"consumer {name} stopped (exit code {exit_code})")
        sys.exit(exit_code)
