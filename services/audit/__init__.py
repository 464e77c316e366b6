"""The audit consumer: records every market event, in order, as the bureau's activity log."""
