"""Writes of the notification service, one module per concern: `subscriptions` (what a user asked to hear and
how: subscriptions, preference, webhook endpoint, unsubscribe), `fanout` (one event into notifications),
`deliveries` (e-mail and webhook attempts, retries, the sweep), `digests` (the daily mail) and `inbox` (read
marks).

Scheduling goes one way: `tasks.py` calls these services, and the services queue tasks by name
(`deliveries.delivery_schedule`), never by importing `tasks.py`."""
