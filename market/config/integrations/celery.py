"""Celery: timers and retries only (auction close, reminders, digests, webhook retries), Redis as broker."""

from celery.schedules import crontab

from market.config.env import env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/14")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
#: the queue tasks go to and workers read by default (a test or a second market on one Redis picks its own)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
#: how often beat looks for auctions past their end (seconds); a closing is at most this late
AUCTION_CLOSE_INTERVAL = env.float("AUCTION_CLOSE_INTERVAL", default=30.0)
#: how often beat reconciles the outbox with the audit log (seconds; see services.audit.reconcile)
OUTBOX_RECONCILE_INTERVAL = env.float("OUTBOX_RECONCILE_INTERVAL", default=600.0)
CELERY_TIMEZONE = "Asia/Shanghai"
#: periodic tasks (celery beat); each feature adds its own entry
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # notifications: re-queue deliveries whose task was lost; the daily digest e-mail at 08:00
    "notify-requeue-overdue": {"task": "notify.requeue_overdue", "schedule": 300.0},
    "notify-daily-digest": {"task": "notify.send_digests", "schedule": crontab(hour=8, minute=0)},
    # trading: finish due auctions; idempotent (each auction once, under its row lock), so overlap is safe
    "trading-close-due-auctions": {"task": "trading.close_due_auctions", "schedule": AUCTION_CLOSE_INTERVAL},
    # audit: re-send outbox events that never reached the audit log (a broker lost them)
    "audit-outbox-reconcile": {"task": "audit.outbox_reconcile", "schedule": OUTBOX_RECONCILE_INTERVAL},
    # accounts: drop expired refresh-token records (one per sign-in) and their blacklist entries, nightly
    "accounts-flush-expired-tokens": {
        "task": "accounts.flush_expired_tokens",
        "schedule": crontab(hour=3, minute=30),
    },
}
