"""`manage.py outbox_reconcile [--grace-seconds N] [--dry-run]`: find the sent outbox events that never
reached the audit log and queue them for the relay again (e.g. after a broker restart that lost records)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from services.audit.reconcile import outbox_reconcile


class Command(BaseCommand):
    help = "Re-send the retained outbox events that the audit log never received."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=settings.OUTBOX_RECONCILE_GRACE_SECONDS,
            help="only events sent longer ago than this count as lost (normal lag is not a loss)",
        )
        parser.add_argument("--dry-run", action="store_true", help="report only, queue nothing")

    def handle(self, *args: Any, grace_seconds: int, dry_run: bool, **options: Any) -> None:
        result = outbox_reconcile(grace_seconds=grace_seconds, dry_run=dry_run)
        self.stdout.write(
            f"checked {result.checked} sent events, {result.missing} missing from the audit log, "
            f"{result.requeued} queued for the relay again"
        )
