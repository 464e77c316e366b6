"""Test helpers around the real broker: drain the outbox, read topics back, run workers in threads."""

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from market.events.catalogue import TOPICS
from market.events.models import OutboxEvent
from market.events.relay import OutboxRelay, producer_build
from market.localdev.embedded import EmbeddedBroker, free_port
from services.common.consumer import ConsumerRunner, ConsumerSpec
from services.common.models import HandledMessage
from tests.processes import child_database_url
from tests.waiting import wait_until

ALL_TOPICS = sorted(set(TOPICS.values()))
REPO = Path(__file__).resolve().parents[2]


def relay_all(broker: EmbeddedBroker) -> int:
    """Publish every unsent outbox row; returns how many were sent."""
    relay = OutboxRelay(producer_factory=lambda: producer_build(broker.kafka_bootstrap))
    sent = 0
    try:
        while batch := relay.relay_batch():
            sent += batch
    finally:
        relay.close()
    return sent


def read_topics(
    broker: EmbeddedBroker, topics: list[str], *, expected: int, timeout: float = 20.0
) -> list[ConsumerRecord]:
    """Read `expected` records from the start of the topics (no consumer group), in partition order."""
    consumer = KafkaConsumer(
        *topics,
        bootstrap_servers=broker.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
        # anything beyond the expected count would be a duplicate: look a little longer
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    finally:
        consumer.close()
    return records


def unsent() -> int:
    return OutboxEvent.objects.filter(sent_at__isnull=True).count()


@contextmanager
def running(target, *args, **kwargs) -> Iterator[tuple[threading.Event, dict]]:
    """Run `target(*args, stop=stop, **kwargs)` in a thread; stop and join it on exit. The thread's result
    (or exception) lands in the yielded dict."""
    stop = threading.Event()
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["result"] = target(*args, stop=stop, **kwargs)
        except BaseException as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield stop, outcome
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "worker thread did not stop"


def relay_loop(broker: EmbeddedBroker, *, stop: threading.Event) -> None:
    OutboxRelay(producer_factory=lambda: producer_build(broker.kafka_bootstrap), batch_size=100).run(
        stop=stop, idle_sleep=0.05, housekeeping_every=1.0
    )


def consumer_loop(broker: EmbeddedBroker, spec: ConsumerSpec, *, stop: threading.Event, **options) -> int:
    return ConsumerRunner(spec=spec, bootstrap_servers=broker.kafka_bootstrap, **options).run(stop)


def handle_everything(broker: EmbeddedBroker, spec: ConsumerSpec) -> None:
    """Relay the whole outbox and run the consumer of `spec` until it has handled every event."""
    total = OutboxEvent.objects.count()
    relay_all(broker)
    with running(consumer_loop, broker, spec):
        assert wait_until(
            lambda: HandledMessage.objects.filter(consumer=spec.name).count() == total, timeout=40
        ), f"the {spec.name} consumer did not handle every event"


def consumer_process(
    broker: EmbeddedBroker, name: str, health_dir: Path, **environment: str
) -> subprocess.Popen:
    """`manage.py run_consumer NAME` as its own process against the test database and `broker`; its stderr
    goes to `health_dir/consumer-NAME.log`."""
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "KAFKA_BOOTSTRAP_SERVERS": broker.kafka_bootstrap,
        "CONSUMER_HEALTH_DIR": str(health_dir),
        "DJANGO_SETTINGS_MODULE": "market.config.settings",
        "LOG_LEVEL": "WARNING",
        **environment,
    }
    return subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "run_consumer", name],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(health_dir / f"consumer-{name}.log").open("ab"),
    )


class TcpProxy:
    """A loopback TCP proxy in front of one port: `stop()` closes the listener and every open connection
    (the clients behind it see a dead server) while the server itself keeps running; `start()` opens the
    same port again."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "TcpProxy":
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            sockets, self._connections = self._connections, []
            if self._listener is not None:
                sockets.append(self._listener)
                self._listener = None
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._connections += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
