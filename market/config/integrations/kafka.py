"""Kafka: where the outbox relay publishes and the consumers read. Same code for real Kafka and the local
stand-in; only the bootstrap address differs."""

from market.config.env import env

KAFKA_BOOTSTRAP_SERVERS = env.list("KAFKA_BOOTSTRAP_SERVERS", default=["127.0.0.1:19092"])
#: CloudEvents `source` of every event the core publishes
EVENTS_SOURCE = env.str("EVENTS_SOURCE", default="/market/core")
#: outbox rows already delivered are deleted after this many seconds (the outbox is a ledger, not a queue)
OUTBOX_RETENTION_SECONDS = env.int("OUTBOX_RETENTION_SECONDS", default=3600)
OUTBOX_RELAY_BATCH_SIZE = env.int("OUTBOX_RELAY_BATCH_SIZE", default=500)
#: the reconciler counts a sent event as lost only when it is still not in the audit log this long after
OUTBOX_RECONCILE_GRACE_SECONDS = env.int("OUTBOX_RECONCILE_GRACE_SECONDS", default=300)
#: a record whose handler fails this many times (not counting dependency outages) is dead-lettered
CONSUMER_MAX_RECORD_ATTEMPTS = env.int("CONSUMER_MAX_RECORD_ATTEMPTS", default=5)
#: longest wait (ms) after empty polls before fetching again; 0 = off. Bounds the added latency; saves the CPU
#: a broker that answers empty fetches at once (the local stand-in) would cost. `make run` turns it on.
CONSUMER_IDLE_BACKOFF_MS = env.int("CONSUMER_IDLE_BACKOFF_MS", default=0)
CONSUMER_HEALTH_DIR = env.str("CONSUMER_HEALTH_DIR", default="/tmp")
#: static consumer-group membership id (set it to the pod name); empty for dynamic membership
CONSUMER_INSTANCE_ID = env.str("CONSUMER_INSTANCE_ID", default="") or None
