"""The notification service: subscriptions, matching, in-app inbox, e-mail and signed webhooks."""
