"""The local Kafka + Elasticsearch stand-in (`noida-db`) for development, tests and benchmarks.

Starts the binary inside the installed package (never the console script: killing the script's PID would leave
the binary running), always with `--only kafka,elasticsearch`, explicit free ports and its own data directory,
and stops it by PID. Production never imports this module."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def _binary() -> Path:
    import noida_db

    return Path(noida_db.__file__).parent / "noida-db"


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class EmbeddedBroker:
    """One noida-db process serving the Kafka protocol and the Elasticsearch REST API on loopback."""

    data_dir: Path
    kafka_port: int = field(default_factory=free_port)
    elasticsearch_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def elasticsearch_url(self) -> str:
        return f"http://127.0.0.1:{self.elasticsearch_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        """The command line of the binary (a supervisor may run it itself)."""
        return [
            str(_binary()),
            "start",
            "--only",
            "kafka,elasticsearch",
            "--host",
            "127.0.0.1",
            "--kafka-port",
            str(self.kafka_port),
            "--elasticsearch-port",
            str(self.elasticsearch_port),
            "--data-dir",
            str(self.data_dir),
        ]

    def start(self, timeout: float = 20.0) -> "EmbeddedBroker":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "noida.log").open("ab")
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        (self.data_dir / "pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while not (_port_open(self.kafka_port) and _port_open(self.elasticsearch_port)):
            if not self.running:
                raise RuntimeError(f"noida-db exited early; see {self.data_dir / 'noida.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"noida-db did not open its ports within {timeout} s")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM by PID (data is kept in data_dir), SIGKILL if it does not exit in time."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        self.process = None
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "pid").unlink()

    def restart(self) -> None:
        """Same ports, same data: what a broker outage followed by recovery looks like to clients."""
        self.stop()
        deadline = time.monotonic() + 10
        while (
            _port_open(self.kafka_port) or _port_open(self.elasticsearch_port)
        ) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.start()


@contextlib.contextmanager
def embedded_broker(data_dir: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(data_dir=data_dir).start()
    try:
        yield broker
    finally:
        broker.stop()
