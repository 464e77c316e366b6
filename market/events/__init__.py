"""The event backbone's write side: services call `publish(event)` inside their transaction."""
