"""Deliveries hold no database lock while they talk to the network, end by one total deadline, are sent by one
worker at a time (a crashed worker's claim runs out), and webhooks run on a Celery queue of their own."""

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone

from market.localdev.embedded import free_port
from services.notify.models import Channel, DeliveryStatus, Notification, Outcome, WebhookEndpoint
from services.notify.services import deliveries, digests, fanout, subscriptions
from services.notify.webhooks import DeliveryResult
from tests.notify.conftest import celery_queues, running_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@dataclass
class SlowReceiver:
    """Reads a request, then answers one byte every two seconds (a 40-second answer)."""

    url: str = ""
    requested: threading.Event = field(default_factory=threading.Event)
    connections: int = 0


@pytest.fixture
def slow_receiver(settings) -> Iterator[SlowReceiver]:
    settings.NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver = SlowReceiver()
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    receiver.url = f"http://127.0.0.1:{listener.getsockname()[1]}/hooks/slow"

    def serve() -> None:
        while not stop.is_set():
            try:
                peer, _address = listener.accept()
            except TimeoutError:
                continue
            receiver.connections += 1
            with peer:
                peer.recv(65536)
                receiver.requested.set()
                for byte in SLOW_ANSWER:
                    try:
                        peer.sendall(bytes([byte]))
                    except OSError:
                        break  # the sender hung up
                    if stop.wait(2):
                        return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _webhook_delivery(user, url: str) -> tuple[Notification, WebhookEndpoint]:
    """A due webhook delivery, written directly (no task is queued: the test calls the service itself)."""
    endpoint = subscriptions.webhook_endpoint_set(user=user, url=url)
    delivery = Notification.objects.create(
        event_id=f"evt-{uuid.uuid4()}",
        event_type="market.offer.made.v1",
        kind="offer",
        user=user,
        channel=Channel.WEBHOOK,
        subject="新报价：专利许可",
        body="…",
        next_attempt_at=timezone.now(),
    )
    return delivery, endpoint


