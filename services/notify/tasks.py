"""Celery tasks of the notification service: sending one delivery (re-scheduling itself with exponential
backoff after a failure), the sweep that re-queues deliveries whose task was lost, and the daily digest."""

from celery import shared_task

from services.notify import services


@shared_task(name="notify.deliver", acks_late=True, ignore_result=True)
def deliver(notification_id: int) -> None:
    delay = services.notification_deliver(notification_id=notification_id)
    if delay is not None:
        deliver.apply_async((notification_id,), countdown=delay)


@shared_task(name="notify.requeue_overdue", ignore_result=True)
def requeue_overdue() -> int:
    return services.deliveries_requeue()


@shared_task(name="notify.send_digests", ignore_result=True)
def send_digests() -> int:
    return services.digests_send()
