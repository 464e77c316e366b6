"""Periodic reconciliation of the outbox with the audit log (see services.audit.reconcile)."""

from celery import shared_task
from django.conf import settings

from services.audit.reconcile import outbox_reconcile


@shared_task(name="audit.outbox_reconcile", ignore_result=True)
def outbox_reconcile_task() -> None:
    outbox_reconcile(grace_seconds=settings.OUTBOX_RECONCILE_GRACE_SECONDS)
