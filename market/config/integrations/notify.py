"""Notifications: where webhook deliveries run and which private hosts may receive them."""

from market.config.env import env

#: the Celery queue of webhook deliveries: a worker of its own reads it (`celery worker -Q webhooks`), so a
#: slow receiver never delays auction closing or e-mail on the default queue
NOTIFY_WEBHOOK_QUEUE = env.str("NOTIFY_WEBHOOK_QUEUE", default="webhooks")
#: host names (or IP literals) webhooks may reach although they resolve to private addresses: on-premises
#: receivers, named by the operator. Every other webhook must resolve to public internet addresses only.
NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS = env.list("NOTIFY_WEBHOOK_ALLOWED_PRIVATE_HOSTS", default=[])
#: the whole webhook request (name lookup, connection, TLS, sending, the answer's headers), in seconds
NOTIFY_WEBHOOK_TIMEOUT = env.float("NOTIFY_WEBHOOK_TIMEOUT", default=5.0)