class OnItsOwnConnection(threading.Thread):
    """Runs `work` in a thread with a database connection of its own, whose backend pid the test watches."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work
        self.pid: int | None = None
        self.result: Any = None
        self.seconds = 0.0

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            started = time.monotonic()
            self.result = self.work()
            self.seconds = time.monotonic() - started
        finally:
            connection.close()


def test_a_slow_receiver_ends_at_the_deadline_and_no_row_is_locked_while_it_trickles(
    cast, settings, slow_receiver
):
    settings.NOTIFY_WEBHOOK_TIMEOUT = 3.0
    delivery, endpoint = _webhook_delivery(cast.ent_member, slow_receiver.url)
    thread = OnItsOwnConnection(lambda: deliveries.notification_deliver(notification_id=delivery.pk))
    thread.start()
    try:
        assert slow_receiver.requested.wait(10), "the request never arrived"
        # the sender is now waiting on the receiver: from another connection, both rows are free to lock at
        # once, and the sender's connection has no transaction open
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM notify_notification WHERE id = %s FOR UPDATE NOWAIT", [delivery.pk]
            )
            cursor.execute(
                "SELECT id FROM notify_webhookendpoint WHERE id = %s FOR UPDATE NOWAIT", [endpoint.pk]
            )
            cursor.execute("SELECT state, xact_start FROM pg_stat_activity WHERE pid = %s", [thread.pid])
            assert cursor.fetchone() == ("idle", None)
        assert Notification.objects.get(pk=delivery.pk).status == DeliveryStatus.SENDING
        # a second worker handed the same delivery meanwhile leaves it alone
        assert deliveries.notification_deliver(notification_id=delivery.pk) is None
    finally:
        thread.join(20)
    assert not thread.is_alive()

    assert thread.seconds < 3.0 + 1.5, thread.seconds  # the total deadline, not 2 s per byte for 40 s
    delivery.refresh_from_db()
    [attempt] = delivery.attempt_log.all()
    assert (attempt.outcome, attempt.status_code, attempt.succeeded) == ("timeout", None, False)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1 and thread.result > 0
    assert delivery.claim is None and delivery.lease_until is None
    assert slow_receiver.connections == 1


def test_a_claim_left_by_a_crashed_worker_runs_out_and_the_sweep_sends_the_delivery(
    cast, webhook_receiver, celery_eager
):
    delivery, _endpoint = _webhook_delivery(cast.ent_member, webhook_receiver.url)
    crashed = deliveries._delivery_claim(delivery.pk)  # a worker claims it, then dies before sending
    assert crashed is not None
    assert deliveries.notification_deliver(notification_id=delivery.pk) is None  # claimed: nobody else sends
    assert deliveries.deliveries_requeue() == 0  # the claim is still good
    assert webhook_receiver.requests == []

    Notification.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert deliveries.deliveries_requeue() == 1  # eager Celery: handed to a worker and sent at once
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and len(webhook_receiver.requests) == 1
    # the dead worker's claim can no longer settle the delivery
    _notification, token = crashed
    failed = DeliveryResult(Outcome.CONNECTION_FAILED)
    assert deliveries._delivery_record(delivery, token, failed, time.monotonic()) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_webhooks_go_to_their_own_queue_and_e_mail_stays_on_the_default_one(
    cast, settings, smtp, webhook_receiver, django_db_blocker
):
    """A real worker reading only the webhooks queue sends the webhook; the e-mail of the same event waits
    on the default queue, which it does not read."""
    default_queue = f"notify-test-{uuid.uuid4().hex[:12]}"
    settings.NOTIFY_WEBHOOK_QUEUE = f"{default_queue}-webhooks"
    user = cast.ent_member
    user.email = "buyer@example.org"
    user.save()
    subscriptions.preference_update(user=user, channels=["email", "webhook"])
    subscriptions.webhook_endpoint_set(user=user, url=webhook_receiver.url)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        with (
            django_db_blocker.unblock(),
            celery_queues(default=default_queue),
            running_worker(queues=[settings.NOTIFY_WEBHOOK_QUEUE]),
        ):
            with transaction.atomic():
                fanout.notifications_create(
                    event_id="evt-queues-1",
                    event_type="market.offer.made.v1",
                    kind="offer",
                    recipients=[fanout.Recipient(user=user)],
                    context={"fact": "made", "title": "专利许可", "amount": "10.00", "link": ""},
                )
            webhook = Notification.objects.get(user=user, channel=Channel.WEBHOOK)
            assert wait_until(
                lambda: Notification.objects.get(pk=webhook.pk).status == DeliveryStatus.SENT, timeout=20
            )
        mail = Notification.objects.get(user=user, channel=Channel.EMAIL)
        assert (mail.status, mail.attempts) == (DeliveryStatus.PENDING, 0)
        assert broker.llen(default_queue) == 1 and smtp.messages == []
        assert len(webhook_receiver.requests) == 1
    finally:
        broker.delete(default_queue)


def test_a_slow_mail_server_holds_no_row_lock_while_the_daily_digest_is_sent(cast, settings):
    """The digest once kept its notifications locked while it talked to the mail server."""
    from aiosmtpd.controller import Controller

    in_flight, release = threading.Event(), threading.Event()

    class SlowMailServer:
        async def handle_DATA(self, server, session, envelope) -> str:
            in_flight.set()
            while not release.is_set():  # the test decides when the server answers
                await asyncio.sleep(0.05)
            return "250 OK"

    controller = Controller(SlowMailServer(), hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    user = cast.ent_member
    user.email = "digest@example.org"
    user.save()
    items = [
        Notification.objects.create(
            event_id=f"evt-{uuid.uuid4()}",
            event_type="market.patent.published.v1",
            kind="listing_matched",
            user=user,
            channel=Channel.EMAIL,
            subject=f"新匹配：电池 {n}",
            body="…",
            status=DeliveryStatus.DIGEST,
        )
        for n in range(2)
    ]
    thread = OnItsOwnConnection(digests.digests_send)
    thread.start()
    try:
        assert in_flight.wait(10), "the digest never reached the mail server"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM notify_notification WHERE id = ANY(%s) FOR UPDATE NOWAIT",
                [[item.pk for item in items]],
            )
            assert len(cursor.fetchall()) == 2
            cursor.execute("SELECT state, xact_start FROM pg_stat_activity WHERE pid = %s", [thread.pid])
            assert cursor.fetchone() == ("idle", None)
        # a second run meanwhile finds the items claimed and sends nothing twice
        assert digests.digests_send() == 0
    finally:
        release.set()
        thread.join(20)
        controller.stop()
    assert thread.result == 1
    statuses = Notification.objects.filter(pk__in=[i.pk for i in items]).values_list("status", flat=True)
    assert set(statuses) == {DeliveryStatus.SENT}
