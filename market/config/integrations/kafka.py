"""Kafka: where the outbox relay publishes and the consumers read. Same code for real Kafka and the local
stand-in; only the bootstrap address differs."""

from market.config.env import env

KAFKA_BOOTSTRAP_SERVERS = env.list("KAFKA_BOOTSTRAP_SERVERS", default=["127.0.0.1:19092"])
#: CloudEvents `source` of every event the core publishes
EVENTS_SOURCE = env.str("EVENTS_SOURCE", default="/market/core")
#: outbox rows already delivered are deleted after this many seconds (the outbox is a ledger, not a queue)
OUTBOX_RETENTION_SECONDS = env.int("OUTBOX_RETENTION_SECONDS", default=3600)
OUTBOX_RELAY_BATCH_SIZE = env.int("OUTBOX_RELAY_BATCH_SIZE", default=500)
#: a consumer exits (non-zero) after this many failed attempts in a row, so its orchestrator restarts it
CONSUMER_MAX_CONSECUTIVE_FAILURES = env.int("CONSUMER_MAX_CONSECUTIVE_FAILURES", default=10)
CONSUMER_HEALTH_DIR = env.str("CONSUMER_HEALTH_DIR", default="/tmp")
#: static consumer-group membership id (set it to the pod name); empty for dynamic membership
CONSUMER_INSTANCE_ID = env.str("CONSUMER_INSTANCE_ID", default="") or None
