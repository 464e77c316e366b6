"""Celery tasks of the notification service: sending one delivery (re-scheduling itself with exponential
backoff after a failure), the sweep that re-queues deliveries whose task was lost, and the daily digest.

Webhook deliveries run on a queue of their own (`NOTIFY_WEBHOOK_QUEUE`, read by a worker of their own): a
receiver that is slow, up to the deadline, then holds only that worker, never auction closing or e-mail.
Imported when the app is ready (apps.py), so the services find `notify.deliver` in Celery's registry in every
process that queues deliveries."""

from celery import shared_task

from services.notify.models import Channel
from services.notify.services import deliveries, digests


@shared_task(name=deliveries.DELIVER_TASK, acks_late=True, ignore_result=True)
def deliver(notification_id: int, channel: str = Channel.EMAIL) -> None:
    delay = deliveries.notification_deliver(notification_id=notification_id)
    if delay is not None:
        deliveries.delivery_schedule(notification_id, channel=channel, countdown=delay)


@shared_task(name="notify.requeue_overdue", ignore_result=True)
def requeue_overdue() -> int:
    return deliveries.deliveries_requeue()


@shared_task(name="notify.send_digests", ignore_result=True)
def send_digests() -> int:
    return digests.digests_send()
