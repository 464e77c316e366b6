"""Celery tasks of the notification service: sending one delivery (re-scheduling itself with exponential
backoff after a failure), the sweep that re-queues deliveries whose task was lost, and the daily digest.

Webhook deliveries run on a queue of their own (`NOTIFY_WEBHOOK_QUEUE`, read by a worker of their own): a
receiver that is slow, up to the deadline, then holds only that worker, never auction closing or e-mail."""

from celery import shared_task

from services.notify import services
from services.notify.conf import setting
from services.notify.models import Channel


def delivery_schedule(notification_id: int, *, channel: str, countdown: float = 0.0) -> None:
    """Queue one delivery attempt: webhooks on their own queue, e-mail on the default one."""
    routing = {"queue": setting("NOTIFY_WEBHOOK_QUEUE")} if channel == Channel.WEBHOOK else {}
    deliver.apply_async((notification_id, channel), countdown=countdown, **routing)


@shared_task(name="notify.deliver", acks_late=True, ignore_result=True)
def deliver(notification_id: int, channel: str = Channel.EMAIL) -> None:
    delay = services.notification_deliver(notification_id=notification_id)
    if delay is not None:
        delivery_schedule(notification_id, channel=channel, countdown=delay)


@shared_task(name="notify.requeue_overdue", ignore_result=True)
def requeue_overdue() -> int:
    return services.deliveries_requeue()


@shared_task(name="notify.send_digests", ignore_result=True)
def send_digests() -> int:
    return services.digests_send()
