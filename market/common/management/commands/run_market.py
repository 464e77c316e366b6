"""`manage.py run_market`: the whole market on one machine, for development and demos.

Starts the Kafka/Elasticsearch stand-in (noida-db), the outbox relay, every registered consumer, a Celery
worker with beat, and the web server; prints where to go; on Ctrl-C or SIGTERM stops them all by PID.
PostgreSQL and Redis are expected to be running already (DATABASE_URL, REDIS_URL)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from market.config.env import REPO_ROOT
from services.common.embedded import EmbeddedBroker, free_port
from services.common.registry import CONSUMERS


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
        call_command("seed_market", if_empty=True)
        broker = EmbeddedBroker(
            data_dir=data_dir / "noida",
            kafka_port=_port_or_free(19092),
            elasticsearch_port=_port_or_free(19200),
        ).start()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "market.config.settings",
            "KAFKA_BOOTSTRAP_SERVERS": broker.kafka_bootstrap,
            "ELASTICSEARCH_URL": broker.elasticsearch_url,
            "CONSUMER_HEALTH_DIR": str(data_dir),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        }
        manage = [sys.executable, str(REPO_ROOT / "manage.py")]
        commands = {
            "relay": [*manage, "relay_outbox"],
            **{f"consumer {name}": [*manage, "run_consumer", name] for name in sorted(CONSUMERS)},
            "celery": [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "market.config.celery",
                "worker",
                "--beat",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "1",
                "--schedule",
                str(data_dir / "celerybeat-schedule"),
            ],
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        processes: dict[str, subprocess.Popen] = {}
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            for name, command in commands.items():
                log = (data_dir / f"{name.replace(' ', '-')}.log").open("ab")
                processes[name] = subprocess.Popen(
                    command,
                    cwd=REPO_ROOT,
                    env=environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.stdout.write(
                self.style.SUCCESS(f"\n  网上技术市场 3.0 is running:  http://127.0.0.1:{port}/\n")
            )
            self.stdout.write(f"  API docs:    http://127.0.0.1:{port}/api/docs/")
            self.stdout.write(f"  Admin:       http://127.0.0.1:{port}/admin/")
            self.stdout.write(
                f"  Kafka:       {broker.kafka_bootstrap}    Elasticsearch: {broker.elasticsearch_url}"
            )
            self.stdout.write(
                f"  Processes:   {', '.join(f'{n} (pid {p.pid})' for n, p in processes.items())}"
            )
            self.stdout.write(f"  Logs:        {data_dir}/*.log\n")
            call_command("demo_credentials")
            self.stdout.write("\n  Ctrl-C stops everything.")
            while not stop.wait(1):
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with {process.returncode}; see {data_dir}/*.log")
                        stop.set()
        finally:
            for process in processes.values():
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
            for process in processes.values():
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            broker.stop()
            self.stdout.write("stopped")
