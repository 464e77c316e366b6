"""`manage.py run_market`: the whole market on one machine, for development and demos.

Starts the Kafka/Elasticsearch stand-in (noida-db), the outbox relay, every registered consumer, Celery (a
worker with beat, and one for webhook deliveries) and the web server under the local supervisor
(`market.localdev`): a process that exits or a broker that stops answering is restarted with back-off, and
Ctrl-C or SIGTERM stops them all by PID. PostgreSQL and Redis are expected to be running already
(DATABASE_URL, REDIS_URL)."""

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from market.catalog.models import Patent
from market.common.shutdown import stop_on_signals
from market.config.env import REPO_ROOT
from market.localdev.embedded import EmbeddedBroker, free_port
from market.localdev.processes import market_environment, market_processes
from market.localdev.supervisor import Supervisor


def _port_or_free(preferred: int) -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        return free_port() if sock.connect_ex(("127.0.0.1", preferred)) == 0 else preferred


class Command(BaseCommand):
    help = "Run the whole market locally: broker, relay, consumers, Celery and the web server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / ".run")

    def handle(self, *args: Any, port: int, data_dir: Path, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        had_data = Patent.objects.exists()
        call_command("seed_market", if_empty=True)
        # a new stand-in (a fresh clone, a deleted .run/) has empty indexes; data loaded now reaches them
        # through its events, data loaded before must be indexed from the database
        rebuild_search = had_data and not (data_dir / "noida").exists()
        broker = EmbeddedBroker(
            data_dir=data_dir / "noida",
            kafka_port=_port_or_free(19092),
            elasticsearch_port=_port_or_free(19200),
        )
        broker.data_dir.mkdir(parents=True, exist_ok=True)
        environment = market_environment(broker=broker, port=port, data_dir=data_dir)
        supervisor = Supervisor(
            market_processes(broker=broker, port=port, data_dir=data_dir),
            environment=environment,
            cwd=REPO_ROOT,
            log_dir=data_dir,
            say=lambda line: self.stderr.write(f"  [supervisor] {line}"),
        )
        stop = stop_on_signals()
        try:
            supervisor.start()
            if rebuild_search:
                self.stdout.write("  Indexing the existing data for search (a new search engine)…")
                subprocess.run(
                    [sys.executable, str(REPO_ROOT / "manage.py"), "search_reindex", "--no-progress"],
                    cwd=REPO_ROOT,
                    env=environment,
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            self.stdout.write(
                self.style.SUCCESS(f"\n  网上技术市场 3.0 is running:  http://127.0.0.1:{port}/\n")
            )
            self.stdout.write(f"  Sign in:     http://127.0.0.1:{port}/sign-in/  (a demo account below)")
            self.stdout.write(f"  API docs:    http://127.0.0.1:{port}/api/docs/")
            self.stdout.write(f"  Admin:       http://127.0.0.1:{port}/admin/")
            self.stdout.write(f"  Links in notifications lead to {environment['MARKET_PUBLIC_URL']}")
            self.stdout.write(
                f"  Kafka:       {broker.kafka_bootstrap}    Elasticsearch: {broker.elasticsearch_url}"
            )
            self.stdout.write(
                f"  Processes:   {', '.join(f'{n} (pid {p})' for n, p in supervisor.pids().items())}"
            )
            self.stdout.write(f"  Logs:        {data_dir}/*.log\n")
            call_command("demo_credentials")
            self.stdout.write("\n  A process that exits is restarted; Ctrl-C stops everything.")
            supervisor.run(stop)
        finally:
            supervisor.stop()
            self.stdout.write("stopped")
