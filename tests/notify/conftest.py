"""Real services on loopback for the notification tests: an SMTP server (aiosmtpd), a webhook receiver
(http.server in a thread), Celery eager or a real Celery worker on Redis."""

import email
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

WEBHOOK_DOC = Path(__file__).resolve().parents[2] / "services" / "notify" / "WEBHOOKS.md"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]


@pytest.fixture
def smtp(settings) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class WebhookReceiver:
    """Answers 500 to the first `failures` requests, then 200; records every request."""

    failures: int = 0
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def answer(self, received: Received) -> int:
        self.requests.append(received)
        return 500 if len(self.requests) <= self.failures else 200


@pytest.fixture
def webhook_receiver(settings) -> Iterator[WebhookReceiver]:
    """A receiver on 127.0.0.1, which the operator allowlist lets webhooks reach (as an on-premises receiver
    would be); without it, loopback is refused like every other private address."""
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            code = receiver.answer(Received(dict(self.headers.items()), body, time.monotonic()))
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/market"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Tasks run in the caller's thread (after commit): for tests about what is sent, not when."""
    from market.config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker(django_db_setup, django_db_blocker, settings) -> Iterator[None]:
    """A real Celery worker (thread, solo pool) on Redis, reading queues of its own (default and webhooks)."""
    queue = f"notify-test-{uuid.uuid4().hex[:12]}"
    settings.NOTIFY_WEBHOOK_QUEUE = f"{queue}-webhooks"
    with (
        django_db_blocker.unblock(),
        celery_queues(default=queue),
        running_worker(queues=[queue, settings.NOTIFY_WEBHOOK_QUEUE]),
    ):
        yield


@contextmanager
def celery_queues(*, default: str) -> Iterator[None]:
    """Tasks are sent to Redis (not run eagerly), the default queue being one of this test's own."""
    from market.config.celery import app

    previous = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    app.conf.update(task_always_eager=False, task_default_queue=default)
    app.amqp.queues = app.amqp.Queues(app.conf.task_queues, create_missing=True)
    try:
        yield
    finally:
        app.conf.update(**previous)


@contextmanager
def running_worker(*, queues: list[str]) -> Iterator[None]:
    """A real Celery worker (thread, solo pool) on Redis reading `queues`."""
    from celery.contrib.testing.worker import start_worker

    from market.config.celery import app

    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", queues=queues, shutdown_timeout=10
    ):
        yield


def webhook_verify():
    """The verification snippet exactly as documented in WEBHOOKS.md."""
    text = WEBHOOK_DOC.read_text()
    code = text.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, str(WEBHOOK_DOC), "exec"), namespace)
    return namespace["verify"]
